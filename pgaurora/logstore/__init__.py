"""pgaurora.logstore — Aurora's quorum-replicated storage volume: the log is the database.

Read bottom-up (DESIGN.md §3):

    page.py        8 KiB logical page, its checksummed image, redo ops and `apply` (shared with compute)
    records.py     redo records (lsn, page, backlinks, xid, op, payload, CPL flag, epoch) and their frames
    clock.py       real and simulated time (all timers of this package go through it)
    hotlog.py      append-only log files: fsync before ack, group commit, sync rounds
    nodelog.py     a storage node's durable log: one fsync for a turn's batches of every segment
    recordindex.py a segment's in-memory index of records by LSN and by (page, LSN)
    segment.py     one replica of one protection group: index, SCL, materialization, coalescing, GC
    messages.py    storage RPC requests and replies (msgspec)
    node.py        a storage node: hosts segments, answers RPCs, gossips, repairs from peers
    transport.py   the Transport seam and the in-process transport
    simnet.py      a simulated network (partition, drop, delay, reorder) on the simulated clock
    tcp.py         length-prefixed msgspec frames over asyncio TCP; node_main (the storage-node command)
    quorum.py      sans-I/O quorum bookkeeping: acks -> PGCL -> VCL -> VDL
    metadata.py    volume config, persistent metadata (groups, placements, epoch), placement
    recovery.py    volume recovery on open: fence, read quorums, VCL/VDL, truncate — no redo replay
    sender.py      the log client's pipelined senders: a turn's records in one batch, acks in callbacks
    grouplog.py    one protection group's records until a write quorum holds them: the next batch
    volume.py      the log client (writer side): append_mtr, wait_durable, read_page
    membership.py  repair of a lost replica: ABCDEF -> (ABCDEF and ABCDEG) -> ABCDEG
"""

from pgaurora.logstore.metadata import NodeSpec, VolumeConfig
from pgaurora.logstore.node import StorageNode
from pgaurora.logstore.page import Page, RedoOp, apply
from pgaurora.logstore.transport import InProcessTransport, Transport
from pgaurora.logstore.volume import Volume


def node_main(argv: list[str] | None = None) -> int:
    """Runs a storage node process: `--data DIR --listen HOST:PORT --az a` (prints READY host:port)."""
    from pgaurora.logstore.tcp import node_main as run

    return run(argv)


__all__ = [
    "InProcessTransport",
    "NodeSpec",
    "Page",
    "RedoOp",
    "StorageNode",
    "Transport",
    "Volume",
    "VolumeConfig",
    "apply",
    "node_main",
]
