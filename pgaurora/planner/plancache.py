"""The simple-protocol plan cache: queries that differ only in literals share one generic plan.

Owns keying queries by their parse tree with constants and locations stripped, turning the
literals into parameters of a cached plan (keeping each literal's PostgreSQL typing: integer
literals int4, larger integers int8, decimals numeric, '...' unknown until context types it),
and extracting the literal values of each new query. Not the extended protocol's prepared
statements (session) and not planning itself (planner.planner).

    SELECT abalance FROM pgbench_accounts WHERE aid = 47327
      parse_sql_json  ->  {..."A_Const":{"ival":{"ival":47327},"location":50}...}
      key             ->  {..."A_Const":i...}            (values and locations removed)
      hit             ->  cached Plan for  ... WHERE aid = $1  (param int4), params (47327,)

Literals whose value changes meaning (ORDER BY 1, GROUP BY 2, DISTINCT ON, type modifiers)
stay constants: their values are part of the key.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from decimal import Decimal
from typing import Any

from pglast import parser as pg_parser

from pgaurora import datatypes
from pgaurora.catalog import builtins
from pgaurora.datatypes.typeinfo import BOOL_OID, INT4_OID, INT8_OID, NUMERIC_OID
from pgaurora.errors import PgError
from pgaurora.executor.plannodes import Plan
from pgaurora.planner.parse import ParsedStatement
from pgaurora.planner.planner import plan as plan_statement

_CONST = re.compile(
    r'\{"A_Const":\{(?:"(ival|fval|sval|boolval|bsval)":\{(?:"\w+":("(?:[^"\\]|\\.)*"|[^{}]*?))?\}'
    r'|("isnull":true)),"location":(-?\d+)\}\}')
_LOCATION = re.compile(r',?"(?:location|stmt_len|stmt_location|arg_location)":-?\d+')
_KIND_TYPES = {"i": INT4_OID, "8": INT8_OID, "n": NUMERIC_OID, "s": 0, "b": BOOL_OID}
INT8_MAX = 2**63 - 1
_IMMUTABLE = frozenset((int, str, bool, float, Decimal, type(None)))


# Literals as they appear in the SQL text (the fast path's key): '...' strings and unsigned numbers
# not glued to identifiers or $n parameters. Texts with constructs this cannot follow exactly
# (E'' / U&'' / $$ strings, comments, quoted identifiers) always take the parse-based path.
_TEXT_LITERAL = re.compile(r"'(?:[^']|'')*'|(?<![\w$.])(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])")
_NO_FAST_PATH = re.compile(r"(?<![\w'])[Ee]'|(?<![\w'])[Uu]&|\$\$|--|/\*|\"|\$[0-9]")


class CachedQuery:
    __slots__ = ("plan", "unsafe", "decoders", "text_unsafe")

    def __init__(self, plan: Plan, unsafe: dict[int, str], decoders: list[Any]) -> None:
        self.plan = plan
        self.unsafe = unsafe  # literal ordinal -> raw text that must match
        self.decoders = decoders  # per parameter: converts the literal's Python value
        self.text_unsafe: dict[int, str] | None = None  # for the text-keyed fast path


def _text_split(sql: str) -> tuple[str, list[str]] | None:
    """The fast-path key of a query text (literals replaced by ?) and the literal texts."""
    if ("--" in sql or "/*" in sql or '"' in sql or "$" in sql or "&" in sql
            or ("'" in sql and _NO_FAST_PATH.search(sql))):
        return None
    # two C-level passes (no Python callback per literal); the pattern has no capturing groups
    return _TEXT_LITERAL.sub("?", sql), _TEXT_LITERAL.findall(sql)


def _bind_text(text: str, kind: str, decode: Any, negated: bool) -> Any:
    value = _text_value(kind, text)
    if negated:
        value = -value
    return value if decode is None else decode(value)


def _fits(text: str, kind: str) -> bool:
    """Is literal `text` of the kind the cached plan's slot took (a string, an int4 or int8, a
    numeric)? Only then may the plan be reused with it."""
    if kind == "s":
        return text.startswith("'")
    if text.startswith("'"):
        return False
    if kind in ("i", "8"):
        return text.isdigit() and int(text) <= (2147483648 if kind == "i" else 9223372036854775808)
    return True


def _text_value(kind: str, text: str) -> Any:
    if kind == "s":
        return text[1:-1].replace("''", "'")
    if kind == "i":
        return int(text)
    if kind == "8":
        return int(text)
    return Decimal(text)


def _literal(kind: str, raw: str | None) -> tuple[str, Any]:
    """(kind code, Python value) of one A_Const match."""
    if kind == "ival":
        return "i", int(raw) if raw else 0
    if kind == "fval":
        text = json.loads(raw) if raw else "0"
        if text.lstrip("-").isdigit():
            value = int(text)
            if abs(value) <= INT8_MAX:
                return "8", value
            return "n", Decimal(value)
        return "n", Decimal(text)
    if kind == "sval":
        return "s", json.loads(raw) if raw else ""
    if kind == "boolval":
        return "b", raw == "true"
    return "x", raw  # bsval (bit strings) and anything else: kept constant


def _split(raw: str) -> tuple[str, list[tuple[str, Any, str]]]:
    """The cache key of a parse tree's JSON and its literals (kind, value, raw match)."""
    literals: list[tuple[str, Any, str]] = []

    def repl(m: re.Match[str]) -> str:
        if m.group(3):
            literals.append(("z", None, "null"))
            return '{"A_Const":z}'
        code, value = _literal(m.group(1), m.group(2))
        literals.append((code, value, m.group(0)))
        return '{"A_Const":' + code + "}"

    key = _LOCATION.sub("", _CONST.sub(repl, raw))
    return key, literals


