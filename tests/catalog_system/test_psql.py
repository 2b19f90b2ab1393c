"""psql's meta-commands give the same output on pgaurora as on PostgreSQL 15 for the same schema."""

from __future__ import annotations

import pytest

from tests.catalog_system.conftest import Pair

COMMANDS = [
    r"\dt cs_*", r"\d cs_t", r"\d cs_c", r"\d cs_v", r"\d cs_seq", r"\di cs_*", r"\dv cs_*", r"\ds cs_*",
    r"\d+ cs_t", r"\d+ cs_v", r"\dn cs_*", r"\dn public", r"\du postgres", r"\l postgres", r"\db", r"\df cs_*", r"\d cs_c_note_idx", r"\d cs_t_pkey",
    r"\dt cs_s.*", r"\d cs_s.m", r"\d cs_dd", r"\d cs_fk3", r"\d cs_fk2", r"\di cs_s.*",
    r"\du cs_*", r"\dg cs_*", r"\dt cs_dd",  # roles, their memberships, a table another role owns
    r"\dx", r"\dL",  # plpgsql, installed and listed as PostgreSQL lists it
]


@pytest.mark.parametrize("command", COMMANDS)
def test_meta_command_matches_postgres(pair: Pair, command: str) -> None:
    aurora, oracle = pair.both_psql(command)
    assert aurora == oracle


def test_d_shows_columns_defaults_indexes_and_references(pair: Pair) -> None:
    out = pair.psql(pair.aurora.port, r"\d cs_c")
    assert "nextval('cs_c_cid_seq'::regclass)" in out
    assert '"cs_c_note_check" CHECK (length(note) < 100)' in out
    assert 'FOREIGN KEY (tid) REFERENCES cs_t(id) ON DELETE CASCADE' in out
    referenced = pair.psql(pair.aurora.port, r"\d cs_t")
    assert 'TABLE "cs_c" CONSTRAINT "cs_c_tid_fkey"' in referenced


def test_uncommitted_ddl_is_visible_to_its_own_transaction_only(pair: Pair) -> None:
    import psycopg

    with psycopg.connect(pair.aurora.dsn) as mine, psycopg.connect(pair.aurora.dsn, autocommit=True) as other:
        mine.execute("CREATE TABLE cs_pending (a int)")
        query = "SELECT count(*) FROM pg_class WHERE relname = 'cs_pending'"
        assert mine.execute(query).fetchone() == (1,)
        assert other.execute(query).fetchone() == (0,)
        mine.rollback()
        assert mine.execute(query).fetchone() == (0,)


