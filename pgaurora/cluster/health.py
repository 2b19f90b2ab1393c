"""The supervisor's health loop: probe every instance, mark it down, fail over or restart it.

Owns the periodic round (every HEALTH_INTERVAL): an SSLRequest probe per instance fed to its
HealthTracker (cluster.failover); a writer that goes DOWN is failed over (cluster.topology), a
reader that does is killed (its monitor restarts it); every READ_POINT_EVERY rounds the read
points and lag of the healthy instances (aurora_replica_status). Not the processes
(cluster.supervisor), not the decisions (cluster.failover).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from pgaurora.cluster.failover import Health
from pgaurora.cluster.probe import probe_instance, read_point

if TYPE_CHECKING:
    from pgaurora.cluster.supervisor import Supervisor

log = logging.getLogger(__name__)

HEALTH_INTERVAL = 0.5
READ_POINT_EVERY = 2          # health rounds between read-point queries


async def health_loop(sup: Supervisor) -> None:
    while not sup.stopping:
        await asyncio.sleep(HEALTH_INTERVAL)  # the probe period
        try:
            await health_round(sup)
        except Exception:  # a probe bug must not end health checking
            log.exception("health round failed")


async def health_round(sup: Supervisor) -> None:
    sup.rounds += 1
    instances = [r for r in sup.meta.instances() if r.port > 0 and sup.procs.get(r.name) is not None
                 and sup.health[r.name].state is not Health.STARTING]
    results = await asyncio.gather(*(probe_instance(r.host, r.port) for r in instances))
    for rec, ok in zip(instances, results, strict=True):
        tracker = sup.health[rec.name]
        if tracker.state is Health.DOWN and not ok:
            continue
        state = tracker.probed(ok)
        rec.health = state.value
        if state is Health.DOWN:
            proc = sup.procs[rec.name]
            sup.meta.notes.append(f"{time.strftime('%H:%M:%S')} {rec.role} {rec.name} (pid {proc.pid}) "
                                   f"failed {tracker.failures} health checks")
            del sup.meta.notes[:-10]
            log.warning("%s %s (pid %d) failed %d probes", rec.role, rec.name, proc.pid, tracker.failures)
            if rec.role == "writer":
                from pgaurora.cluster.topology import failover
                sup.spawn_task(failover(sup, reason=f"writer {rec.name} failed its health checks",
                                         expected_pid=proc.pid))
            else:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()   # its monitor restarts it as a reader
    if sup.rounds % READ_POINT_EVERY == 0:
        await refresh_read_points(sup)


async def refresh_read_points(sup: Supervisor) -> None:
    instances = [r for r in sup.meta.instances() if sup.is_healthy(r)]
    points = await asyncio.gather(*(read_point(r.host, r.port, r.name) for r in instances))
    for rec, point in zip(instances, points, strict=True):
        if point is not None:
            rec.read_lsn, rec.lag_ms = point
            if rec.role == "writer":
                rec.lag_ms = 0.0
