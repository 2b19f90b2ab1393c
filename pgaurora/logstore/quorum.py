"""Quorum bookkeeping of the log client, sans I/O: feed allocations and acks, read PGCL/VCL/VDL.

Owns the durability arithmetic of the Aurora papers and nothing else — no sockets, no clock,
no asyncio (STYLE.md §3). The Volume feeds it; tests drive it directly.

    allocate(group, lsn, cpl)      the writer assigned `lsn` to a record of `group`
    ack(group, segment, scl)       `segment` reports it holds everything of the group up to `scl`

    PGCL(group) = the 4th highest SCL among the group's six segments (write quorum 4/6); while a
                  membership change is in flight (ABCDEF -> ABCDEG) it is the lower of the two
                  sets' values, so a write counts only with 4/6 of ABCDEF *and* 4/6 of ABCDEG.
    VCL         = every LSN at or below it is durable: just below the oldest record that some
                  group still waits for (or the last allocated LSN when none waits).
    VDL         = the highest CPL (end of a mini-transaction) at or below VCL.
"""

from __future__ import annotations

from collections import deque

WRITE_QUORUM = 4
READ_QUORUM = 3
REPLICAS = 6


class GroupQuorum:
    """SCLs of one protection group's segments and the PGCL they imply."""

    __slots__ = ("members", "new_members", "scl", "pgcl", "write_quorum")

    def __init__(self, members: list[str], new_members: list[str] | None = None, write_quorum: int = WRITE_QUORUM):
        self.members = list(members)
        self.new_members = list(new_members) if new_members else None
        self.scl: dict[str, int] = {}
        self.pgcl = 0
        self.write_quorum = write_quorum

    def _quorum_point(self, members: list[str]) -> int:
        if len(members) < self.write_quorum:
            return 0
        scl = self.scl
        scls = [scl.get(member, 0) for member in members]
        scls.sort(reverse=True)
        return scls[self.write_quorum - 1]

    def recompute(self) -> int:
        point = self._quorum_point(self.members)
        if self.new_members is not None:
            point = min(point, self._quorum_point(self.new_members))
        # PGCL never moves back: what 4/6 held stays durable.
        if point > self.pgcl:
            self.pgcl = point
        return self.pgcl

    def ack(self, member: str, scl: int) -> int:
        before = self.scl.get(member, 0)
        if scl > before:
            self.scl[member] = scl
            # The 4th highest SCL moves only when a segment crosses it: not when one below it
            # stays at or below it (the slowest acks of a batch), nor when one above it moves
            # further up; with two member sets (a membership change), always recompute.
            if (before <= self.pgcl < scl) or self.new_members is not None:
                return self.recompute()
        return self.pgcl

    def all_members(self) -> list[str]:
        if self.new_members is None:
            return list(self.members)
        return self.members + [m for m in self.new_members if m not in self.members]


class QuorumTracker:
    """The writer's view of durability across all protection groups."""

    def __init__(self, *, start_lsn: int = 0, vdl: int = 0, write_quorum: int = WRITE_QUORUM):
        self.groups: dict[int, GroupQuorum] = {}
        self.pending: dict[int, deque[int]] = {}
        self.cpls: deque[int] = deque()
        self.last_lsn = start_lsn
        self.vcl = vdl
        self.vdl = vdl
        self.write_quorum = write_quorum

    def add_group(self, group: int, members: list[str], new_members: list[str] | None = None) -> GroupQuorum:
        quorum = GroupQuorum(members, new_members, self.write_quorum)
        self.groups[group] = quorum
        self.pending[group] = deque()
        return quorum

    def set_membership(self, group: int, members: list[str], new_members: list[str] | None) -> None:
        quorum = self.groups[group]
        quorum.members = list(members)
        quorum.new_members = list(new_members) if new_members else None
        self.advance()

    def allocate(self, group: int, lsn: int, cpl: bool) -> None:
        self.pending[group].append(lsn)
        if cpl:
            self.cpls.append(lsn)
        self.last_lsn = lsn

    def ack(self, group: int, member: str, scl: int) -> bool:
        """Records an ack; returns True when the VDL advanced."""
        quorum = self.groups[group]
        before = quorum.pgcl
        pgcl = quorum.ack(member, scl)
        if pgcl == before:
            return False
        pending = self.pending[group]
        while pending and pending[0] <= pgcl:
            pending.popleft()
        # Only this group's PGCL moved: the others' pending records were trimmed at their acks.
        vcl = self.last_lsn
        for waiting in self.pending.values():
            if waiting and waiting[0] <= vcl:
                vcl = waiting[0] - 1
        return self._advance_to(vcl)

    def advance(self) -> bool:
        """Recomputes every group's PGCL (after a membership change), then VCL and VDL."""
        vcl = self.last_lsn
        for group, pending in self.pending.items():
            if pending and pending[0] - 1 < vcl:
                self.groups[group].recompute()
                while pending and pending[0] <= self.groups[group].pgcl:
                    pending.popleft()
                if pending and pending[0] - 1 < vcl:
                    vcl = pending[0] - 1
        return self._advance_to(vcl)

    def _advance_to(self, vcl: int) -> bool:
        """Moves VCL up to `vcl` and VDL to the highest CPL at or below it; True when VDL moved."""
        if vcl > self.vcl:
            self.vcl = vcl
        cpls = self.cpls
        vdl = self.vdl
        while cpls and cpls[0] <= self.vcl:
            vdl = cpls.popleft()
        if vdl > self.vdl:
            self.vdl = vdl
            return True
        return False

    def pgcl(self, group: int) -> int:
        return self.groups[group].pgcl

    def waiting_groups(self) -> list[int]:
        """Groups holding back the VCL (records allocated but not yet on a write quorum)."""
        return sorted(group for group, pending in self.pending.items() if pending)
