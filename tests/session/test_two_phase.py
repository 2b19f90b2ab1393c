"""Two-phase commit statements as PostgreSQL 15 answers them with max_prepared_transactions = 0
(its default; pgaurora has no two-phase commit): PREPARE TRANSACTION ends the transaction rolled
back with 55000 (or is a ROLLBACK with a WARNING outside a block or in a failed one), COMMIT /
ROLLBACK PREPARED find nothing (42704) and refuse to run inside a block (25001)."""

from __future__ import annotations

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

STEPS = [
    "SHOW max_prepared_transactions",
    "PREPARE TRANSACTION 'x'",
    "BEGIN", "INSERT INTO tp_t VALUES (1)", "PREPARE TRANSACTION 'x'",
    "SELECT count(*) FROM tp_t",
    "BEGIN", "SELECT 1/0", "PREPARE TRANSACTION 'y'", "SELECT 1",
    "COMMIT PREPARED 'x'", "ROLLBACK PREPARED 'x'",
    "BEGIN", "COMMIT PREPARED 'x'", "ROLLBACK",
    "BEGIN", "ROLLBACK PREPARED 'x'", "ROLLBACK",
    "SELECT count(*) FROM pg_prepared_xacts",
]


def test_two_phase_statements_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, setup=["CREATE TABLE tp_t (id int)"],
                           cleanup=["DROP TABLE IF EXISTS tp_t"], details=True)
