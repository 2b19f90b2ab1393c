"""Overload resolution: PostgreSQL's func_get_detail / func_select_candidate / oper_select_candidate.

Owns choosing one built-in for a call given the argument types, in PostgreSQL's order:

    1. exact match (for a binary operator with one unknown side: assume the other side's type)
    2. keep candidates every argument can reach by implicit casts (unknown reaches anything)
    3. most exact matches; then most exact-or-preferred matches at positions needing coercion
    4. unknown arguments: the category the candidates agree on (string wins), preferred types
    5. last gasp: unknowns take the type of the known arguments if those all agree

and then polymorphic types (anyelement/anyarray/anycompatible...) are resolved to concrete
ones. The FunctionDef/OperatorDef returned has concrete `arg_oids` (the types each argument
must be coerced to) and `return_oid`; variadic calls come back expanded to one entry per
argument. Not the implementations and not the casts themselves (datatypes.casts).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

from pgaurora.catalog.builtins.enum_functions import enum_aggregate, enum_function, enum_operator
from pgaurora.catalog.builtins.range_functions import range_function, range_operator
from pgaurora.catalog.builtins.registry import (
    REGISTRY,
    AggregateDef,
    FunctionDef,
    OperatorDef,
    WindowDef,
)
from pgaurora.datatypes import casts
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import AmbiguousFunction, DatatypeMismatch, UndefinedFunction

_ELEMENT_LIKE = frozenset({t.ANYELEMENT_OID, t.ANYNONARRAY_OID, t.ANYENUM_OID})
_COMPATIBLE_LIKE = frozenset({t.ANYCOMPATIBLE_OID, t.ANYCOMPATIBLENONARRAY_OID})
_ARRAY_LIKE = frozenset({t.ANYARRAY_OID})
_NO_FUNCTION_HINT = "No function matches the given name and argument types. You might need to add explicit type casts."
_NO_OPERATOR_HINT = "No operator matches the given name and argument types. You might need to add explicit type casts."

D = TypeVar("D", FunctionDef, OperatorDef, AggregateDef)


def type_name(oid: int) -> str:
    return t.format_type(oid) if t.find(oid) is not None else str(oid)


def _declared(defn: Any, nargs: int) -> tuple[int, ...] | None:
    """The declared types for a call with `nargs` arguments (variadic expanded), or None."""
    declared: tuple[int, ...] = defn.arg_oids
    variadic = getattr(defn, "variadic_oid", None)
    if variadic is None:
        return declared if len(declared) == nargs else None
    if nargs < len(declared):
        return None
    return declared[:-1] + (variadic,) * (nargs - len(declared) + 1)


def _coercible(source: int, target: int) -> bool:
    if source == target or target == t.ANY_OID:
        return True
    if target in _ELEMENT_LIKE or target in _COMPATIBLE_LIKE:
        if source == t.UNKNOWN_OID:
            return True
        if target in (t.ANYNONARRAY_OID, t.ANYCOMPATIBLENONARRAY_OID) and t.element_of(source):
            return False
        if source == t.RECORD_OID:  # a record is a polymorphic argument's value (array_agg(ROW(...)))
            return True
        return not t.lookup(source).is_pseudo if t.find(source) else False
    if target in _ARRAY_LIKE or target == t.ANYCOMPATIBLEARRAY_OID:
        return source == t.UNKNOWN_OID or bool(t.element_of(source))
    if source == t.UNKNOWN_OID:
        return True
    return casts.can_coerce(source, target, casts.CastContext.IMPLICIT)


def _category(oid: int) -> str:
    return casts.type_category(oid)


def _preferred(oid: int) -> bool:
    return casts.is_preferred(oid)


def select_candidate(inputs: Sequence[int], candidates: list[tuple[Any, tuple[int, ...]]]) -> list[Any]:
    """func_select_candidate(): narrow implicitly-coercible candidates; returns the survivors."""
    nargs = len(inputs)
    unknown = t.UNKNOWN_OID

    def keep_best(score: Any) -> None:
        nonlocal candidates
        scored = [(score(decl), c) for c in candidates for decl in (c[1],)]
        best = max(s for s, _ in scored)
        candidates = [c for s, c in scored if s == best]

    keep_best(lambda decl: sum(1 for i in range(nargs) if inputs[i] != unknown and inputs[i] == decl[i]))
    if len(candidates) == 1:
        return [candidates[0][0]]
    keep_best(lambda decl: sum(1 for i in range(nargs)
                               if inputs[i] != unknown and (inputs[i] == decl[i] or _preferred(decl[i]))))
    if len(candidates) == 1:
        return [candidates[0][0]]
    nunknowns = sum(1 for x in inputs if x == unknown)
    if nunknowns == 0:
        return [c[0] for c in candidates]
    slot_category: dict[int, str] = {}
    slot_preferred: dict[int, bool] = {}
    resolved = True
    for i in range(nargs):
        if inputs[i] != unknown:
            continue
        category: str | None = None
        has_preferred = False
        conflict = False
        for _, decl in candidates:
            cat = _category(decl[i])
            pref = _preferred(decl[i])
            if category is None:
                category, has_preferred = cat, pref
            elif cat == category:
                has_preferred = has_preferred or pref
            elif cat == "S":
                category, has_preferred = cat, pref
            else:
                conflict = True
        if conflict and category != "S":
            resolved = False
            break
        assert category is not None
        slot_category[i] = category
        slot_preferred[i] = has_preferred
    if resolved:
        kept = [c for c in candidates
                if all(_category(c[1][i]) == slot_category[i] and (not slot_preferred[i] or _preferred(c[1][i]))
                       for i in slot_category)]
        if kept:
            candidates = kept
        if len(candidates) == 1:
            return [candidates[0][0]]
    if nunknowns < nargs:
        known = {x for x in inputs if x != unknown}
        if len(known) == 1:
            known_type = known.pop()
            assumed = tuple(known_type for _ in inputs)
            matching = [c for c in candidates
                        if all(_coercible(known_type, d) for d in c[1]) and _consistent(assumed, c[1], c[0])]
            if len(matching) == 1:
                return [matching[0][0]]
    return [c[0] for c in candidates]


def _resolve_polymorphic(inputs: Sequence[int], declared: tuple[int, ...], return_oid: int) -> tuple[tuple[int, ...], int]:
    """enforce_generic_type_consistency(): concrete argument and result types."""
    element: int | None = None
    compatible: list[int] = []
    has_poly = False
    for actual, decl in zip(inputs, declared, strict=True):
        if decl in _ELEMENT_LIKE:
            has_poly = True
            if actual != t.UNKNOWN_OID:
                if element is not None and element != actual:
                    raise DatatypeMismatch("arguments declared \"anyelement\" are not all alike",
                                           detail=f"{type_name(element)} versus {type_name(actual)}")
                element = actual
        elif decl in _ARRAY_LIKE:
            has_poly = True
            if actual != t.UNKNOWN_OID:
                elem = t.element_of(actual)
                if element is not None and element != elem:
                    raise DatatypeMismatch("arguments declared \"anyelement\" are not all alike",
                                           detail=f"{type_name(element)} versus {type_name(elem)}")
                element = elem
        elif decl in _COMPATIBLE_LIKE:
            has_poly = True
            compatible.append(actual)
        elif decl == t.ANYCOMPATIBLEARRAY_OID:
            has_poly = True
            if actual != t.UNKNOWN_OID:
                compatible.append(t.element_of(actual))
    if not has_poly and return_oid not in t.POLYMORPHIC_OIDS:
        resolved_args = tuple(a if d == t.ANY_OID else d for a, d in zip(inputs, declared, strict=True))
        return resolved_args, return_oid
    common: int | None = None
    if compatible:
        common = common_type(compatible, "function argument")
    if element is None and any(d in _ELEMENT_LIKE or d in _ARRAY_LIKE for d in declared):
        raise DatatypeMismatch("could not determine polymorphic type because input has type unknown")
    out = []
    for actual, decl in zip(inputs, declared, strict=True):
        if decl in _ELEMENT_LIKE:
            out.append(element)
        elif decl in _ARRAY_LIKE:
            out.append(t.array_of(element) if element else actual)
        elif decl in _COMPATIBLE_LIKE:
            out.append(common)
        elif decl == t.ANYCOMPATIBLEARRAY_OID:
            out.append(t.array_of(common) if common else actual)
        elif decl == t.ANY_OID:
            out.append(actual)
        else:
            out.append(decl)
    result = return_oid
    if return_oid in _ELEMENT_LIKE:
        result = element or t.TEXT_OID
    elif return_oid in _ARRAY_LIKE:
        result = t.array_of(element) if element else t.TEXT_ARRAY_OID
    elif return_oid in _COMPATIBLE_LIKE:
        result = common or t.TEXT_OID
    elif return_oid == t.ANYCOMPATIBLEARRAY_OID:
        result = t.array_of(common or t.TEXT_OID)
    return tuple(x if x is not None else t.TEXT_OID for x in out), result


def common_type(oids: Sequence[int], construct: str = "UNION") -> int:
    """select_common_type(): unknowns ignored (all unknown -> text); categories must agree."""
    known = [o for o in oids if o != t.UNKNOWN_OID]
    if not known:
        return t.TEXT_OID
    result = known[0]
    category = _category(result)
    for oid in known[1:]:
        if oid == result:
            continue
        if _category(oid) != category:
            raise DatatypeMismatch(f"{construct} types {type_name(result)} and {type_name(oid)} cannot be matched")
        if not _preferred(result) and casts.can_coerce(result, oid) and not casts.can_coerce(oid, result):
            result = oid
    for oid in known:
        if oid != result and not casts.can_coerce(oid, result):
            raise DatatypeMismatch(f"{construct} could not convert type {type_name(oid)} to {type_name(result)}")
    return result


def choose(defs: list[D], inputs: Sequence[int], what: str, name: str) -> D | None:
    """The best of `defs` for a call with argument types `inputs` (PostgreSQL's
    func_select_candidate), None if none can take them; 42725 if several remain."""
    return _choose(defs, inputs, what, name)


def _choose(defs: list[D], inputs: Sequence[int], what: str, name: str) -> D | None:
    candidates: list[tuple[D, tuple[int, ...]]] = []
    for d in defs:
        decl = _declared(d, len(inputs))
        if decl is not None:
            candidates.append((d, decl))
    for d, decl in candidates:
        if tuple(inputs) == decl:
            return _specialise(d, inputs, decl)
    viable = [(d, decl) for d, decl in candidates
              if all(_coercible(a, x) for a, x in zip(inputs, decl, strict=True)) and _consistent(inputs, decl, d)]
    if not viable:
        return None
    if len(viable) == 1:
        return _specialise(viable[0][0], inputs, viable[0][1])
    chosen = select_candidate(inputs, viable)
    if len(chosen) == 1:
        decl = next(x for d, x in viable if d is chosen[0])
        return _specialise(chosen[0], inputs, decl)
    shown = ", ".join(type_name(o) for o in inputs)
    if what == "operator":
        left = f"{type_name(inputs[0])} " if len(inputs) == 2 else ""
        raise AmbiguousFunction(f"operator is not unique: {left}{name} {type_name(inputs[-1])}",
                                hint="Could not choose a best candidate operator. You might need to add explicit type casts.")
    raise AmbiguousFunction(f"function {name}({shown}) is not unique",
                            hint="Could not choose a best candidate function. You might need to add explicit type casts.")


def _consistent(inputs: Sequence[int], declared: tuple[int, ...], d: Any) -> bool:
    """Can the polymorphic arguments agree on one element type (check_generic_type_consistency)?"""
    if not any(x in t.POLYMORPHIC_OIDS for x in declared):
        return True
    try:
        args, _ = _resolve_polymorphic(inputs, declared, t.VOID_OID)
    except DatatypeMismatch:
        return False
    for actual, decl, concrete in zip(inputs, declared, args, strict=True):
        if decl in _ARRAY_LIKE or decl == t.ANYCOMPATIBLEARRAY_OID:
            if not t.element_of(concrete) or t.element_of(t.element_of(concrete) or 0):
                return False
        if decl in _COMPATIBLE_LIKE or decl in _ELEMENT_LIKE:
            if actual != t.UNKNOWN_OID and actual != concrete and not casts.can_coerce(actual, concrete):
                return False
    return True


def _specialise(d: D, inputs: Sequence[int], declared: tuple[int, ...]) -> D:
    if isinstance(d, OperatorDef):
        args, result = _resolve_polymorphic(inputs, declared, d.result_oid)
        if args == d.arg_oids and result == d.result_oid and d.binder is None:
            return d
        left = args[0] if d.left_oid is not None else None
        if d.binder is not None:
            return dataclasses.replace(d, left_oid=left, right_oid=args[-1], result_oid=result, impl=d.binder(args))
        return dataclasses.replace(d, left_oid=left, right_oid=args[-1], result_oid=result)
    args, result = _resolve_polymorphic(inputs, declared, d.return_oid)
    binder = getattr(d, "binder", None)
    if binder is not None:
        if isinstance(d, AggregateDef):
            bound = binder(args)
            return dataclasses.replace(bound, arg_oids=args, return_oid=result if result else bound.return_oid)
        return dataclasses.replace(d, arg_oids=args, return_oid=result, impl=binder(args))
    if args == d.arg_oids and result == d.return_oid:
        return d
    return dataclasses.replace(d, arg_oids=args, return_oid=result)


@lru_cache(maxsize=4096)
def _function_for(name: str, inputs: tuple[int, ...]) -> FunctionDef | None:
    return enum_function(name, inputs) or range_function(name, inputs) \
        or _choose(REGISTRY.functions.get(name, []), inputs, "function", name)


@lru_cache(maxsize=4096)
def _operator_for(name: str, prefix: bool, inputs: tuple[int, ...]) -> OperatorDef | None:
    if not prefix and (found := enum_operator(name, inputs)) is not None:
        return found
    if not prefix and (ranged := range_operator(name, inputs)) is not None:
        return ranged
    defs = [o for o in REGISTRY.operators.get(name, []) if (o.left_oid is None) == prefix]
    if not prefix and (inputs[0] == t.UNKNOWN_OID) != (inputs[1] == t.UNKNOWN_OID):
        known = inputs[1] if inputs[0] == t.UNKNOWN_OID else inputs[0]
        for o in defs:
            if o.arg_oids == (known, known):
                return o
    return _choose(defs, inputs, "operator", name)


def resolve_function(name: str, arg_oids: Sequence[int], missing_ok: bool = True) -> FunctionDef | None:
    """The built-in function a call `name(args)` means; None (or 42883 if not missing_ok) if none.

    42725 if several candidates remain. arg_oids may contain 0 for untyped parameters, which
    are treated like unknown literals. Answers are cached (definitions are immutable).
    """
    inputs = tuple(t.UNKNOWN_OID if o == 0 else o for o in arg_oids)
    found = _function_for(name.lower(), inputs)
    if found is None and not missing_ok:
        raise function_not_found(name, arg_oids)
    return found


def function_not_found(name: str, arg_oids: Sequence[int]) -> UndefinedFunction:
    shown = ", ".join(type_name(o if o else t.UNKNOWN_OID) for o in arg_oids)
    return UndefinedFunction(f"function {name}({shown}) does not exist", hint=_NO_FUNCTION_HINT)


def operator_not_found(name: str, left_oid: int | None, right_oid: int) -> UndefinedFunction:
    left = f"{type_name(left_oid)} " if left_oid else ""
    return UndefinedFunction(f"operator does not exist: {left}{name} {type_name(right_oid or t.UNKNOWN_OID)}",
                             hint=_NO_OPERATOR_HINT)


def resolve_operator(name: str, left_oid: int | None, right_oid: int, missing_ok: bool = True) -> OperatorDef | None:
    """The operator `left name right` (left None or 0 for a prefix operator)."""
    prefix = not left_oid
    right = right_oid or t.UNKNOWN_OID
    inputs: tuple[int, ...] = (right,) if prefix else (left_oid or t.UNKNOWN_OID, right)
    found = _operator_for(name, prefix, inputs)
    if found is None and not missing_ok:
        raise operator_not_found(name, None if prefix else left_oid, right)
    return found


def resolve_aggregate(name: str, arg_oids: Sequence[int], missing_ok: bool = True) -> AggregateDef | None:
    """The aggregate `name(args)`; count(*) is resolved with no arguments."""
    inputs = tuple(t.UNKNOWN_OID if o == 0 else o for o in arg_oids)
    found = enum_aggregate(name.lower(), inputs) or _choose(REGISTRY.aggregates.get(name.lower(), []), inputs,
                                                             "function", name)
    if found is None and not missing_ok:
        raise function_not_found(name, arg_oids)
    return found


_WINDOW_ONLY: dict[str, tuple[tuple[tuple[int, ...], int], ...]] = {
    "row_number": (((), t.INT8_OID),),
    "rank": (((), t.INT8_OID),),
    "dense_rank": (((), t.INT8_OID),),
    "percent_rank": (((), t.FLOAT8_OID),),
    "cume_dist": (((), t.FLOAT8_OID),),
    "ntile": (((t.INT4_OID,), t.INT4_OID),),
    "lag": (((t.ANYELEMENT_OID,), t.ANYELEMENT_OID), ((t.ANYELEMENT_OID, t.INT4_OID), t.ANYELEMENT_OID),
            ((t.ANYCOMPATIBLE_OID, t.INT4_OID, t.ANYCOMPATIBLE_OID), t.ANYCOMPATIBLE_OID)),
    "lead": (((t.ANYELEMENT_OID,), t.ANYELEMENT_OID), ((t.ANYELEMENT_OID, t.INT4_OID), t.ANYELEMENT_OID),
             ((t.ANYCOMPATIBLE_OID, t.INT4_OID, t.ANYCOMPATIBLE_OID), t.ANYCOMPATIBLE_OID)),
    "first_value": (((t.ANYELEMENT_OID,), t.ANYELEMENT_OID),),
    "last_value": (((t.ANYELEMENT_OID,), t.ANYELEMENT_OID),),
    "nth_value": (((t.ANYELEMENT_OID, t.INT4_OID), t.ANYELEMENT_OID),),
}


def resolve_window(name: str, arg_oids: Sequence[int]) -> WindowDef | None:
    """A window function: a ranking/value function (computed by the executor) or an aggregate."""
    signatures = _WINDOW_ONLY.get(name.lower())
    if signatures is None:
        agg = resolve_aggregate(name, arg_oids)
        if agg is None:
            return None
        return WindowDef(agg.name, agg.arg_oids, agg.return_oid, agg.make)
    inputs = tuple(t.UNKNOWN_OID if o == 0 else o for o in arg_oids)
    for declared, result in signatures:
        if len(declared) == len(inputs) and all(_coercible(a, d) for a, d in zip(inputs, declared, strict=True)):
            args, concrete = _resolve_polymorphic(inputs, declared, result)
            return WindowDef(name.lower(), args, concrete, None)
    return None


def resolve_set_function(name: str, arg_oids: Sequence[int]) -> FunctionDef | None:
    """A set-returning function for FROM (generate_series, unnest, jsonb_each...)."""
    inputs = tuple(t.UNKNOWN_OID if o == 0 else o for o in arg_oids)
    defs = [f for f in REGISTRY.functions.get(name.lower(), []) if f.retset]
    found = _choose(defs, inputs, "function", name)
    if found is None:
        return None
    if found.column_oids:
        return found
    return dataclasses.replace(found, column_oids=(found.return_oid,))
