"""pgaurora.datatypes — SQL values in Python: the type registry, text/binary I/O, typmods, casts.

Files (bottom-up):
    values.py          Interval, Jsonb, FormatContext (DateStyle, TimeZone, extra_float_digits...)
    typetable.py       PostgreSQL 15's pg_type rows for the known types (generated data)
    typeinfo.py        TypeInfo, lookup(oid), lookup_name(name), format_type(), oid constants
    numbers.py         int2/4/8, oid, float4/8, numeric: input rules, output, numeric binary, typmod
    strings.py         text, varchar(n), bpchar(n), name, "char", bytea
    scalars.py         bool, uuid, tid, oidvector/int2vector, pg_lsn, xid/cid/xid8
    bitstrings.py      bit(n) and bit varying(n) (values are '0'/'1' strings)
    datetime_parse.py  date/time text input (ParseDateTime/DecodeDateTime)
    datetimes.py       date, time, timetz, timestamp, timestamptz values, output, binary
    intervals.py       interval input (postgres and ISO 8601), output, binary
    jsonvalues.py      json (validated text) and jsonb (normalised) I/O
    arrays.py          array literals and the binary array format
    records.py         anonymous record (composite) text format: record_out / record_in
    codecs.py          per-oid closures: text_encoder/text_decoder/binary_encoder/binary_decoder
    casttable.py       PostgreSQL 15's pg_cast rows among the known types (generated data)
    casts.py           pg_cast: cast(), cast_function(), cast contexts, type categories

SQL NULL is None everywhere; codecs never see None (callers test for it once per value).
"""

from pgaurora.datatypes.casts import (
    CastContext,
    can_coerce,
    cast,
    cast_context,
    cast_depends_on_session,
    cast_function,
    is_preferred,
    type_category,
)
from pgaurora.datatypes.codecs import (
    binary_decoder,
    binary_encoder,
    format_value,
    parse_value,
    text_decoder,
    text_encoder,
    typmod_coercer,
)
from pgaurora.datatypes.typeinfo import (
    TypeInfo,
    all_types,
    array_of,
    element_of,
    find,
    format_type,
    lookup,
    lookup_name,
)
from pgaurora.datatypes.values import DEFAULT_CONTEXT, FormatContext, Interval, Jsonb

__all__ = [
    "DEFAULT_CONTEXT", "CastContext", "FormatContext", "Interval", "Jsonb", "TypeInfo", "all_types",
    "array_of", "binary_decoder", "binary_encoder", "can_coerce", "cast", "cast_context", "cast_depends_on_session",
    "cast_function", "element_of", "find", "format_type", "format_value", "is_preferred", "lookup",
    "lookup_name", "parse_value", "text_decoder", "text_encoder", "type_category", "typmod_coercer",
]
