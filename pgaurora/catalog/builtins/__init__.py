"""pgaurora.catalog.builtins — built-in functions, operators and aggregates (pg_proc, pg_operator, pg_aggregate).

Files:
    registry.py           FunctionDef / OperatorDef / AggregateDef / WindowDef and the name index
    resolution.py         PostgreSQL's overload resolution (exact, implicit casts, preferred types,
                          unknown literals, polymorphic types); resolve_function/operator/aggregate
    numeric_math.py       numeric division/sqrt/ln/exp/power with PostgreSQL's result scales
    arithmetic.py         + - * / % ^ and bitwise operators on integers, floats, numeric
    comparison.py         = <> < <= > >= for every ordered type; sort_key() and comparator()
    math_functions.py     abs, round, trunc, ceil, floor, sqrt, ln, log, power, random, ...
    text_functions.py     length, lower, substr, position, trim, lpad, split_part, concat, format, md5, ...
    bitstring_functions.py bit/varbit operators and functions
    patterns.py           LIKE / ILIKE / regular expressions and the regexp_* functions
    datetime_operators.py date/time/interval arithmetic (date + int, timestamp +- interval, interval * float)
    datetime_functions.py now(), extract/date_part, date_trunc, age, make_*, justify_*, AT TIME ZONE
    formatting.py         to_char for dates/times/intervals, to_date, to_timestamp(text, text)
    number_format.py      to_char for numbers, to_number
    output.py             value -> text inside built-ins (output function vs cast to text)
    proctable.py          PostgreSQL 15 pg_proc / pg_operator oids of the built-ins (generated)
    json_functions.py     json/jsonb operators, navigation and inspection functions
    json_building.py      to_json/to_jsonb, json(b)_build_object/array: SQL values as JSON
    array_functions.py    array operators and functions, unnest, generate_series
    aggregates.py         count, sum, avg, min, max, bool_and/or, string_agg, array_agg, stddev, json_agg...
    advisory.py           pg_advisory_lock and kin (waiting ones: WaitingFunction)
    sleep.py              pg_sleep, pg_sleep_for, pg_sleep_until (WaitingFunction)
    network_functions.py  inet / cidr containment operators and functions

Importing the package registers everything. Functions that need the executor's context
(now(), timestamptz arithmetic in the session TimeZone) have needs_context=True and are called
as impl(ctx, *args).
"""

from pgaurora.catalog.builtins import (  # noqa: F401  (importing registers the built-ins)
    advisory,
    aggregates,
    arithmetic,
    array_functions,
    bitstring_functions,
    comparison,
    datetime_functions,
    datetime_operators,
    formatting,
    json_building,
    json_functions,
    math_functions,
    network_functions,
    patterns,
    range_functions,
    sleep,
    text_functions,
)
from pgaurora.catalog.builtins.array_functions import slice_array, subscript
from pgaurora.catalog.builtins.comparison import comparator, sort_key
from pgaurora.catalog.builtins.registry import (
    AggregateDef,
    FunctionDef,
    OperatorDef,
    WindowDef,
    aggregates_named,
    all_aggregates,
    all_functions,
    all_operators,
    functions_named,
    is_aggregate,
    operators_named,
)
from pgaurora.catalog.builtins.resolution import (
    common_type,
    function_not_found,
    operator_not_found,
    resolve_aggregate,
    resolve_function,
    resolve_operator,
    resolve_set_function,
    resolve_window,
)

__all__ = [
    "AggregateDef", "FunctionDef", "OperatorDef", "WindowDef", "aggregates_named", "all_aggregates",
    "all_functions", "all_operators", "common_type", "comparator", "function_not_found", "functions_named",
    "is_aggregate", "operator_not_found", "operators_named", "resolve_aggregate", "resolve_function",
    "resolve_operator", "resolve_set_function", "resolve_window", "slice_array", "sort_key", "subscript",
]