def _unsafe_ordinals(tree: Any) -> set[int]:
    """Ordinals (in JSON order) of A_Const nodes whose value is structural, not data."""
    unsafe: set[int] = set()
    counter = [0]
    in_from_function = [0]

    def walk(node: Any, unsafe_here: bool) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "A_Const":
                    if unsafe_here or "isnull" in v or "bsval" in v:
                        unsafe.add(counter[0])
                    counter[0] += 1
                    continue
                if k in ("sortClause", "groupClause", "distinctClause"):
                    walk_positional(v)
                elif k == "typmods":
                    walk(v, True)
                elif k == "RangeFunction":
                    in_from_function[0] += 1
                    walk(v, False)
                    in_from_function[0] -= 1
                elif k == "FuncCall" and not in_from_function[0] and _returns_set(v):
                    # a set-returning call elsewhere is one call wherever it is written again
                    # (planner.srf matches equal calls), so its arguments stay constants
                    walk(v, True)
                else:
                    walk(v, unsafe_here and k != "SelectStmt")
        elif isinstance(node, list):
            for v in node:
                walk(v, unsafe_here)

    def walk_positional(items: Any) -> None:
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, dict) and "SortBy" in item:
                sb = item["SortBy"]
                for k, v in sb.items():
                    walk(v, k == "node" and isinstance(v, dict) and "A_Const" in v)
            elif isinstance(item, dict) and "A_Const" in item:
                walk(item, True)
            else:
                walk(item, False)

    walk(tree, False)
    return unsafe


def _returns_set(call: dict[str, Any]) -> bool:
    names = [n["String"]["sval"] for n in call.get("funcname", ()) if "String" in n]
    return bool(names) and any(f.retset for f in builtins.functions_named(names[-1].lower()))


def _parameterize(tree: Any, unsafe: set[int], kinds: list[str]) -> tuple[Any, list[int]]:
    """A copy of `tree` with safe A_Consts replaced by ParamRefs; returns it and their ordinals."""
    counter = [0]
    params: list[int] = []

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "A_Const" in node and len(node) == 1:
                ordinal = counter[0]
                counter[0] += 1
                if ordinal in unsafe or kinds[ordinal] in ("x", "z"):
                    return node
                params.append(ordinal)
                return {"ParamRef": {"number": len(params), "location": node["A_Const"].get("location", -1)}}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(tree), params


