"""Failover decisions: when is an instance down, and which reader becomes the writer.

Owns the pure part of failover, fed with events and read for decisions (no sockets, no
processes, no clock of its own): a per-instance health tracker that turns probe results and
process exits into a state, and the choice of the promotion target — the healthy reader with
the highest read point (its applied VDL), ties broken by promotion tier then name; with no
reader, a fresh writer is started on the same volume. Not running the failover (the
supervisor does: promote or spawn, move the writer endpoint), not fencing (the new writer's
volume recovery bumps the epoch on a write quorum of every protection group, and storage
refuses the old epoch from then on — invariant 4).

    probe ok ──────────────► HEALTHY ◄───────── probe ok
    probe failed ×N ──► DOWN      process exited ──► DOWN (at once)
    writer DOWN  ──► failover: promote max(read_lsn) among HEALTHY readers, else a fresh writer
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

# A writer busy with a long commit (pgbench -i's 1M-row COPY) can leave its event loop
# unanswered for tens of seconds; about a minute of failed probes before a live writer is
# declared hung. A writer process that exits is failed over at once, without probes.
FAILURES_BEFORE_DOWN = 14


class Health(enum.Enum):
    STARTING = "starting"
    HEALTHY = "healthy"
    SUSPECT = "suspect"      # a probe failed; not yet down
    DOWN = "down"


@dataclass(slots=True)
class HealthTracker:
    """Consecutive probe failures per instance; a process exit is DOWN at once."""

    failures_before_down: int = FAILURES_BEFORE_DOWN
    state: Health = Health.STARTING
    failures: int = 0

    def probed(self, ok: bool) -> Health:
        if ok:
            self.failures = 0
            self.state = Health.HEALTHY
        else:
            self.failures += 1
            self.state = Health.DOWN if self.failures >= self.failures_before_down else Health.SUSPECT
        return self.state

    def exited(self) -> Health:
        self.state = Health.DOWN
        return self.state

    def restarted(self) -> None:
        self.state = Health.STARTING
        self.failures = 0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A reader as the failover decision sees it."""

    name: str
    healthy: bool
    read_lsn: int | None      # None when it could not tell (unreachable, no status)
    promotion_tier: int = 1


@dataclass(frozen=True, slots=True)
class FailoverPlan:
    """What to do: promote `promote` (a reader's name), or start a fresh writer when it is None."""

    promote: str | None
    reason: str


class FailoverRefused(Exception):
    """A requested failover that cannot be done (unknown or unhealthy target)."""


def choose_target(candidates: list[Candidate], target: str | None = None) -> FailoverPlan:
    """The promotion target: `target` if given (it must be a healthy reader), else the best reader."""
    if target is not None:
        for c in candidates:
            if c.name == target:
                if not c.healthy:
                    raise FailoverRefused(f"instance {target} is not healthy and cannot be promoted")
                return FailoverPlan(target, f"promote {target} (requested)")
        raise FailoverRefused(f"instance {target} is not a reader of this cluster")
    usable = [c for c in candidates if c.healthy]
    if not usable:
        return FailoverPlan(None, "no healthy reader: start a fresh writer on the volume")
    best = max(usable, key=lambda c: (c.read_lsn if c.read_lsn is not None else -1, -c.promotion_tier,
                                      _reverse_name(c.name)))
    return FailoverPlan(best.name, f"promote {best.name} (read point {best.read_lsn})")


def _reverse_name(name: str) -> tuple[int, ...]:
    """Sorts names so that max() prefers the lexically smallest among equals."""
    return tuple(-ord(ch) for ch in name)
