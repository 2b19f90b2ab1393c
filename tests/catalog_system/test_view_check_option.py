"""Views WITH [LOCAL | CASCADED] CHECK OPTION (and WITH / ALTER VIEW SET (check_option = ...))
as PostgreSQL 15 enforces them: a row written through the view that the view would not show is
refused (44000), a CASCADED option checks every view below it too, a LOCAL one its own
condition; the option kept in reloptions and information_schema; refused on a view that is not
automatically updatable. Views of SELECT * are automatically updatable. CREATE TABLE ... USING
refuses an access method that is not heap. Transcripts equal on PostgreSQL 15 and pgaurora, and
pg_dump writes the same views."""

from __future__ import annotations

from tests.catalog_system.conftest import Pair
from tests.pgoracle import assert_same_transcript

CLEANUP = ["DROP TABLE IF EXISTS vt CASCADE", "DROP TABLE IF EXISTS q5, q6, q7"]
STEPS = [
    'CREATE TABLE vt (a int, b text)',
    'CREATE VIEW v1 AS SELECT * FROM vt WHERE a > 0 WITH CHECK OPTION',
    "INSERT INTO v1 VALUES (1, 'x')",
    "INSERT INTO v1 VALUES (-1, 'y')",
    'UPDATE v1 SET a = -5',
    'CREATE VIEW v2 AS SELECT * FROM v1 WHERE a < 10 WITH LOCAL CHECK OPTION',
    "INSERT INTO v2 VALUES (-3, 'z')",
    "INSERT INTO v2 VALUES (20, 'z')",
    'CREATE VIEW v3 AS SELECT * FROM v1 WHERE a < 10',
    "INSERT INTO v3 VALUES (-4, 'w')",
    "INSERT INTO v3 VALUES (40, 'w')",
    'CREATE VIEW v4 AS SELECT 1 AS x WITH CASCADED CHECK OPTION',
    "CREATE VIEW v5 WITH (check_option = local) AS SELECT * FROM vt WHERE b <> 'q'",
    "INSERT INTO v5 VALUES (1, 'q')",
    "SELECT table_name, check_option FROM information_schema.views WHERE table_name LIKE 'v_' ORDER BY 1",
    'CREATE TABLE q5 (a int) USING heap',
    'CREATE TABLE q6 (a int) USING foo',
    'CREATE TABLE q7 (a int) USING btree',
    'SELECT * FROM vt ORDER BY a',
]
MORE = [
    'CREATE VIEW w1 AS SELECT a, b FROM vt WHERE a > 0 WITH CHECK OPTION',
    "CREATE VIEW w2 AS SELECT a, b FROM vt WHERE b <> 'no'",
    'ALTER VIEW w2 SET (check_option = local)',
    "INSERT INTO w2 VALUES (1, 'no')",
    'ALTER VIEW w2 SET (check_option = sideways)',
    'ALTER VIEW w2 RESET (check_option)',
    "INSERT INTO w2 VALUES (1, 'no')",
    'CREATE VIEW w3 AS SELECT a, b, a * 2 AS c FROM vt WHERE a < 100 WITH LOCAL CHECK OPTION',
    "INSERT INTO w3 (a, b) VALUES (200, 'x')",
    "INSERT INTO w3 (a, b) VALUES (50, 'x')",
    'UPDATE w3 SET a = 150 WHERE a = 50',
    'UPDATE w3 SET a = NULL WHERE a = 50',
    "INSERT INTO w1 VALUES (NULL, 'n')",
    'DELETE FROM w1 WHERE a = 50',
    'SELECT * FROM vt ORDER BY a, b',
    "SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'w_' ORDER BY 1",
]


def test_check_options_as_postgres(pair: Pair) -> None:
    assert_same_transcript(pair.aurora.dsn, pair.oracle.dsn, STEPS, cleanup=CLEANUP, details=True)


def test_local_options_and_alter_view_as_postgres(pair: Pair) -> None:
    assert_same_transcript(pair.aurora.dsn, pair.oracle.dsn, MORE, cleanup=CLEANUP, details=True,
                           setup=["CREATE TABLE vt (a int, b text)"])




def test_pg_dump_writes_check_options_as_postgres(pair: Pair) -> None:
    ddl = ("DROP TABLE IF EXISTS vco_t CASCADE; CREATE TABLE vco_t (a int, b text);"
           "CREATE VIEW vco_c AS SELECT a, b FROM vco_t WHERE a > 0 WITH CASCADED CHECK OPTION;"
           "CREATE VIEW vco_l AS SELECT a, b FROM vco_t WHERE a < 9 WITH LOCAL CHECK OPTION")
    with pair.with_schema(ddl, "DROP TABLE IF EXISTS vco_t CASCADE"):
        aurora = pair.schema_dump(pair.aurora.port, "public.vco_*")
        assert any("CHECK OPTION" in line for line in aurora)
        assert aurora == pair.schema_dump(pair.oracle.port, "public.vco_*")
