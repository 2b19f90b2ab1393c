"""Runs SQL scripts through pgaurora's planner/executor (in process) or a real PostgreSQL (psycopg),
formatting both the same way so their transcripts can be compared line by line.

Transcript format, per statement:

    -- <statement text>
    col_a | col_b            (only for statements returning rows)
    1 | x                    (values in PostgreSQL's text output; NULL for SQL NULL)
    SELECT 1                 (the CommandComplete tag)  -- or: ERROR 42P01: relation "x" does not exist
    NOTICE: ...              (notices, in order)

Transaction control (BEGIN / COMMIT / ROLLBACK) is handled here for the engine the way a session
does it: statements outside a block run in their own transaction; after an error inside a block,
statements fail with 25P02 until the block ends (and COMMIT then reports ROLLBACK).
"""

from __future__ import annotations

import pathlib
import tempfile
from typing import Any

from pgaurora import datatypes
from pgaurora.catalog.catalog import Catalog
from pgaurora.errors import InFailedSqlTransaction, PgError
from pgaurora.executor import ExecContext, run
from pgaurora.planner import parse, plan
from tests.pagecache import harness
from tests.pagecache.harness import Engine


class SqlEngine(harness.Engine):
    """The shared in-process volume, with generous storage timeouts: the test machine is shared."""

    def config(self) -> harness.VolumeConfig:
        return harness.VolumeConfig(
            self.root / "volume.json", self.specs, pages_per_group=self.pages_per_group,
            write_timeout=30.0, rpc_timeout=5.0, read_timeout=5.0, retry_interval=0.02,
        )


def split_script(sql: str) -> list[str]:
    """Statements of a script: one per line (a trailing semicolon is dropped); `--` lines are comments."""
    out = []
    for line in sql.splitlines():
        text = line.strip()
        if text and not text.startswith("--"):
            out.append(text.removesuffix(";").strip())
    return out


def format_error(sqlstate: str, message: str) -> str:
    return f"ERROR {sqlstate}: {message}"


class EngineSession:
    """One connection's worth of state against an in-process volume."""

    def __init__(self, engine: Engine, catalog: Catalog, pid: int = 0) -> None:
        self.engine = engine
        self.catalog = catalog
        self.pid = pid  # the backend id its transactions carry (temporary tables are per backend)
        self.txn: Any = None
        self.failed = False

    @classmethod
    async def start(cls, root: pathlib.Path | None = None, setup: tuple[str, ...] = ()) -> EngineSession:
        """A session on a new in-process volume, after running the `setup` statements."""
        engine = await SqlEngine.start(root or pathlib.Path(tempfile.mkdtemp(prefix="pgaurora-sql-")),
                                       pages_per_group=4096)
        catalog = await Catalog.open(engine.storage, engine.txns)
        session = cls(engine, catalog)
        for sql in setup:
            await session.query(sql)
        return session

    async def stop(self) -> None:
        if self.txn is not None:
            await self.txn.abort()
        await self.engine.stop()

    async def query(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[str] | None, list[tuple[Any, ...]], str]:
        """(column names or None, rows as Python values, tag) of one statement; raises PgError."""
        out = None
        for stmt in parse(sql):
            out = await self._statement(stmt, params, [])
        assert out is not None
        columns, rows, tag, _ = out
        return columns, rows, tag

    async def _statement(self, stmt: Any, params: tuple[Any, ...], notices: list[str]) -> Any:
        if stmt.node_type == "TransactionStmt":
            kind = stmt.tree["kind"]
            if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
                if self.txn is None:
                    self.txn = self.engine.txns.begin(pid=self.pid)
                    self.failed = False
                return None, [], "BEGIN", None
            if kind in ("TRANS_STMT_SAVEPOINT", "TRANS_STMT_ROLLBACK_TO", "TRANS_STMT_RELEASE") and self.txn is not None:
                name = stmt.tree["savepoint_name"]
                if kind == "TRANS_STMT_SAVEPOINT":
                    self.txn.savepoint(name)
                    return None, [], "SAVEPOINT", None
                if kind == "TRANS_STMT_RELEASE":
                    self.txn.release(name)
                    return None, [], "RELEASE", None
                self.txn.rollback_to(name)
                self.failed = False
                return None, [], "ROLLBACK", None
            txn, failed = self.txn, self.failed
            self.txn, self.failed = None, False
            if txn is None:
                return None, [], "COMMIT" if kind == "TRANS_STMT_COMMIT" else "ROLLBACK", None
            if kind == "TRANS_STMT_COMMIT" and not failed:
                await self.catalog.on_commit_actions(txn, self.pid)
                await txn.commit()
                return None, [], "COMMIT", None
            await txn.abort()
            return None, [], "ROLLBACK", None
        if self.failed:
            raise InFailedSqlTransaction("current transaction is aborted, commands ignored until end of transaction block")
        txn = self.txn or self.engine.txns.begin(pid=self.pid)
        try:
            await self.catalog.sync()
            p = plan(stmt, self.catalog, tuple(0 for _ in params), txn=txn)
            ctx = ExecContext(txn, self.engine.storage, self.catalog, notice=notices.append)
            cursor = await run(p, params, ctx)
            rows = await cursor.fetch(0)
            if self.txn is None:
                await self.catalog.on_commit_actions(txn, self.pid)
                await txn.commit()
        except BaseException:
            if self.txn is None:
                await txn.abort()
            else:
                self.failed = True
            raise
        columns = [c.name for c in p.columns] if p.columns is not None else None
        return columns, rows, cursor.tag, p

    async def transcript(self, sql: str) -> list[str]:
        lines: list[str] = []
        for text in split_script(sql):
            lines.append(f"-- {text}")
            notices: list[str] = []
            try:
                stmts = parse(text)
                columns, rows, tag, p = await self._statement(stmts[0], (), notices)
            except PgError as exc:
                lines.extend(f"NOTICE: {n}" for n in notices)
                lines.append(format_error(exc.sqlstate, exc.message))
                continue
            if columns is not None:
                encoders = [datatypes.text_encoder(c.type_oid) for c in p.columns]
                lines.append(" | ".join(columns))
                for row in rows:
                    lines.append(" | ".join("NULL" if v is None else enc(v) for enc, v in zip(encoders, row, strict=True)))
            lines.append(tag)
            lines.extend(f"NOTICE: {n}" for n in notices)
        return lines


def postgres_transcript(dsn: str, sql: str) -> list[str]:
    """The same transcript from a real PostgreSQL (text mode, autocommit, fresh database)."""
    import psycopg

    lines: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        notices: list[str] = []
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        for text in split_script(sql):
            lines.append(f"-- {text}")
            notices.clear()
            cur = conn.cursor(binary=False)
            try:
                cur.execute(text.encode(), prepare=False)
            except psycopg.Error as exc:
                diag = exc.diag
                lines.extend(f"NOTICE: {n}" for n in notices)
                lines.append(format_error(diag.sqlstate or "", diag.message_primary or ""))
                continue
            if cur.description is not None:
                lines.append(" | ".join(c.name for c in cur.description))
                result = cur.pgresult
                assert result is not None
                for r in range(result.ntuples):
                    values = (result.get_value(r, c) for c in range(result.nfields))
                    lines.append(" | ".join("NULL" if v is None else bytes(v).decode() for v in values))
            lines.append(cur.statusmessage or "")
            lines.extend(f"NOTICE: {n}" for n in notices)
    return lines
