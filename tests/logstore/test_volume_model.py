"""Property test: writes, node crashes and restarts, partitions, drops and bit flips in segment
files, writer crashes — checked against a reference model of the pages.

Invariants checked after every step that settles, and at the end:
- every acknowledged commit is at or below the VDL, also after a new writer's recovery;
- nothing above the final VDL is visible: pages read at VDL equal the model applied to VDL;
- a page materialized at any LSN (at or below VDL) equals the model's page at that LSN, and
  only a read point below the GC horizon (VDL - retention) may be refused.
Faults stay inside Aurora's model: at most two of the six nodes are "out" at once (down,
partitioned, or restarted after a bit flip and not yet refilled from peers).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from pgaurora.errors import StorageUnavailable
from pgaurora.logstore import page as pagemod
from pgaurora.logstore.page import Page, RedoOp
from tests.logstore.golden import AZ, Scenario

PAGES = (1, 2, 9, 17)  # groups 0, 0, 1, 2 with 8 pages per group
NODES = tuple(AZ)


class VolumeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.root = Path(tempfile.mkdtemp(prefix="logstore-model-"))
        self.scenario = Scenario(self.root, seed=7)
        self.scenario.retention_lsns = 6  # segments collect page versions older than VDL - 6
        self.model: list[tuple[int, int, int, bytes]] = []  # (lsn, page, op, payload) in LSN order
        self.acked: list[int] = []
        self.pending: list[tuple[int, asyncio.Task]] = []
        self.down: set[str] = set()
        self.partitioned: set[str] = set()
        self.repairing: dict[str, dict[int, int]] = {}  # node -> {group: SCL it must reach}
        self.counter = 0

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        try:
            self.run(self.cancel_pending())
            self.run(self.scenario.close())
        finally:
            self.loop.close()
            shutil.rmtree(self.root, ignore_errors=True)

    async def cancel_pending(self) -> None:
        for _, task in self.pending:
            task.cancel()
        await asyncio.gather(*(t for _, t in self.pending), return_exceptions=True)
        self.pending.clear()

    # -- helpers -----------------------------------------------------------------------------------

    @property
    def volume(self):
        assert self.scenario.volume is not None
        return self.scenario.volume

    def out(self) -> set[str]:
        return self.down | self.partitioned | set(self.repairing)

    def model_page(self, page: int, lsn: int) -> Page | None:
        result = None
        for record_lsn, record_page, op, payload in self.model:
            if record_lsn > lsn:
                break
            if record_page == page:
                result = pagemod.apply(result, op, payload, record_lsn)
        return result

    def collect(self) -> None:
        still = []
        for lsn, task in self.pending:
            if task.done():
                if not task.cancelled() and task.exception() is None:
                    self.acked.append(lsn)
            else:
                still.append((lsn, task))
        self.pending = still
        for name, targets in list(self.repairing.items()):
            node = self.scenario.nodes.get(name)
            if node is None:
                continue
            if all(
                (seg := node.segments.get(("volume", group))) is not None and seg.scl >= target and not seg.has_hole()
                for group, target in targets.items()
            ):
                del self.repairing[name]

    # -- rules ---------------------------------------------------------------------------------------

    @initialize()
    def open_volume(self) -> None:
        self.run(self.scenario.execute("open"))

    @rule(page=st.sampled_from(PAGES), kind=st.sampled_from(["append", "set", "delete", "multi"]))
    def write(self, page: int, kind: str) -> None:
        self.counter += 1
        data = b"v%d" % self.counter
        current = self.model_page(page, self.model[-1][0] if self.model else 0)
        records: list[tuple[int, int, bytes]] = []
        if current is None:
            records.append((page, RedoOp.INIT, pagemod.encode_init(1)))
            current = Page(1)
        if kind == "set" and current.items:
            records.append((page, RedoOp.SET, pagemod.encode_set(0, data)))
        elif kind == "delete" and current.items:
            records.append((page, RedoOp.DELETE, pagemod.encode_delete(0)))
        elif kind == "multi":
            other = PAGES[(PAGES.index(page) + 2) % len(PAGES)]
            records.append((page, RedoOp.APPEND, data))
            if self.model_page(other, self.model[-1][0] if self.model else 0) is None:
                records.append((other, RedoOp.INIT, pagemod.encode_init(1)))
            records.append((other, RedoOp.APPEND, data))
        else:
            records.append((page, RedoOp.APPEND, data))
        if len(current.items) > 40:
            records = [(page, RedoOp.TRUNCATE, pagemod.encode_truncate(0))]

        async def append() -> tuple[int, asyncio.Task]:
            last = self.volume.append_mtr(records)
            return last, asyncio.ensure_future(self.volume.wait_durable(last))

        last, task = self.run(append())
        first = last - len(records) + 1
        for offset, (record_page, op, payload) in enumerate(records):
            self.model.append((first + offset, record_page, op, payload))
        self.pending.append((last, task))

    @rule(seconds=st.sampled_from([0.01, 0.05, 0.3, 1.0]))
    def advance(self, seconds: float) -> None:
        self.run(self.scenario.clock.advance(seconds))
        self.collect()

    @precondition(lambda self: len(self.out()) < 2)
    @rule(name=st.sampled_from(NODES))
    def crash_node(self, name: str) -> None:
        if name in self.out():
            return
        self.run(self.scenario.execute(f"crash {name}"))
        self.down.add(name)

    @precondition(lambda self: bool(self.down))
    @rule(data=st.data(), flip=st.booleans())
    def restart_node(self, data, flip: bool) -> None:
        name = data.draw(st.sampled_from(sorted(self.down)))
        if flip:
            directory = self.root / name / "volume"
            logs = sorted(p for p in directory.glob("group-*/log.*") if p.stat().st_size > 64)
            if logs:
                target = logs[data.draw(st.integers(0, len(logs) - 1))]
                raw = bytearray(target.read_bytes())
                raw[data.draw(st.integers(0, len(raw) - 1))] ^= 1 << data.draw(st.integers(0, 7))
                target.write_bytes(bytes(raw))
                self.repairing[name] = {
                    group: self.volume.tracker.groups[group].pgcl for group in self.volume.tracker.groups
                }
        self.run(self.scenario.execute(f"restart {name}"))
        self.down.discard(name)

    @precondition(lambda self: len(self.out()) < 2)
    @rule(name=st.sampled_from(NODES))
    def partition_node(self, name: str) -> None:
        if name in self.out():
            return
        self.run(self.scenario.execute(f"partition writer | {name}"))
        self.partitioned.add(name)

    @rule(rate=st.sampled_from([0.0, 0.2]), jitter=st.sampled_from([0.0, 0.02]))
    def network(self, rate: float, jitter: float) -> None:
        self.scenario.net.drop_rate = rate
        self.scenario.net.jitter = jitter

    @rule()
    def heal(self) -> None:
        self.run(self.scenario.execute("heal"))
        self.partitioned.clear()

    @precondition(lambda self: not self.repairing)
    @rule()
    def writer_crash_and_recovery(self) -> None:
        self.run(self.cancel_pending())
        self.run(self.scenario.execute("crash writer"))
        output = self.run(self.scenario.execute("open"))
        assert self.scenario.volume is not None, output
        vdl = self.volume.vdl
        assert all(lsn <= vdl for lsn in self.acked), "an acknowledged commit was lost in recovery"
        self.model = [entry for entry in self.model if entry[0] <= vdl]

    @rule(page=st.sampled_from(PAGES), back=st.integers(0, 30))
    def read(self, page: int, back: int) -> None:
        vdl = self.volume.vdl
        lsns = [lsn for lsn, *_ in self.model if lsn <= vdl]
        lsn = lsns[max(len(lsns) - 1 - back, 0)] if lsns else vdl
        horizon = self.volume.min_read_lsn
        try:
            image = self.run(self.scenario.drive(self.volume.read_page(page, lsn), limit=5))
        except StorageUnavailable as exc:
            # Only a read point below the GC horizon may be refused.
            assert lsn < horizon and "GC horizon" in exc.message, (exc, exc.detail)
            return
        expected = self.model_page(page, lsn)
        got = None if image is None else Page.from_bytes(image)
        if expected is None:
            assert got is None
        else:
            assert got is not None and got.items == expected.items and got.kind == expected.kind

    @rule()
    def collect_garbage(self) -> None:
        """A background pass on every node: coalescing and GC below the group's PGMRPL."""
        for node in self.scenario.nodes.values():
            node._background()

    @invariant()
    def acknowledged_are_durable(self) -> None:
        if self.scenario.volume is None:
            return
        vdl = self.volume.vdl
        assert all(lsn <= vdl for lsn in self.acked)

    def final_check(self) -> None:
        self.run(self.scenario.execute("heal"))
        for name in sorted(self.down):
            self.run(self.scenario.execute(f"restart {name}"))
        self.down.clear()
        self.partitioned.clear()
        self.run(self.scenario.clock.advance(3.0))
        self.collect()
        assert not self.pending or all(not t.done() for _, t in self.pending)
        vdl = self.volume.vdl
        assert all(lsn <= vdl for lsn in self.acked)
        for page in PAGES:
            image = self.run(self.scenario.drive(self.volume.read_page(page, vdl), limit=5))
            expected = self.model_page(page, vdl)
            got = None if image is None else Page.from_bytes(image)
            assert (got.items if got else None) == (expected.items if expected else None)


def run_machine(max_examples: int, steps: int) -> None:
    class Checked(VolumeMachine):
        def teardown(self) -> None:
            try:
                if self.scenario.volume is not None:
                    self.final_check()
            finally:
                super().teardown()

    Checked.TestCase.settings = settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    Checked.TestCase().runTest()


def test_volume_against_model() -> None:
    run_machine(max_examples=12, steps=30)


@pytest.mark.long
def test_volume_against_model_long() -> None:
    run_machine(max_examples=200, steps=60)
