"""EXPLAIN [ANALYZE] planning: plan the inner statement and wrap it in an executor Explain node.

Owns the EXPLAIN options (ANALYZE; VERBOSE, COSTS and FORMAT TEXT are accepted) and the
single "QUERY PLAN" text column. Not rendering (executor.explain).
"""

from __future__ import annotations

from typing import Any

from pgaurora.datatypes.typeinfo import TEXT_OID
from pgaurora.errors import FeatureNotSupported
from pgaurora.executor.explain import Explain
from pgaurora.executor.plannodes import ResultColumn
from pgaurora.planner.parse import ParsedStatement
from pgaurora.planner.querycontext import Planned, QueryContext


def plan_explain(qc: QueryContext, stmt: ParsedStatement, plan_inner: Any) -> Planned:
    body = stmt.tree
    analyze = False
    for opt in body.get("options", ()):
        d = opt["DefElem"]
        name = d["defname"]
        arg = d.get("arg", {})
        enabled = not ("String" in arg and arg["String"]["sval"] in ("false", "off", "0")) and \
            not ("Boolean" in arg and not arg["Boolean"].get("boolval", False))
        if name == "analyze":
            analyze = enabled
        elif name == "format":
            fmt = arg.get("String", {}).get("sval", "text")
            if fmt != "text":
                raise FeatureNotSupported(f"EXPLAIN (FORMAT {fmt.upper()}) is not supported")
    kind, inner = next(iter(body["query"].items()))
    inner_stmt = ParsedStatement(kind, inner, stmt.text, stmt.offset, stmt.query)
    node = plan_inner(inner_stmt)
    return Planned(Explain(node, analyze), [ResultColumn("QUERY PLAN", TEXT_OID)])
