"""The built-ins of VARIADIC "any" (format, concat, concat_ws) called with VARIADIC array: the
array's elements are the arguments (a NULL array: concat's NULL, format's none), as in
PostgreSQL 15."""

from __future__ import annotations

from tests.pgoracle import PgOracle, assert_same_transcript
from tests.server.harness import InstanceProcess

STEPS = [
    "SELECT format('%s-%s', VARIADIC ARRAY['a', 'b']), format('%2$s %1$s', VARIADIC ARRAY[1, 2]), "
    "format('x', VARIADIC NULL::text[])",
    "SELECT concat(VARIADIC ARRAY[1, 2, 3]), concat_ws('/', VARIADIC ARRAY['a', NULL, 'c']), "
    "concat(VARIADIC NULL::int[])",
    "SELECT format('%I.%I', VARIADIC string_to_array('public.t', '.'))",
    "SELECT concat(VARIADIC ARRAY[[1,2],[3,4]])",
    "SELECT format('%s', VARIADIC 5)",
]


def test_variadic_arrays_of_any_builtins_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, details=True)
