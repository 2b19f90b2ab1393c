"""Tuple visibility entry points (contracts.md): PostgreSQL's rules live in txn.snapshot.

Owns nothing new; re-exports `visible` and `Snapshot` under the name the contract uses.
"""

from pgaurora.txn.snapshot import Snapshot, visible

__all__ = ["Snapshot", "visible"]
