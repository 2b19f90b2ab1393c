"""String functions and the || operator: length, lower/upper, substr, position, trim, pad, split_part,
concat, format, quote_*, md5, encode/decode, string_to_array, array_to_string...

Owns PostgreSQL's semantics for each (negative lengths, NULL handling of concat/concat_ws,
format()'s %s %I %L with positions and widths, character(n) ignoring trailing blanks).
Not pattern matching (patterns).
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
import uuid
from collections.abc import Callable
from typing import Any

from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

from pgaurora.catalog.builtins.output import context_of, output_function, text_cast
from pgaurora.catalog.builtins.registry import function, operator
from pgaurora.datatypes import strings
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import (
    CharacterNotInRepertoire,
    InvalidParameterValue,
    ProgramLimitExceeded,
    SubstringError,
)

T, I4, I8, B = t.TEXT_OID, t.INT4_OID, t.INT8_OID, t.BOOL_OID
_QUOTED_KEYWORDS = frozenset(RESERVED_KEYWORDS) | frozenset(TYPE_FUNC_NAME_KEYWORDS) | frozenset(COL_NAME_KEYWORDS)


def substr(text: str, start: int, length: int | None = None) -> str:
    """substr/substring with SQL's rules for start positions before 1."""
    if length is None:
        return text[max(start, 1) - 1:]
    if length < 0:
        raise SubstringError("negative substring length not allowed")
    end = start + length
    if end <= 1:
        return ""
    return text[max(start, 1) - 1:end - 1]


def position(text: str, sub: str) -> int:
    return text.find(sub) + 1


