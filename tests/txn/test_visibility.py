"""HeapTupleSatisfiesMVCC, table-driven (PostgreSQL's cases), on Snapshot.visible."""

from __future__ import annotations

import pytest

from pgaurora.txn import Snapshot, XidStatus, visible

C, A, R = XidStatus.COMMITTED, XidStatus.ABORTED, XidStatus.IN_PROGRESS
# xid 10..19 finished before the snapshot; 20 and 22 running; 25 is ours; 26 our aborted subxid
STATUS = {10: C, 11: A, 12: C, 20: R, 22: R, 25: R, 26: A, 27: R}
OWN = {25, 27}


def snap(curcid=5):
    return Snapshot(20, 24, frozenset({20, 22, 25, 27}), OWN, curcid, STATUS.__getitem__)


CASES = [
    # (name, xmin, cmin, xmax, cmax, visible)
    ("committed, never deleted", 10, 0, 0, 0, True),
    ("inserter aborted", 11, 0, 0, 0, False),
    ("inserter running at snapshot", 20, 0, 0, 0, False),
    ("inserter started after snapshot", 24, 0, 0, 0, False),
    ("ours, earlier command", 25, 4, 0, 0, True),
    ("ours, this command", 25, 5, 0, 0, False),
    ("ours, later command", 25, 6, 0, 0, False),
    ("ours, deleted by us earlier", 25, 1, 25, 4, False),
    ("ours, deleted by this command", 25, 1, 25, 5, True),
    ("ours, deleted in our later subxid earlier command", 25, 1, 27, 2, False),
    ("ours, deleter was our aborted subxid", 25, 1, 26, 2, True),
    ("our aborted subxid inserted it", 26, 0, 0, 0, False),
    ("deleted by committed before snapshot", 10, 0, 12, 0, False),
    ("deleter aborted", 10, 0, 11, 0, True),
    ("deleter running at snapshot", 10, 0, 22, 0, True),
    ("deleter started after snapshot", 10, 0, 30, 0, True),
    ("deleted by us earlier command", 10, 0, 25, 3, False),
    ("deleted by us this command", 10, 0, 25, 5, True),
    ("frozen xmin", 2, 0, 0, 0, True),
]


@pytest.mark.parametrize(("name", "xmin", "cmin", "xmax", "cmax", "expect"), CASES, ids=[c[0] for c in CASES])
def test_visibility(name, xmin, cmin, xmax, cmax, expect):
    s = snap()
    status = dict(STATUS)
    status.setdefault(2, C)
    s.status = lambda x: status.get(x, C if x < 20 else R)
    assert visible(s, xmin, cmin, xmax, cmax) is expect
    assert s.visible(xmin, cmin, xmax, cmax) is expect


def test_xid_visible():
    s = snap()
    s.status = lambda x: STATUS.get(x, C)
    assert s.xid_visible(10) and not s.xid_visible(11) and not s.xid_visible(20)
    assert s.xid_visible(25) and not s.xid_visible(30)
