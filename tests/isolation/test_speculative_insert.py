"""INSERT ... ON CONFLICT when the conflict shows up only at the index insert (executor.onconflict).

Another inserter can commit an equal key between the arbiter check and our index insert; the
row then goes round again, as PostgreSQL's speculative insertion does: our heap tuple is undone
("super-deleted") and the statement takes the DO UPDATE / DO NOTHING branch instead of 23505.
The race is made deterministic by hiding the committed row from the first arbiter check.
"""

from __future__ import annotations

import pathlib

import pytest

from pgaurora.executor import onconflict
from tests.sql.runner import EngineSession


@pytest.fixture
async def session(tmp_path: pathlib.Path):
    s = await EngineSession.start(tmp_path)
    await s.query("CREATE TABLE counters (key text PRIMARY KEY, n int NOT NULL, note text)")
    await s.query("CREATE INDEX counters_note ON counters (note)")
    await s.query("INSERT INTO counters VALUES ('a', 10, 'first')")
    yield s
    await s.stop()


class LostRace:
    """Arms a one-shot miss: the next arbiter check misses the committed row ('not there yet')."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.armed = False
        self.missed = 0
        real = onconflict.Upsert._conflict

        async def late(upsert: onconflict.Upsert, row: tuple[object, ...]) -> object:
            if self.armed:
                self.armed = False
                self.missed += 1
                return None
            return await real(upsert, row)

        monkeypatch.setattr(onconflict.Upsert, "_conflict", late)


async def test_late_conflict_goes_round_again(session, monkeypatch):
    race = LostRace(monkeypatch)
    race.armed = True
    _, rows, tag = await session.query(
        "INSERT INTO counters VALUES ('a', 1, 'second') ON CONFLICT (key) DO UPDATE "
        "SET n = counters.n + excluded.n RETURNING key, n, note")
    assert race.missed == 1 and tag == "INSERT 0 1"  # DO UPDATE, not 23505
    assert rows == [("a", 11, "first")]
    # the undone tuple left no trace: not in a scan, not through either index
    assert (await session.query("SELECT key, n, note FROM counters"))[1] == [("a", 11, "first")]
    assert (await session.query("SELECT count(*) FROM counters WHERE note = 'second'"))[1] == [(0,)]
    assert (await session.query("SELECT n FROM counters WHERE key = 'a'"))[1] == [(11,)]

    race.armed = True
    _, rows, tag = await session.query("INSERT INTO counters VALUES ('a', 1, 'third') ON CONFLICT DO NOTHING")
    assert race.missed == 2 and tag == "INSERT 0 0"
    assert (await session.query("SELECT key, n, note FROM counters ORDER BY key"))[1] == [("a", 11, "first")]