def lpad(text: str, length: int, fill: str = " ") -> str:
    if length <= 0:
        return ""
    if len(text) >= length or not fill:
        return text[:length]
    need = length - len(text)
    return (fill * (need // len(fill) + 1))[:need] + text


def rpad(text: str, length: int, fill: str = " ") -> str:
    if length <= 0:
        return ""
    if len(text) >= length or not fill:
        return text[:length]
    need = length - len(text)
    return text + (fill * (need // len(fill) + 1))[:need]


def left(text: str, n: int) -> str:
    return text[:n] if n >= 0 else text[:max(len(text) + n, 0)]


def right(text: str, n: int) -> str:
    if n >= 0:
        return text[len(text) - n:] if n else ""
    return text[-n:]


def split_part(text: str, delimiter: str, field: int) -> str:
    if field == 0:
        raise InvalidParameterValue("field position must not be zero")
    if delimiter == "":
        parts = [text]
    else:
        parts = text.split(delimiter)
    if text == "":
        return ""
    index = field - 1 if field > 0 else len(parts) + field
    return parts[index] if 0 <= index < len(parts) else ""


def translate(text: str, source: str, target: str) -> str:
    table: dict[int, int | None] = {}
    for i, ch in enumerate(source):
        if ord(ch) in table:
            continue
        table[ord(ch)] = ord(target[i]) if i < len(target) else None
    return text.translate(table)


# The C locale (the only one pgaurora offers) changes the case of ASCII letters only.
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def lower(text: str) -> str:
    return text.translate(_LOWER)


def upper(text: str) -> str:
    return text.translate(_UPPER)


def initcap(text: str) -> str:
    out = []
    in_word = False
    for ch in text:
        out.append(ch.translate(_LOWER) if in_word else ch.translate(_UPPER))
        in_word = ch.isascii() and ch.isalnum()
    return "".join(out)


def chr_(code: int) -> str:
    if code == 0:
        raise ProgramLimitExceeded("null character not permitted")
    if code < 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise ProgramLimitExceeded(f"requested character too large for encoding: {code}")
    return chr(code)


def quote_ident(name: str) -> str:
    safe = bool(name) and (name[0].islower() or name[0] == "_") and all(
        (c.islower() and c.isascii()) or c.isdigit() or c == "_" for c in name)
    if safe and name not in _QUOTED_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    escaped = text.replace("'", "''")
    if "\\" in text:
        return "E'" + escaped.replace("\\", "\\\\") + "'"
    return "'" + escaped + "'"


def to_hex(bits: int) -> Callable[[int], str]:
    mask = (1 << bits) - 1
    return lambda value: format(value & mask, "x")


def encode(data: bytes, fmt: str) -> str:
    kind = fmt.lower()
    if kind == "hex":
        return data.hex()
    if kind == "base64":
        encoded = base64.b64encode(data).decode("ascii")
        return "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
    if kind == "escape":
        out = []
        for b in data:
            if b == 0x5C:
                out.append("\\\\")
            elif b == 0 or b >= 0x80:
                out.append(f"\\{b:03o}")
            else:
                out.append(chr(b))
        return "".join(out)
    raise InvalidParameterValue(f'unrecognized encoding: "{fmt}"')


def decode(text: str, fmt: str) -> bytes:
    kind = fmt.lower()
    if kind == "hex":
        try:
            return bytes.fromhex(text)
        except ValueError:
            return strings.parse_bytea("\\x" + text)
    if kind == "base64":
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except ValueError:
            raise InvalidParameterValue("invalid base64 end sequence",
                                        hint="Input data is missing padding, is truncated, or is otherwise corrupted.") from None
    if kind == "escape":
        return strings.parse_bytea(text)
    raise InvalidParameterValue(f'unrecognized encoding: "{fmt}"')


def string_to_array(text: str, delimiter: str | None, null_string: str | None = None) -> list[str | None] | None:
    if text == "":
        return []
    if delimiter is None:
        parts = list(text)
    elif delimiter == "":
        parts = [text]
    else:
        parts = text.split(delimiter)
    return [None if null_string is not None and p == null_string else p for p in parts]


def _flatten(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, list):
            out.extend(_flatten(v))
        else:
            out.append(v)
    return out


def _array_to_string_binder(arg_oids: tuple[int, ...]) -> Callable[..., str]:
    elem = t.element_of(arg_oids[0]) or t.TEXT_OID

    def array_to_string(ctx: Any, values: list[Any], delimiter: str, null_string: str | None = None) -> str:
        out = output_function(elem, context_of(ctx))
        parts = [out(v) if v is not None else null_string for v in _flatten(values)]
        return delimiter.join(p for p in parts if p is not None)

    return array_to_string


def _concat_binder(arg_oids: tuple[int, ...]) -> Callable[..., str]:
    def concat(ctx: Any, *values: Any) -> str:
        fmt = context_of(ctx)
        return "".join(output_function(o, fmt)(v) for o, v in zip(arg_oids, values, strict=True) if v is not None)

    return concat


def _concat_ws_binder(arg_oids: tuple[int, ...]) -> Callable[..., str | None]:
    def concat_ws(ctx: Any, separator: str | None, *values: Any) -> str | None:
        if separator is None:
            return None
        fmt = context_of(ctx)
        return separator.join(output_function(o, fmt)(v)
                              for o, v in zip(arg_oids[1:], values, strict=True) if v is not None)

    return concat_ws


def _format_binder(arg_oids: tuple[int, ...]) -> Callable[..., str | None]:
    def format_(ctx: Any, fmt_text: str | None, *values: Any) -> str | None:
        if fmt_text is None:
            return None
        fmt = context_of(ctx)
        rendered = [None if v is None else output_function(o, fmt)(v)
                    for o, v in zip(arg_oids[1:], values, strict=True)]
        return format_text(fmt_text, rendered)

    return format_


def format_text(template: str, args: list[str | None]) -> str:
    """format(): %[position$][-][width]type with types s, I, L and %%."""
    out: list[str] = []
    i, n = 0, len(template)
    next_arg = 0
    while i < n:
        ch = template[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        i += 1
        if i >= n:
            raise InvalidParameterValue("unterminated format() type specifier",
                                        hint='For a single "%" use "%%".')
        if template[i] == "%":
            out.append("%")
            i += 1
            continue
        start = i
        while i < n and template[i].isdigit():
            i += 1
        argpos: int | None = None
        if i < n and template[i] == "$" and i > start:
            argpos = int(template[start:i])
            if argpos == 0:
                raise InvalidParameterValue("format specifies argument 0, but arguments are numbered from 1")
            i += 1
        else:
            i = start
        minus = False
        if i < n and template[i] == "-":
            minus = True
            i += 1
        wstart = i
        while i < n and template[i].isdigit():
            i += 1
        width = int(template[wstart:i]) if i > wstart else 0
        if i >= n:
            raise InvalidParameterValue("unterminated format() type specifier",
                                        hint='For a single "%" use "%%".')
        kind = template[i]
        i += 1
        if kind not in "sIL":
            raise InvalidParameterValue(f'unrecognized format() type specifier "{kind}"',
                                        hint='For a single "%" use "%%".')
        index = argpos - 1 if argpos is not None else next_arg
        if index >= len(args):
            raise InvalidParameterValue("too few arguments for format()")
        next_arg = index + 1
        value = args[index]
        if kind == "s":
            text = "" if value is None else value
        elif kind == "I":
            if value is None:
                raise InvalidParameterValue("null values cannot be formatted as an SQL identifier")
            text = quote_ident(value)
        else:
            text = "NULL" if value is None else quote_literal(value)
        if width:
            text = text.ljust(width) if minus else text.rjust(width)
        out.append(text)
    return "".join(out)


def _textcat_binder(arg_oids: tuple[int, ...]) -> Callable[..., str]:
    left_oid, right_oid = arg_oids

    def cat(ctx: Any, a: Any, b: Any) -> str:
        fmt = context_of(ctx)
        return text_cast(left_oid, fmt)(a) + text_cast(right_oid, fmt)(b)

    return cat


# pg_encoding_to_char(): PostgreSQL's encoding numbers (pg_wchar.h) for the encodings clients ask about.
_ENCODINGS = {0: "SQL_ASCII", 1: "EUC_JP", 2: "EUC_CN", 3: "EUC_KR", 4: "EUC_TW", 5: "EUC_JIS_2004", 6: "UTF8",
              7: "MULE_INTERNAL", 8: "LATIN1", 9: "LATIN2", 10: "LATIN3", 11: "LATIN4", 12: "LATIN5", 13: "LATIN6",
              14: "LATIN7", 15: "LATIN8", 16: "LATIN9", 17: "LATIN10", 18: "WIN1256", 19: "WIN1258", 20: "WIN866",
              21: "WIN874", 22: "KOI8R", 23: "WIN1251", 24: "WIN1252", 25: "ISO_8859_5", 26: "ISO_8859_6",
              27: "ISO_8859_7", 28: "ISO_8859_8", 29: "WIN1250", 30: "WIN1253", 31: "WIN1254", 32: "WIN1255",
              33: "WIN1257", 34: "KOI8U", 35: "SJIS", 36: "BIG5", 37: "GBK", 38: "UHC", 39: "GB18030", 40: "JOHAB",
              41: "SHIFT_JIS_2004"}
_ENCODING_NUMBERS = {name: number for number, name in _ENCODINGS.items()}


def _format_type(ctx: Any, oid: int | None, typmod: int | None) -> str | None:
    if oid is None:
        return None
    if oid >= 16384:  # a type CREATE TYPE made: named (qualified where not visible) by the catalog
        from pgaurora.catalog.system.regtypes import state_of, user_type_display

        shown = user_type_display(state_of(ctx), oid) if "catalog_state" in ctx.extra else None
        if shown is not None:
            return shown
    if typmod is not None and typmod < 0 and oid in (t.BPCHAR_OID, t.BIT_OID):
        # a given typmod of -1 is not CHARACTER / BIT (which mean length 1): show the raw name
        return "bpchar" if oid == t.BPCHAR_OID else '"bit"'
    return t.format_type(oid, -1 if typmod is None else typmod)


def _check_text(value: str) -> str:
    if "\x00" in value:
        raise CharacterNotInRepertoire('invalid byte sequence for encoding "UTF8": 0x00')
    return value


def _normal_form(form: str) -> Any:
    if form.upper() not in ("NFC", "NFD", "NFKC", "NFKD"):
        from pgaurora.errors import InvalidParameterValue

        raise InvalidParameterValue(f"invalid normalization form: {form}")
    return form.upper()


def normalize(text: str, form: str) -> str:
    """normalize(text [, form]): Unicode normalization (SQL's NORMALIZE(text, NFC | NFD | NFKC | NFKD))."""
    return unicodedata.normalize(_normal_form(form), text)


def is_normalized(text: str, form: str) -> bool:
    """text IS [form] NORMALIZED."""
    return unicodedata.is_normalized(_normal_form(form), text)


def _register() -> None:
    BP, BYTEA, N = t.BPCHAR_OID, t.BYTEA_OID, t.NAME_OID
    for name in ("length", "char_length", "character_length"):
        function(name, (T,), I4, len)
        function(name, (BP,), I4, lambda s: len(s.rstrip(" ")))
    function("length", (BYTEA,), I4, len)
    function("octet_length", (T,), I4, lambda s: len(s.encode("utf-8")))
    function("octet_length", (BP,), I4, lambda s: len(s.encode("utf-8")))
    function("octet_length", (BYTEA,), I4, len)
    function("bit_length", (T,), I4, lambda s: 8 * len(s.encode("utf-8")))
    function("bit_length", (BYTEA,), I4, lambda b: 8 * len(b))
    function("lower", (T,), T, lower)
    function("upper", (T,), T, upper)
    function("normalize", (T,), T, lambda s: normalize(s, "NFC"))
    function("normalize", (T, T), T, normalize)
    function("is_normalized", (T,), t.BOOL_OID, lambda s: is_normalized(s, "NFC"))
    function("is_normalized", (T, T), t.BOOL_OID, is_normalized)
    function("initcap", (T,), T, initcap)
    for name in ("substr", "substring"):
        function(name, (T, I4), T, substr)
        function(name, (T, I4, I4), T, substr)
        function(name, (BYTEA, I4), BYTEA, substr)
        function(name, (BYTEA, I4, I4), BYTEA, substr)
    function("position", (T, T), I4, position)
    function("strpos", (T, T), I4, position)
    function("position", (BYTEA, BYTEA), I4, lambda a, b: a.find(b) + 1)
    function("replace", (T, T, T), T, lambda s, a, b: s.replace(a, b) if a else s)
    function("translate", (T, T, T), T, translate)
    function("btrim", (T,), T, lambda s: s.strip(" "))
    function("btrim", (T, T), T, lambda s, c: s.strip(c))
    function("ltrim", (T,), T, lambda s: s.lstrip(" "))
    function("ltrim", (T, T), T, lambda s, c: s.lstrip(c))
    function("rtrim", (T,), T, lambda s: s.rstrip(" "))
    function("rtrim", (T, T), T, lambda s, c: s.rstrip(c))
    function("btrim", (BYTEA, BYTEA), BYTEA, lambda s, c: s.strip(c))
    function("lpad", (T, I4), T, lpad)
    function("lpad", (T, I4, T), T, lpad)
    function("rpad", (T, I4), T, rpad)
    function("rpad", (T, I4, T), T, rpad)
    function("left", (T, I4), T, left)
    function("right", (T, I4), T, right)
    function("repeat", (T, I4), T, lambda s, n: s * max(n, 0))
    function("reverse", (T,), T, lambda s: s[::-1])
    function("split_part", (T, T, I4), T, split_part)
    function("starts_with", (T, T), B, str.startswith)
    function("ascii", (T,), I4, lambda s: ord(s[0]) if s else 0)
    function("chr", (I4,), T, chr_)
    function("md5", (T,), T, lambda s: hashlib.md5(s.encode("utf-8")).hexdigest())
    function("md5", (BYTEA,), T, lambda b: hashlib.md5(b).hexdigest())
    function("sha256", (BYTEA,), BYTEA, lambda b: hashlib.sha256(b).digest())
    function("to_hex", (I4,), T, to_hex(32))
    function("to_hex", (I8,), T, to_hex(64))
    function("quote_ident", (T,), T, quote_ident)
    function("quote_literal", (T,), T, quote_literal)
    function("quote_literal", (t.ANYELEMENT_OID,), T, lambda v: quote_literal(str(v)),
             binder=lambda oids: (lambda v: quote_literal(text_cast(oids[0])(v))))
    function("quote_nullable", (T,), T, lambda v: "NULL" if v is None else quote_literal(v), strict=False)
    function("encode", (BYTEA, T), T, encode)
    function("decode", (T, T), BYTEA, decode)
    function("overlay", (T, T, I4, I4), T, lambda s, r, start, count: s[:start - 1] + r + s[start - 1 + count:])
    function("overlay", (T, T, I4), T, lambda s, r, start: s[:start - 1] + r + s[start - 1 + len(r):])
    function("string_to_array", (T, T), t.TEXT_ARRAY_OID, string_to_array, strict=False)
    function("string_to_array", (T, T, T), t.TEXT_ARRAY_OID, string_to_array, strict=False)
    function("array_to_string", (t.ANYARRAY_OID, T), T, lambda *a: None, binder=_array_to_string_binder,
             needs_context=True, volatility="s")
    function("array_to_string", (t.ANYARRAY_OID, T, T), T, lambda *a: None, binder=_array_to_string_binder,
             needs_context=True, volatility="s", strict=False)
    function("concat", (t.ANY_OID,), T, lambda *a: None, variadic_oid=t.ANY_OID, strict=False,
             binder=_concat_binder, needs_context=True, volatility="s")
    function("concat_ws", (T, t.ANY_OID), T, lambda *a: None, variadic_oid=t.ANY_OID, strict=False,
             binder=_concat_ws_binder, needs_context=True, volatility="s")
    function("format", (T,), T, lambda ctx, f: format_text(f, []), needs_context=True)
    function("format", (T, t.ANY_OID), T, lambda *a: None, variadic_oid=t.ANY_OID, strict=False,
             binder=_format_binder, needs_context=True, volatility="s")
    function("gen_random_uuid", (), t.UUID_OID, uuid.uuid4, volatility="v")
    function("format_type", (t.OID_OID, I4), T, _format_type, strict=False, volatility="s", needs_context=True)
    function("pg_encoding_to_char", (I4,), N, lambda n: _ENCODINGS.get(n, ""), volatility="s")
    function("pg_char_to_encoding", (N,), I4,
             lambda name: _ENCODING_NUMBERS.get(name.upper().replace("-", "").replace("UTF8", "UTF8"), -1),
             volatility="s")
    function("pg_typeof", (t.ANY_OID,), t.REGTYPE_OID, lambda v: None, strict=False, volatility="s",
             binder=lambda oids: (lambda v, oid=oids[0]: oid))
    function("num_nulls", (t.ANY_OID,), I4, lambda *a: sum(1 for v in a if v is None), variadic_oid=t.ANY_OID,
             strict=False)
    function("num_nonnulls", (t.ANY_OID,), I4, lambda *a: sum(1 for v in a if v is not None),
             variadic_oid=t.ANY_OID, strict=False)
    function("text", (BP,), T, strings.bpchar_trimmed)
    operator("||", T, T, T, lambda a, b: a + b)
    operator("||", T, t.ANYNONARRAY_OID, T, lambda *a: None, binder=_textcat_binder, needs_context=True,
             volatility="s")
    operator("||", t.ANYNONARRAY_OID, T, T, lambda *a: None, binder=_textcat_binder, needs_context=True,
             volatility="s")
    operator("||", BYTEA, BYTEA, BYTEA, lambda a, b: a + b)
    operator("^@", T, T, B, str.startswith)
    _ = N


_register()



def _byte_index(data: bytes, n: int) -> None:
    if not 0 <= n < len(data):
        from pgaurora.errors import ArraySubscriptError

        raise ArraySubscriptError(f"index {n} out of valid range, 0..{len(data) - 1}")


def get_byte(data: bytes, n: int) -> int:
    _byte_index(data, n)
    return data[n]


def set_byte(data: bytes, n: int, value: int) -> bytes:
    _byte_index(data, n)
    return data[:n] + bytes([value & 0xFF]) + data[n + 1:]


_PYTHON_CODECS = {"UTF8": "utf-8", "SQL_ASCII": "ascii", "LATIN1": "latin-1", "LATIN2": "iso8859-2",
                  "WIN1252": "cp1252", "WIN1251": "cp1251", "KOI8R": "koi8-r", "EUC_JP": "euc-jp", "SJIS": "shift_jis",
                  "GBK": "gbk", "BIG5": "big5", "UHC": "cp949", "GB18030": "gb18030"}


def _codec(name: str) -> str:
    key = name.upper().replace("-", "").replace("_", "") if name.upper() not in _PYTHON_CODECS else name.upper()
    for pg_name, codec in _PYTHON_CODECS.items():
        if pg_name.replace("_", "") == key or pg_name == key:
            return codec
    raise InvalidParameterValue(f'invalid destination encoding name "{name}"')


def convert_to(text: str, encoding: str) -> bytes:
    try:
        return text.encode(_codec(encoding))
    except UnicodeEncodeError as exc:
        from pgaurora.errors import UntranslatableCharacter

        raise UntranslatableCharacter(
            f'character with byte sequence 0x{exc.object[exc.start].encode("utf-8").hex()} in encoding "UTF8" '
            f'has no equivalent in encoding "{encoding.upper()}"') from None


def convert_from(data: bytes, encoding: str) -> str:
    from pgaurora.datatypes.strings import decode_utf8

    codec = _codec(encoding)
    if codec == "utf-8":
        return decode_utf8(data)
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise CharacterNotInRepertoire(
            f'invalid byte sequence for encoding "{encoding.upper()}": 0x{data[exc.start]:02x}') from None


def _register_bytes() -> None:
    BYTEA = t.BYTEA_OID
    function("get_byte", (BYTEA, I4), I4, get_byte)
    function("set_byte", (BYTEA, I4, I4), BYTEA, set_byte)
    for bits in (224, 384, 512):
        function(f"sha{bits}", (BYTEA,), BYTEA, lambda b, n=bits: hashlib.new(f"sha{n}", b).digest())
    function("convert_to", (T, t.NAME_OID), BYTEA, convert_to, volatility="s")
    function("convert_from", (BYTEA, t.NAME_OID), T, convert_from, volatility="s")


_register_bytes()
