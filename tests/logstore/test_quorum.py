"""Sans-I/O quorum bookkeeping: feed allocations and acks, read PGCL, VCL and VDL."""

from __future__ import annotations

from pgaurora.logstore.quorum import QuorumTracker
from pgaurora.logstore.records import FLAG_CPL, decode_record, decode_records, encode_record

ABCDEF = ["A", "B", "C", "D", "E", "F"]


def test_pgcl_needs_four_of_six() -> None:
    t = QuorumTracker()
    t.add_group(0, ABCDEF)
    t.allocate(0, 1, False)
    t.allocate(0, 2, True)
    for member in "ABC":
        assert not t.ack(0, member, 2)
    assert (t.pgcl(0), t.vcl, t.vdl) == (0, 0, 0)
    assert t.ack(0, "D", 2)
    assert (t.pgcl(0), t.vcl, t.vdl) == (2, 2, 2)


def test_vdl_is_highest_cpl_below_vcl_across_groups() -> None:
    t = QuorumTracker()
    t.add_group(0, ABCDEF)
    t.add_group(1, ABCDEF)
    t.allocate(0, 1, False)
    t.allocate(1, 2, True)  # MTR 1..2 spans two groups
    t.allocate(0, 3, True)
    for member in "ABCD":
        t.ack(0, member, 3)
    assert (t.vcl, t.vdl) == (1, 0)  # group 1 still holds back LSN 2
    assert t.waiting_groups() == [1]
    for member in "ABCD":
        t.ack(1, member, 2)
    assert (t.vcl, t.vdl) == (3, 3)


def test_partial_acks_advance_vcl_but_not_past_a_cpl() -> None:
    t = QuorumTracker()
    t.add_group(0, ABCDEF)
    for lsn in (1, 2, 3):
        t.allocate(0, lsn, lsn == 3)
    for member in "ABCD":
        t.ack(0, member, 2)
    assert (t.vcl, t.vdl) == (2, 0)


def test_membership_change_needs_both_quorums() -> None:
    t = QuorumTracker()
    t.add_group(0, ABCDEF)
    t.set_membership(0, ABCDEF, ["A", "B", "C", "D", "E", "G"])
    t.allocate(0, 1, True)
    for member in "ABCF":
        t.ack(0, member, 1)
    assert t.vdl == 0  # 4/6 of ABCDEF but only 3/6 of ABCDEG
    t.ack(0, "G", 1)
    assert t.vdl == 1
    t.set_membership(0, ["A", "B", "C", "D", "E", "G"], None)
    t.allocate(0, 2, True)
    for member in "ABCG":
        t.ack(0, member, 2)
    assert t.vdl == 2


def test_record_codec_and_crc() -> None:
    frame = encode_record(5, 9, 3, 4, 77, 2, FLAG_CPL, 1, b"payload")
    record, end = decode_record(frame)
    assert end == len(frame)
    assert record.lsn == 5 and record.page == 9 and record.prev_page_lsn == 3 and record.prev_lsn == 4
    assert record.xid == 77 and record.is_cpl and record.epoch == 1 and record.payload == b"payload"
    assert decode_records(frame + frame)[1] == record
    damaged = bytearray(frame)
    damaged[-1] ^= 1
    import pytest

    from pgaurora.errors import DataCorrupted

    with pytest.raises(DataCorrupted):
        decode_record(bytes(damaged))
