"""Golden-script runner for the storage volume on the simulated network and clock.

A script is a sequence of `> command` lines, each followed by the output it must produce.
`UPDATE_GOLDEN=1` rewrites the outputs. Commands (nodes are n1..n6, AZs a a b b c c):

    open                         recovery of a new writer; prints epoch, VDL and the next LSN
    commit NAME PAGE:OP[:DATA]..  one MTR (ops: init, append, set:I:DATA, delete:I); waits in background
    run SECONDS                  advances the clock; prints finished commits, then vcl/vdl
    status                       the writer's view: PGCL and SCL per segment of each group
    segments                     the storage view: SCL and epoch of every segment
    read PAGE [LSN]              page items as of LSN (default VDL), read from one segment
    partition A [B ...] [| C ..] cut links between A.. and C.. (default: everyone else); heal
    stabilize                    heal, then run until every segment holds its group's PGCL
    drop RATE | jitter SECONDS | delay NODE SECONDS
    crash NODE | restart NODE | wipe NODE | node NAME AZ (a spare node)
    spare NAME AZ SECONDS        a spare for automatic repair of a node unreachable that long
    crash writer                 the writer dies: senders stop, nothing else is persisted
    replace OLD NEW              membership change ABCDEF -> ABCDEG
    flip NODE GROUP              flips a bit in the middle of that segment's oldest log file
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from pgaurora.errors import PgError
from pgaurora.logstore import NodeSpec, StorageNode, Volume, VolumeConfig
from pgaurora.logstore import page as pagemod
from pgaurora.logstore.clock import SimClock
from pgaurora.logstore.simnet import SimNetwork

AZ = {"n1": "a", "n2": "a", "n3": "b", "n4": "b", "n5": "c", "n6": "c"}


def parse(text: str) -> list[tuple[str, list[str]]]:
    """[(command, expected output lines)]; comments (#) and blank lines before a command are kept out."""
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("> "):
            steps.append((line[2:].strip(), []))
        elif steps and line.strip() and not line.startswith("#"):
            steps[-1][1].append(line)
    return steps


def render(text: str, outputs: list[list[str]]) -> str:
    """The script text with each command's output replaced by `outputs`."""
    lines: list[str] = []
    index = -1
    for line in text.splitlines():
        if line.startswith("> "):
            index += 1
            lines.append(line)
            lines.extend(outputs[index])
        elif line.startswith("#") or not line.strip():
            lines.append(line)
    return "\n".join(lines) + "\n"


def describe(op: str) -> tuple[int, bytes]:
    name, _, rest = op.partition(":")
    if name == "init":
        return pagemod.RedoOp.INIT, pagemod.encode_init(1)
    if name == "append":
        return pagemod.RedoOp.APPEND, rest.encode()
    if name == "set":
        index, _, data = rest.partition(":")
        return pagemod.RedoOp.SET, pagemod.encode_set(int(index), data.encode())
    if name == "delete":
        return pagemod.RedoOp.DELETE, pagemod.encode_delete(int(rest))
    raise ValueError(f"unknown op {op}")


class Scenario:
    def __init__(self, root: Path, seed: int = 1):
        self.root = root
        self.clock = SimClock()
        self.net = SimNetwork(self.clock, seed=seed)
        self.specs = {name: NodeSpec(name, az) for name, az in AZ.items()}
        self.nodes: dict[str, StorageNode] = {}
        self.volume: Volume | None = None
        self.commits: dict[str, asyncio.Task] = {}
        self.reported: set[str] = set()
        self.spares: list[NodeSpec] = []
        self.repair_after: float | None = None
        self.retention_lsns = 100_000
        for name in AZ:
            self.start_node(name)

    def start_node(self, name: str) -> None:
        node = StorageNode(
            self.root / name, name, self.specs[name].az, transport=self.net.endpoint(name), clock=self.clock,
            fsync=False, gossip_delay=0.05, background_interval=0, rpc_timeout=0.2,
        )
        node.start()
        self.net.register(node)
        self.nodes[name] = node

    async def stop_node(self, name: str) -> None:
        node = self.nodes.pop(name)
        self.net.unregister(name)
        await node.stop()

    def config(self) -> VolumeConfig:
        return VolumeConfig(
            self.root / "volume.json", [self.specs[n] for n in AZ], pages_per_group=8, lal=1000,
            write_timeout=2.0, recovery_timeout=10.0, rpc_timeout=0.2, read_timeout=0.2, retry_interval=0.1,
            clock=self.clock, spare_nodes=list(self.spares), repair_after=self.repair_after,
            retention_lsns=self.retention_lsns,
        )

    async def drive(self, awaitable, limit: float = 30.0):
        task = asyncio.ensure_future(awaitable)
        for _ in range(int(limit / 0.01)):
            if task.done():
                break
            await self.clock.advance(0.01)
        return await task

    async def close(self) -> None:
        for task in self.commits.values():
            task.cancel()
        await asyncio.gather(*self.commits.values(), return_exceptions=True)
        if self.volume is not None:
            await self.drive(self.volume.close())
        for name in list(self.nodes):
            await self.stop_node(name)

    def _finished(self) -> list[str]:
        out = []
        for name, task in self.commits.items():
            if name in self.reported or not task.done():
                continue
            self.reported.add(name)
            error = task.exception()
            if error is None:
                out.append(f"{name} durable")
            elif isinstance(error, PgError):
                out.append(f"{name} error {error.sqlstate} {error.message}")
            else:
                out.append(f"{name} error {error!r}")
        return out

    async def execute(self, command: str) -> list[str]:
        words = command.split()
        verb, args = words[0], words[1:]
        try:
            return await getattr(self, "cmd_" + verb)(*args)
        except PgError as exc:
            return [f"error {exc.sqlstate} {exc.message}"]

    async def cmd_open(self) -> list[str]:
        self.volume = await self.drive(Volume.open(self.config(), self.net.endpoint("writer")))
        v = self.volume
        return [f"epoch={v.epoch} vdl={v.vdl} next_lsn={v.next_lsn}"]

    async def cmd_commit(self, name: str, *ops: str) -> list[str]:
        assert self.volume is not None
        records = []
        for op in ops:
            page, _, rest = op.partition(":")
            code, payload = describe(rest)
            records.append((int(page), code, payload))
        last = self.volume.append_mtr(records)
        self.commits[name] = asyncio.ensure_future(self.volume.wait_durable(last))
        return [f"{name}: lsn {last - len(records) + 1}..{last}"]

    async def cmd_run(self, seconds: str) -> list[str]:
        await self.clock.advance(float(seconds))
        out = self._finished()
        if self.volume is not None:
            out.append(f"vcl={self.volume.vcl} vdl={self.volume.vdl}")
        return out

    async def cmd_status(self) -> list[str]:
        assert self.volume is not None
        out = []
        for group, quorum in sorted(self.volume.tracker.groups.items()):
            scls = " ".join(f"{m}={quorum.scl.get(m, 0)}" for m in quorum.all_members())
            extra = f" joining={','.join(quorum.new_members)}" if quorum.new_members else ""
            out.append(f"group {group}: pgcl={quorum.pgcl} {scls}{extra}")
        return out

    async def cmd_segments(self) -> list[str]:
        out = []
        for name in sorted(self.nodes):
            for (_, group), seg in sorted(self.nodes[name].segments.items()):
                out.append(f"{name} group {group}: scl={seg.scl} epoch={seg.epoch} records={len(seg.by_lsn)}")
        return out

    async def cmd_read(self, page: str, lsn: str | None = None) -> list[str]:
        assert self.volume is not None
        image = await self.drive(self.volume.read_page(int(page), int(lsn) if lsn else None))
        if image is None:
            return [f"page {page}: none"]
        p = pagemod.Page.from_bytes(image)
        source = self.volume.last_read_segment
        return [f"page {page} lsn={p.lsn}: {[i.decode() for i in p.items]} (from {source})"]

    async def cmd_partition(self, *names: str) -> list[str]:
        if "|" in names:
            index = names.index("|")
            self.net.partition(list(names[:index]), list(names[index + 1 :]))
        else:
            self.net.partition(list(names))
        return []

    async def cmd_stabilize(self) -> list[str]:
        """Heals the network and runs until every live segment holds its group's PGCL (bounded)."""
        self.net.heal()
        assert self.volume is not None
        start = self.clock.now()
        for _ in range(100):
            await self.clock.advance(0.1)
            behind = [
                (name, group)
                for name, node in self.nodes.items()
                for (_, group), seg in node.segments.items()
                if group in self.volume.tracker.groups
                and name in self.volume.tracker.groups[group].all_members()
                and seg.scl < self.volume.tracker.groups[group].pgcl
            ]
            if not behind:
                break
        out = self._finished()
        out.append(f"stable after {self.clock.now() - start:.1f}s" if not behind else f"still behind: {behind}")
        out.append(f"vcl={self.volume.vcl} vdl={self.volume.vdl}")
        return out

    async def cmd_heal(self) -> list[str]:
        self.net.heal()
        return []

    async def cmd_drop(self, rate: str) -> list[str]:
        self.net.drop_rate = float(rate)
        return []

    async def cmd_jitter(self, seconds: str) -> list[str]:
        self.net.jitter = float(seconds)
        return []

    async def cmd_delay(self, name: str, seconds: str) -> list[str]:
        self.net.link_delay[name] = float(seconds)
        return []

    async def cmd_crash(self, name: str) -> list[str]:
        if name == "writer":
            assert self.volume is not None
            self.volume._closed = True
            for task in self.volume._senders.values():
                task.cancel()
            for task in self.commits.values():
                task.cancel()
            await asyncio.gather(*self.volume._senders.values(), *self.commits.values(), return_exceptions=True)
            self.commits.clear()
            self.volume = None
            return []
        await self.stop_node(name)
        return []

    async def cmd_restart(self, name: str) -> list[str]:
        self.start_node(name)
        return []

    async def cmd_wipe(self, name: str) -> list[str]:
        if name in self.nodes:
            await self.stop_node(name)
        shutil.rmtree(self.root / name, ignore_errors=True)
        self.start_node(name)
        return []

    async def cmd_node(self, name: str, az: str) -> list[str]:
        self.specs[name] = NodeSpec(name, az)
        self.start_node(name)
        return []

    async def cmd_spare(self, name: str, az: str, repair_after: str) -> list[str]:
        """A spare node for automatic repair of nodes unreachable for `repair_after` seconds."""
        self.specs[name] = NodeSpec(name, az)
        self.start_node(name)
        self.spares.append(self.specs[name])
        self.repair_after = float(repair_after)
        return []

    async def cmd_replace(self, old: str, new: str) -> list[str]:
        assert self.volume is not None
        groups = await self.drive(self.volume.replace_node(old, new))
        return [f"replaced {old} by {new} in groups {groups}"]

    async def cmd_flip(self, name: str, group: str) -> list[str]:
        directory = self.root / name / "volume" / f"group-{int(group):06d}"
        files = sorted(p for p in directory.glob("log.*") if p.stat().st_size)
        data = bytearray(files[0].read_bytes())
        data[len(data) // 2] ^= 0x10
        files[0].write_bytes(bytes(data))
        return [f"flipped a bit in {name} {files[0].name}"]
