"""Membership change of protection groups: repairing a lost replica without stalling writes.

Owns the ABCDEF -> (4/6 of ABCDEF and 4/6 of ABCDEG) -> ABCDEG transition of the 2018 Aurora
paper, driven by the writer. Not the dual-quorum arithmetic (logstore.quorum), not the fill of
the new segment (its node gossips with peers, logstore.node).

    1. metadata: new_members = ABCDEG (persisted); the tracker now needs both write quorums,
       and a sender starts for G (writes go to all seven; F is usually dead)
    2. G is created with the truncation history and fills itself from its peers by gossip
    3. once G holds everything the group had at step 1: members = ABCDEG, F is dropped

A writer that restarts between 1 and 3 reopens in the dual state (the metadata says so) and
`replace_node` with the same arguments resumes the change. With `VolumeConfig.repair_after`
set, the Volume starts the change itself for a node unreachable that long, taking a spare.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pgaurora.errors import StorageUnavailable
from pgaurora.logstore import messages as m

if TYPE_CHECKING:
    from pgaurora.logstore.metadata import VolumeConfig
    from pgaurora.logstore.volume import Volume


def pick_spare(config: VolumeConfig, dead: str) -> str | None:
    """Takes a spare node for `dead` (same AZ if possible) and swaps it into config.nodes."""
    if not config.spare_nodes:
        return None
    az = next((node.az for node in config.nodes if node.address == dead), None)
    spare = next((node for node in config.spare_nodes if node.az == az), config.spare_nodes[0])
    config.spare_nodes.remove(spare)
    config.nodes = [spare if node.address == dead else node for node in config.nodes]
    return spare.address


async def replace_node(volume: Volume, old: str, new: str, *, catch_up_timeout: float = 30.0) -> list[int]:
    """Moves every segment on `old` to `new`; returns the groups changed."""
    changed = []
    clock = volume.clock
    config = volume.config
    volume_id = volume.metadata.volume_id
    for group, placement in enumerate(volume.metadata.groups):
        if old not in placement.members:
            continue
        if placement.new_members and new in placement.new_members:
            new_members = placement.new_members  # resuming an interrupted change
        else:
            new_members = [new if member == old else member for member in placement.members]
            placement.new_members = new_members
            volume.metadata.save(config.metadata_path)
        volume.tracker.set_membership(group, placement.members, new_members)
        volume._start_sender(group, new)
        target = volume.tracker.groups[group].pgcl
        await volume._bring_up(group, new)
        deadline = clock.now() + catch_up_timeout
        while True:
            try:
                reply = await clock.wait_for(volume.transport.call(new, m.Status(volume_id, group)), config.rpc_timeout)
            except (ConnectionError, TimeoutError, OSError):
                reply = None
            if isinstance(reply, m.StatusReply) and reply.exists and reply.scl >= target:
                if volume.tracker.ack(group, new, reply.scl):
                    volume._on_vdl_advanced()
                break
            if clock.now() > deadline:
                raise StorageUnavailable(
                    f"new segment on {new} of protection group {group} did not catch up in time",
                    detail=f"it must hold the group's records up to LSN {target}",
                )
            await clock.sleep(config.retry_interval)
        placement.members = new_members
        placement.new_members = None
        volume.metadata.save(config.metadata_path)
        volume.tracker.set_membership(group, new_members, None)
        volume._read_order.pop(group, None)
        sender = volume._senders.pop((group, old), None)
        if sender is not None:
            sender.cancel()
        for member in new_members:
            try:
                await clock.wait_for(
                    volume.transport.call(member, m.ChangeMembership(volume_id, group, volume.epoch, new_members)),
                    config.rpc_timeout,
                )
            except (ConnectionError, TimeoutError, OSError):
                pass
        changed.append(group)
    return changed