class PlanCache:
    """Generic plans of simple-protocol statements keyed by their literal-free parse tree."""

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = capacity
        self.entries: OrderedDict[str, CachedQuery | None] = OrderedDict()
        # text key -> (entry, [(literal ordinal, kind, decoder, negated)]); None: shape not fast-pathable
        self.by_text: dict[str, tuple[CachedQuery, list[tuple[int, str, Any, bool]]] | None] = {}
        # exact text -> (plan, params) of recent queries whose parameters are immutable values
        self.exact: dict[str, tuple[Plan, tuple[Any, ...]]] = {}
        # exact texts that parse to something else than one SELECT/INSERT/UPDATE/DELETE (pgbench's
        # BEGIN; and END;): not parsed here again only to be told so
        self.not_planned: set[str] = set()
        self.hits = 0
        self.misses = 0

    def plan_query(self, sql: str, catalog: Any, txn: Any = None) -> tuple[Plan, tuple[Any, ...]] | None:
        """(plan, params) for a single SELECT/INSERT/UPDATE/DELETE, else None (plan it normally)."""
        state = catalog.state_for(txn) if hasattr(catalog, "state_for") else catalog
        if state.temp_schemas:
            return None  # names may mean a session's temporary table: plan per statement
        exact = self.exact.get(sql)
        if exact is not None:
            if exact[0].catalog_version == state.version:
                self.hits += 1
                return exact
            del self.exact[sql]
        if sql in self.not_planned:
            return None
        result = self._plan_text(sql, catalog, txn)
        if result is not None and all(type(p) in _IMMUTABLE for p in result[1]):
            # the same text again (SELECT 1, a dashboard's fixed query) skips even the literal scan
            if len(self.exact) >= self.capacity:
                self.exact.clear()
            self.exact[sql] = result
        return result

    def _plan_text(self, sql: str, catalog: Any, txn: Any) -> tuple[Plan, tuple[Any, ...]] | None:
        split = _text_split(sql)
        if split is not None:
            known = split[0] in self.by_text
            fast = self.by_text.get(split[0])
            if known and fast is None:
                split = None  # known not to line up with the parse tree: the parse-based path only
            elif fast is not None:
                entry, slots = fast
                state = catalog.state_for(txn) if hasattr(catalog, "state_for") else catalog
                if entry.plan.catalog_version == state.version:
                    literals = split[1]
                    if entry.text_unsafe is not None and all(literals[o] == t for o, t in entry.text_unsafe.items()) \
                            and all(_fits(literals[o], kind) for o, kind, _, _ in slots):
                        self.hits += 1
                        return entry.plan, tuple(_bind_text(literals[o], kind, decode, negated)
                                                 for o, kind, decode, negated in slots)
                    # (a literal of another kind in a slot: `v = 'x'` after `v = 5` plans anew)
                del self.by_text[split[0]]
        result = self._plan_query(sql, catalog, txn)
        if result is not None and split is not None:
            self._remember_text(sql, split, catalog, txn)
        return result

    def _remember_text(self, sql: str, split: tuple[str, list[str]], catalog: Any, txn: Any) -> None:
        """Enables the text-keyed path for this shape if its literals line up with the parse tree's."""
        key, texts = split
        raw = pg_parser.parse_sql_json(sql)
        tree_key, literals = _split(raw)
        entry = self.entries.get(tree_key)
        if entry is None or len(literals) != len(texts):
            self.by_text[key] = None
            return
        negated: set[int] = set()
        for o, ((kind, value, _), text) in enumerate(zip(literals, texts, strict=True)):
            if kind not in ("i", "8", "n", "s"):
                self.by_text[key] = None
                return
            if kind == "s" and (not text.startswith("'") or _text_value("s", text) != value):
                self.by_text[key] = None
                return
            if kind != "s":
                if text.startswith("'"):
                    self.by_text[key] = None
                    return
                if _text_value(kind, text) != value:
                    # `- 5` is one literal -5 in the tree (the parser folds a unary minus)
                    if value == 0 or -_text_value(kind, text) != value:
                        self.by_text[key] = None
                        return
                    negated.add(o)
        param_ordinals = [o for _, o in entry.decoders]
        if negated - set(param_ordinals):
            self.by_text[key] = None
            return
        entry.text_unsafe = {o: texts[o] for o in range(len(texts)) if o not in param_ordinals}
        slots = [(o, literals[o][0], decode, o in negated) for decode, o in entry.decoders]
        if len(self.by_text) > self.capacity:
            self.by_text.clear()
        self.by_text[key] = (entry, slots)

    def _not_planned(self, sql: str) -> None:
        """Remembers a text whose parse alone rules the plan cache out (short texts only)."""
        if len(sql) <= 256:
            if len(self.not_planned) >= self.capacity:
                self.not_planned.clear()
            self.not_planned.add(sql)

    def _plan_query(self, sql: str, catalog: Any, txn: Any = None) -> tuple[Plan, tuple[Any, ...]] | None:
        try:
            raw = pg_parser.parse_sql_json(sql)
        except pg_parser.ParseError:
            return None
        if raw.count('{"stmt":') != 1 or '"ParamRef"' in raw:
            self._not_planned(sql)
            return None
        head = raw[:64]
        if not ('"SelectStmt"' in head or '"InsertStmt"' in head or '"UpdateStmt"' in head or '"DeleteStmt"' in head):
            self._not_planned(sql)
            return None
        key, literals = _split(raw)
        state = catalog.state_for(txn) if hasattr(catalog, "state_for") else catalog
        entry = self.entries.get(key)
        if entry is not None and entry.plan.catalog_version != state.version:
            entry = None
        if entry is None:
            if key in self.entries and self.entries[key] is None:
                return None
            self.misses += 1
            entry = self._build(sql, raw, literals, catalog, txn)
            if entry is None:
                return None
            self.entries[key] = entry
            if len(self.entries) > self.capacity:
                self.entries.popitem(last=False)
        else:
            self.hits += 1
        for ordinal, text in entry.unsafe.items():
            if literals[ordinal][2] != text and _LOCATION.sub("", literals[ordinal][2]) != _LOCATION.sub("", text):
                return None
        params = []
        for decode, ordinal in entry.decoders:
            value = literals[ordinal][1]
            if decode is not None:
                try:
                    value = decode(value)
                except PgError as exc:
                    if exc.position is None:
                        m = literals[ordinal][2]
                        loc = int(m.rsplit('"location":', 1)[1].rstrip("}"))
                        exc.position = len(sql.encode("utf-8")[:loc].decode("utf-8", "ignore")) + 1
                    raise
            params.append(value)
        return entry.plan, tuple(params)

    def _build(self, sql: str, raw: str, literals: list[tuple[str, Any, str]], catalog: Any,
               txn: Any) -> CachedQuery | None:
        document = json.loads(raw)
        stmt_node = document["stmts"][0]["stmt"]
        unsafe = _unsafe_ordinals(stmt_node)
        kinds = [k for k, _, _ in literals]
        new_tree, ordinals = _parameterize(stmt_node, unsafe, kinds)
        node_type, body = next(iter(new_tree.items()))
        parsed = ParsedStatement(node_type, body, sql.strip(), 0, sql)
        try:
            plan = plan_statement(parsed, catalog, [_KIND_TYPES[kinds[o]] for o in ordinals], txn=txn,
                                  unknown_params_as_text=True)
        except PgError:
            return None  # the caller plans the original text and reports the error with its positions
        decoders: list[Any] = []
        for i, ordinal in enumerate(ordinals):
            oid = plan.param_types[i]
            if kinds[ordinal] == "s":
                decoders.append((datatypes.text_decoder(oid), ordinal))
            else:
                decoders.append((None, ordinal))
        keep = {o: literals[o][2] for o in unsafe}
        return CachedQuery(plan, keep, decoders)
