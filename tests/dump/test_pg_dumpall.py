"""pg_dumpall (PostgreSQL 15's own binary, plain format) against pgaurora, restored into a
fresh PostgreSQL 15 cluster, and PostgreSQL 15's pg_dumpall loaded into pgaurora.

pg_dumpall dumps the roles, then connects to template1 and to postgres in turn. template1 is
a database whose contents are a fresh cluster's (session.template), so its section is the
same empty dump PostgreSQL writes; the postgres section holds the tables. Restoring the whole
script into a new cluster with psql gives the same rows, sequences and roles; the only error
is the one PostgreSQL's own dumps give there too (the bootstrap role exists already).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator

import psycopg
import pytest

from tests.pgoracle import PgOracle, pg_bindir, start_postgres
from tests.server.harness import InstanceProcess, start_instance

pytestmark = pytest.mark.timeout(180)

SCHEMA = """\
CREATE ROLE reporter LOGIN PASSWORD 'secret';
CREATE ROLE shop_owners;
GRANT shop_owners TO reporter WITH ADMIN OPTION;
CREATE SCHEMA shop AUTHORIZATION shop_owners;
CREATE TABLE shop.items (id serial PRIMARY KEY, name text NOT NULL UNIQUE, price numeric(8,2) CHECK (price >= 0));
CREATE TABLE shop.sales (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  item_id int REFERENCES shop.items(id), qty int DEFAULT 1, at date);
CREATE INDEX sales_at_idx ON shop.sales (at);
CREATE VIEW shop.totals AS SELECT item_id, sum(qty) AS qty FROM shop.sales GROUP BY item_id;
CREATE TABLE public.notes (k int PRIMARY KEY, body text);
INSERT INTO shop.items (name, price) VALUES ('pen', 1.50), ('ink', 12), ('pad', 0);
INSERT INTO shop.sales (item_id, qty, at) VALUES (1, 2, '2024-05-01'), (2, 1, '2024-05-02'), (1, 5, NULL);
INSERT INTO public.notes VALUES (1, 'tab\there'), (2, NULL), (3, 'back\\\\slash');
ALTER TABLE public.notes OWNER TO reporter;
"""
QUERIES = ("SELECT * FROM shop.items ORDER BY id", "SELECT * FROM shop.sales ORDER BY id",
           "SELECT * FROM shop.totals ORDER BY item_id", "SELECT * FROM public.notes ORDER BY k",
           "SELECT last_value, is_called FROM shop.items_id_seq",
           "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('reporter', 'shop_owners') ORDER BY 1",
           "SELECT r.rolname, m.rolname, a.admin_option FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid "
           "JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = 'reporter'",
           "SELECT schemaname, tablename, tableowner FROM pg_tables WHERE schemaname IN ('shop', 'public') ORDER BY 1, 2",
           "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'shop'",
           "SELECT datname FROM pg_database ORDER BY datname")


def _tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([os.path.join(pg_bindir(), name), *args], capture_output=True, text=True, timeout=120)


def _answers(dsn: str) -> list[list[tuple[object, ...]]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return [conn.execute(q).fetchall() for q in QUERIES]


@pytest.fixture(scope="module")
def source() -> Iterator[InstanceProcess]:
    inst = start_instance()
    try:
        with psycopg.connect(inst.dsn, autocommit=True) as conn:
            conn.execute(SCHEMA)
        yield inst
    finally:
        inst.stop()


@pytest.fixture(scope="module")
def fresh_cluster() -> Iterator[PgOracle]:
    oracle = start_postgres()
    try:
        yield oracle
    finally:
        oracle.stop()


def test_pg_dumpall_restores_into_a_fresh_postgresql(source: InstanceProcess, fresh_cluster: PgOracle) -> None:
    dumped = _tool("pg_dumpall", "-h", "127.0.0.1", "-p", str(source.port), "-U", "postgres")
    assert dumped.returncode == 0, dumped.stderr
    script = dumped.stdout
    assert script.rstrip().endswith("-- PostgreSQL database cluster dump complete\n--")
    connects = re.findall(r"^\\connect (\S+)", script, flags=re.MULTILINE)
    assert connects == ["template1", "postgres"]
    template_section = script[script.index("\\connect template1"):script.index("\\connect postgres")]
    assert "CREATE TABLE" not in template_section  # template1 is empty, as in a fresh cluster
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        os.chmod(path, 0o644)  # psql may run as another OS user
        restored = _tool("psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(fresh_cluster.port), "-U", "postgres",
                         "-d", "postgres", "-f", path)
    finally:
        os.unlink(path)
    errors = [line for line in restored.stderr.splitlines() if "ERROR" in line]
    assert errors == [f'psql:{path}:{_line_of(script, "CREATE ROLE postgres;")}: ERROR:  role "postgres" already exists']
    assert _answers(fresh_cluster.dsn) == _answers(source.dsn)
    with psycopg.connect(fresh_cluster.dsn.replace("dbname=postgres", "dbname=template1")) as conn:
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace").fetchone() == (0,)


def _line_of(script: str, text: str) -> int:
    return script[:script.index(text)].count("\n") + 1


def test_template1_is_an_empty_read_only_database(source: InstanceProcess) -> None:
    dsn = source.dsn.replace("dbname=postgres", "dbname=template1")
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("template1",)
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
                            ).fetchone() == (0,)
        assert conn.execute("SELECT rolname FROM pg_roles WHERE rolname = 'reporter'").fetchone() == ("reporter",)
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT * FROM public.notes")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE t (a int)")
    with pytest.raises(psycopg.OperationalError, match='database "template0"'):
        psycopg.connect(source.dsn.replace("dbname=postgres", "dbname=template0")).close()


def test_postgresql_dumpall_loads_into_pgaurora() -> None:
    """The other way: PostgreSQL 15's pg_dumpall of the same schema (roles, membership, owners)
    loads into a new pgaurora instance through psql with the same answers; the only error is
    the bootstrap role's, as above."""
    oracle, target = start_postgres(), start_instance()
    try:
        with psycopg.connect(oracle.dsn, autocommit=True) as conn:
            conn.execute(SCHEMA)
        dumped = _tool("pg_dumpall", "-h", "127.0.0.1", "-p", str(oracle.port), "-U", "postgres")
        assert dumped.returncode == 0, dumped.stderr
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write(dumped.stdout)
            path = f.name
        try:
            loaded = subprocess.run(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(target.port), "-U", "postgres",
                                     "-d", "postgres", "-f", path], capture_output=True, text=True, timeout=120)
        finally:
            os.unlink(path)
        errors = [line for line in loaded.stderr.splitlines() if "ERROR" in line]
        assert errors == [f'psql:{path}:{_line_of(dumped.stdout, "CREATE ROLE postgres;")}: '
                          'ERROR:  role "postgres" already exists']
        assert _answers(target.dsn) == _answers(oracle.dsn)
    finally:
        oracle.stop()
        target.stop()
