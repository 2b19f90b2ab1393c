"""Executing ALTER ... OWNER TO, COMMENT ON and LOCK TABLE (planned by planner.ownership).

Owns the owner change of a schema, table, view or sequence (a new catalog version of the object,
transactional like any DDL), comments (catalog.model.Comment definitions: pg_description) and
LOCK TABLE. pgaurora has no relation-level lock manager: DML
and DDL take no table locks (row changes are serialised by row locks and xids), so LOCK TABLE
takes a transaction-level lock keyed by the relation in the transaction manager's lock table
(the one advisory locks use), which conflicts only with other LOCK TABLE statements; the
eight PostgreSQL modes are coarsened to shared (ACCESS SHARE, ROW SHARE, ROW EXCLUSIVE) and
exclusive (the rest). It is released when the transaction ends, waits are deadlock-checked and
bounded by lock_timeout; NOWAIT raises 55P03 as PostgreSQL does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pgaurora.errors import LockNotAvailable, UndefinedObject
from pgaurora.executor.context import Env
from pgaurora.executor.ddl import _state, _tag, ddl_runner
from pgaurora.executor.plannodes import PlanNode


@dataclass(frozen=True, slots=True)
class ChangeOwner(PlanNode):
    oid: int         # the schema, table, view or sequence
    owner: int       # the new owner's role oid
    tag: str = "ALTER TABLE"
    width: int = 0


@dataclass(frozen=True, slots=True)
class LockRelations(PlanNode):
    relations: tuple[tuple[int, str], ...]  # (oid, name as written)
    shared: bool
    nowait: bool
    width: int = 0


@dataclass(frozen=True, slots=True)
class SetComment(PlanNode):
    key: tuple[int, int, int]  # (classoid, objoid, objsubid) as pg_description
    text: str | None           # None (or '') removes the comment
    width: int = 0


@ddl_runner(SetComment)
async def run_comment(node: SetComment, env: Env) -> None:
    from pgaurora.catalog.model import Comment

    ctx = env.ctx
    _tag(env, "COMMENT")
    existing = _state(ctx).comments.get(node.key)
    if node.text is None:
        if existing is not None:
            await ctx.catalog.remove(ctx.txn, existing.oid)
    elif existing is not None:
        await ctx.catalog.replace(ctx.txn, replace(existing, description=node.text))
    else:
        classoid, objoid, objsubid = node.key
        await ctx.catalog.create(ctx.txn, Comment(ctx.catalog.allocate_oid(), f"{classoid}/{objoid}/{objsubid}",
                                                  classoid, objoid, objsubid, node.text))


@ddl_runner(ChangeOwner)
async def run_change_owner(node: ChangeOwner, env: Env) -> None:
    ctx = env.ctx
    state = _state(ctx)
    obj = state.by_oid.get(node.oid)
    if obj is None:
        raise UndefinedObject(f"cache lookup failed for relation {node.oid}", sqlstate="XX000")
    _tag(env, node.tag)
    if not hasattr(obj, "owner"):  # a catalog without owners for this kind: nothing to record
        return
    if getattr(obj, "owner", None) != node.owner:
        await ctx.catalog.replace(ctx.txn, replace(obj, owner=node.owner))


@ddl_runner(LockRelations)
async def run_lock(node: LockRelations, env: Env) -> None:
    ctx = env.ctx
    _tag(env, "LOCK TABLE")
    txn = ctx.txn
    manager = txn.manager
    for oid, name in node.relations:
        got = await manager.advisory_lock(txn.owner, ("relation", oid), shared=node.shared, txn=txn,
                                          wait="skip" if node.nowait else "block")
        if not got:
            raise LockNotAvailable(f'could not obtain lock on relation "{name}"')
