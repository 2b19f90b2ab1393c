"""Volume recovery on open: fence older writers, find VCL/VDL from read quorums, truncate above.

Owns the steps a new writer (restart or failover) takes before it accepts traffic, as in the
Aurora papers — there is no redo replay anywhere:

    1. Status from every group's segments (read quorum 3/6): epochs and durable VDL hints.
    2. epoch := highest seen + 1; SetEpoch on a write quorum (4/6) of every group. From now on
       segments refuse the old writer (invariant 4).
    3. RecoveryScan from a read quorum of every group: each segment's complete-chain LSNs above
       the floor (the highest durable VDL hint), and which of them are CPLs.
    4. VCL := walk up from the floor while the next LSN is held by some group (jumping the gaps
       left by earlier recoveries); VDL := highest CPL <= VCL.
    5. SetEpoch(truncate_above=VDL) on a write quorum of every group: records of older epochs above
       VDL never happened; a segment acks once it holds the group's chain up to VDL (it gossips for
       what it lacks), so everything the new writer exposes is on 4/6. LSN allocation restarts
       past VDL + LAL, so LSNs are never reused.

Not the steady-state write path (logstore.volume).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from pgaurora.errors import StorageUnavailable
from pgaurora.logstore import messages as m
from pgaurora.logstore.clock import Clock
from pgaurora.logstore.metadata import VolumeMetadata
from pgaurora.logstore.quorum import READ_QUORUM, WRITE_QUORUM
from pgaurora.logstore.transport import Transport


async def quorum_call(
    transport: Transport,
    clock: Clock,
    members: list[str],
    request: m.Request,
    need: int,
    *,
    rpc_timeout: float,
    deadline: float,
    accept: Callable[[m.Reply], bool],
    what: str,
    grace: float = 0.0,
) -> dict[str, m.Reply]:
    """Sends `request` to every member (retrying failures) until `need` accepted replies or the deadline."""
    replies: dict[str, m.Reply] = {}
    refusals: list[m.Refused] = []
    enough = asyncio.get_running_loop().create_future()

    async def one(member: str) -> None:
        while True:
            try:
                reply = await clock.wait_for(transport.call(member, request), rpc_timeout)
            except (ConnectionError, TimeoutError, OSError):
                await clock.sleep(min(rpc_timeout, 0.1))
                continue
            if accept(reply):
                replies[member] = reply
                if len(replies) >= need and not enough.done():
                    enough.set_result(None)
                return
            if isinstance(reply, m.Refused):
                refusals.append(reply)
                if reply.code == "stale_epoch" and not enough.done():
                    enough.set_exception(
                        StorageUnavailable(
                            f"volume recovery lost a race: {reply.message}",
                            detail="another writer has opened this volume with a newer epoch",
                        )
                    )
                    return
            await clock.sleep(min(rpc_timeout, 0.1))

    tasks = [asyncio.ensure_future(one(member)) for member in members]
    try:
        await clock.wait_for(asyncio.shield(enough), deadline)
        if grace:
            # Past the quorum, a short wait for the rest: a segment that lost data (and is being
            # repaired) is then outvoted by its peers rather than being one of only three voices.
            everyone = asyncio.gather(*tasks, return_exceptions=True)
            try:
                await clock.wait_for(asyncio.shield(everyone), grace)
            except TimeoutError:
                pass
    except TimeoutError:
        detail = f"{len(replies)} of {len(members)} segments answered; {need} are needed"
        if refusals:
            detail += f"; last refusal: {refusals[-1].message}"
        raise StorageUnavailable(f"could not reach a quorum of storage segments for {what}", detail=detail) from None
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return dict(replies)


def _holds(lsn: int) -> Callable[[m.Reply], bool]:
    def accept(reply: m.Reply) -> bool:
        return isinstance(reply, m.Ack) and reply.scl >= lsn

    return accept


@dataclass(frozen=True, slots=True)
class Recovered:
    epoch: int
    vdl: int
    next_lsn: int
    last_lsn_by_group: dict[int, int]
    scl_by_group: dict[int, dict[str, int]]


async def recover(
    metadata: VolumeMetadata,
    transport: Transport,
    clock: Clock,
    *,
    lal: int,
    rpc_timeout: float,
    deadline: float,
) -> Recovered:
    """Runs steps 1-5 above and updates `metadata` (epoch, truncations, gaps); the caller saves it."""
    volume = metadata.volume_id
    groups = list(enumerate(metadata.groups))

    def members_of(placement) -> list[str]:
        return placement.members + [x for x in placement.new_members or [] if x not in placement.members]

    # 1. Status from a read quorum of every group.
    statuses: dict[int, dict[str, m.Reply]] = {}
    for group, placement in groups:
        statuses[group] = await quorum_call(
            transport, clock, members_of(placement), m.Status(volume, group), READ_QUORUM,
            rpc_timeout=rpc_timeout, deadline=deadline, accept=lambda r: isinstance(r, m.StatusReply),
            what=f"recovery status of protection group {group}", grace=rpc_timeout,
        )
    seen_epochs = [r.epoch for replies in statuses.values() for r in replies.values() if isinstance(r, m.StatusReply)]
    floor = max(
        [r.vdl_hint for replies in statuses.values() for r in replies.values() if isinstance(r, m.StatusReply)],
        default=0,
    )
    epoch = max([metadata.epoch, *seen_epochs]) + 1
    metadata.epoch = epoch

    # 2. Fence: the new epoch on a write quorum of every group.
    truncations = list(metadata.truncations)
    for group, placement in groups:
        await quorum_call(
            transport, clock, members_of(placement),
            m.SetEpoch(volume, group, epoch, -1, placement.members, truncations),
            WRITE_QUORUM, rpc_timeout=rpc_timeout, deadline=deadline,
            accept=lambda r: isinstance(r, m.Ack), what=f"fencing protection group {group}",
        )

    # 3. Chains above the floor from a read quorum of every group.
    held: set[int] = set()
    cpls: set[int] = set()
    max_lsn = floor
    last_at_floor: dict[int, int] = {}
    scans: dict[int, dict[str, m.RecoveryReply]] = {}
    for group, placement in groups:
        replies = await quorum_call(
            transport, clock, members_of(placement), m.RecoveryScan(volume, group, epoch, floor),
            READ_QUORUM, rpc_timeout=rpc_timeout, deadline=deadline,
            accept=lambda r: isinstance(r, m.RecoveryReply), what=f"recovery scan of protection group {group}",
            grace=rpc_timeout,
        )
        scans[group] = {k: v for k, v in replies.items() if isinstance(v, m.RecoveryReply)}
        for reply in scans[group].values():
            held.update(reply.lsns)
            cpls.update(reply.cpls)
            max_lsn = max(max_lsn, reply.max_lsn)
            last_at_floor[group] = max(last_at_floor.get(group, 0), reply.last_at_floor)

    # 4. VCL and VDL.
    gaps = sorted(metadata.gaps)
    vcl = floor
    for _ in range(len(held) + len(gaps) + 1):
        following = vcl + 1
        for low, high in gaps:
            if low < following < high:
                following = high
        if following in held:
            vcl = following
        else:
            break
    vdl = max((lsn for lsn in cpls if lsn <= vcl), default=floor)
    # Past anything the old writer can have allocated: LSNs are never reused.
    previous_start = max((start for _vdl, start in gaps), default=1)
    next_lsn = max(max_lsn, vdl + lal, previous_start - 1 + lal) + 1
    last_lsn_by_group = {}
    for group, _placement in groups:
        chain = [lsn for reply in scans[group].values() for lsn in reply.lsns if lsn <= vdl]
        last_lsn_by_group[group] = max(chain, default=last_at_floor.get(group, 0))

    # 5. Truncate above VDL on a write quorum of every group, under the new epoch.
    metadata.truncations.append((epoch, vdl))
    metadata.gaps.append((vdl, next_lsn))
    truncations = list(metadata.truncations)
    scl_by_group: dict[int, dict[str, int]] = {}
    for group, placement in groups:
        replies = await quorum_call(
            transport, clock, members_of(placement),
            m.SetEpoch(volume, group, epoch, vdl, placement.members, truncations, last_lsn_by_group[group]),
            WRITE_QUORUM, rpc_timeout=rpc_timeout, deadline=deadline,
            # Every record up to VDL must be on a write quorum before the volume opens: a segment
            # acks only once gossip has filled it up to the group's last LSN at or below VDL.
            accept=_holds(last_lsn_by_group[group]),
            what=f"truncating protection group {group}",
        )
        scl_by_group[group] = {k: v.scl for k, v in replies.items() if isinstance(v, m.Ack)}
    return Recovered(epoch, vdl, next_lsn, last_lsn_by_group, scl_by_group)
