"""Cluster supervisor: starts storage nodes and instances, endpoints, failover, metadata."""
