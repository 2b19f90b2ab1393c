"""pgaurora: a PostgreSQL-compatible database server on Amazon Aurora's architecture.

Packages, top (closest to the client) to bottom (closest to the disk); imports go downward only
(the import-linter contract in pyproject.toml checks it):

    cli          the `pgaurora` command: serve, status, storage-node, instance
    cluster      supervisor: processes, endpoints, failover, cluster metadata
    server       asyncio listeners; the only code that touches client sockets
    wire         Postgres v3 protocol, sans-I/O: bytes <-> messages, value formats
    session      per-connection state: transaction blocks, prepared statements, portals, settings
    planner      pglast parse tree -> bound, typed query -> optimized plan
    executor     runs plans; expression closures; rows as plain tuples, in batches
    catalog      tables, columns, indexes, types, functions; pg_catalog views
    txn          xids, snapshots, visibility, clog, isolation levels
    access       heap tuples and B-tree entries on pages; every change emits redo
    pagecache    pages at an LSN on the compute instance; eviction just drops a page
    logstore     the storage volume: redo records, segments, storage nodes, quorum log client
    security     SCRAM, password rules (pg_hba), TLS, encryption at rest
    datatypes    PostgreSQL types: OIDs, Python value representation, text and binary I/O
    errors       PgError and its SQLSTATE subclasses
"""

__version__ = "0.1.0"
