"""Pattern matching: LIKE/ILIKE (~~ ~~* !~~ !~~*), SIMILAR TO, POSIX regular expressions and regexp_*.

Owns translating patterns to Python's `re` once per distinct pattern (cached) and PostgreSQL's
matching rules: LIKE's % _ and escape character, ARE flags (g i n s x), '.' matching newlines
and ^ $ anchoring the whole string by default, [[:alpha:]] classes, \\m \\M \\y word
boundaries, and replacement strings with \\1 and \\&.

    'abc' LIKE 'a%'        -> re.compile(r'a.*', DOTALL).fullmatch
    regexp_replace('aaa', 'a', 'b', 'g') -> 'bbb'
Not the string functions (text_functions).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

from pgaurora.catalog.builtins.registry import function, operator
from pgaurora.datatypes import typeinfo as t
from pgaurora.errors import (
    InvalidEscapeSequence,
    InvalidParameterValue,
    InvalidRegularExpression,
    InvalidUseOfEscapeCharacter,
)

T, B, N = t.TEXT_OID, t.BOOL_OID, t.NAME_OID
TEXT_ARRAY = t.TEXT_ARRAY_OID


@lru_cache(maxsize=1024)
def like_regex(pattern: str, case_insensitive: bool = False) -> re.Pattern[str]:
    """Compile a LIKE pattern (backslash escapes) to an anchored regex."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                raise InvalidEscapeSequence("LIKE pattern must not end with escape character")
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
        i += 1
    # C locale: case folding and character classes cover ASCII only
    flags = re.DOTALL | re.ASCII | (re.IGNORECASE if case_insensitive else 0)
    return re.compile("".join(out), flags)


def _dangling_escape(text: str, pattern: str, case_insensitive: bool) -> bool:
    """A pattern ending in a lone escape: PostgreSQL fails only if matching reaches it."""
    prefix = like_regex(pattern[:-1], case_insensitive).match(text)
    if prefix is not None and prefix.end() < len(text):
        raise InvalidEscapeSequence("LIKE pattern must not end with escape character")
    return False


def _ends_with_escape(pattern: str) -> bool:
    count = len(pattern) - len(pattern.rstrip("\\"))
    return count % 2 == 1


def like(text: str, pattern: str) -> bool:
    if pattern.endswith("\\") and _ends_with_escape(pattern):
        return _dangling_escape(text, pattern, False)
    return like_regex(pattern).fullmatch(text) is not None


def ilike(text: str, pattern: str) -> bool:
    if pattern.endswith("\\") and _ends_with_escape(pattern):
        return _dangling_escape(text, pattern, True)
    return like_regex(pattern, True).fullmatch(text) is not None


def like_escape(pattern: str, escape: str) -> str:
    """Rewrite a LIKE pattern with a custom ESCAPE character to the default backslash form."""
    if escape == "\\":
        return pattern
    if len(escape) > 1:
        raise InvalidEscapeSequence("invalid escape string",
                                    hint="Escape string must be empty or one character.")
    out = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if escape and ch == escape:
            if i + 1 >= n:
                raise InvalidEscapeSequence("LIKE pattern must not end with escape character")
            out.append("\\" + pattern[i + 1])
            i += 2
            continue
        out.append("\\\\" if ch == "\\" else ch)
        i += 1
    return "".join(out)


_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v", "punct": "!-/:-@\\[-`{-~", "xdigit": "0-9A-Fa-f", "word": "\\w",
    "blank": " \\t", "cntrl": "\\x00-\\x1f\\x7f", "print": " -~", "graph": "!-~",
}


def _translate_are(pattern: str) -> str:
    """POSIX ARE -> Python re syntax (the common subset)."""
    out = []
    i, n = 0, len(pattern)
    in_bracket = False
    while i < n:
        ch = pattern[i]
        if in_bracket:
            if ch == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                if end > 0:
                    name = pattern[i + 2:end]
                    if name not in _CLASSES:
                        raise InvalidRegularExpression("invalid regular expression: invalid character class")
                    out.append(_CLASSES[name])
                    i = end + 2
                    continue
            if ch == "]" and not (out and out[-1] in ("[", "[^")):
                in_bracket = False
            elif ch == "\\" and i + 1 < n:
                out.append(ch + pattern[i + 1])
                i += 2
                continue
            elif ch == "[":
                out.append("\\[")
                i += 1
                continue
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_bracket = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "m":
                out.append(r"\b(?=\w)")
            elif nxt == "M":
                out.append(r"\b(?<=\w)")
            elif nxt == "y":
                out.append(r"\b")
            elif nxt == "Y":
                out.append(r"\B")
            elif nxt == "A":
                out.append(r"\A")
            elif nxt == "Z":
                out.append(r"\Z")
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if ch == "$":
            out.append(r"\Z")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def compile_regex(pattern: str, flags: str = "") -> re.Pattern[str]:
    """Compile an ARE with PostgreSQL flag letters (not 'g', which callers handle)."""
    re_flags = re.DOTALL | re.ASCII
    for letter in flags:
        if letter == "i":
            re_flags |= re.IGNORECASE
        elif letter == "c":
            re_flags &= ~re.IGNORECASE
        elif letter in ("n", "m"):
            re_flags = (re_flags & ~re.DOTALL) | re.MULTILINE
        elif letter == "s":
            re_flags = (re_flags | re.DOTALL) & ~re.MULTILINE
        elif letter == "x":
            re_flags |= re.VERBOSE
        elif letter in ("g", "p", "w", "t", "b", "e", "q"):
            continue
        else:
            raise InvalidParameterValue(f'invalid regular expression option: "{letter}"')
    source = _translate_are(pattern)
    if re_flags & re.MULTILINE:
        source = source.replace(r"\Z", "$")
    try:
        return re.compile(source, re_flags)
    except re.error as exc:
        raise InvalidRegularExpression(f"invalid regular expression: {_pg_regex_message(exc.msg)}") from None


_REGEX_MESSAGES = (
    ("missing )", "parentheses () not balanced"), ("unbalanced parenthesis", "parentheses () not balanced"),
    ("unterminated character set", "brackets [] not balanced"), ("nothing to repeat", "quantifier operand invalid"),
    ("multiple repeat", "quantifier operand invalid"), ("bad escape", "invalid escape \\ sequence"),
    ("invalid group reference", "invalid backreference number"), ("bad character range", "invalid character range"),
    ("min repeat greater than max repeat", "invalid repetition count(s)"),
)


def _pg_regex_message(message: str) -> str:
    for python_text, pg_text in _REGEX_MESSAGES:
        if message.startswith(python_text):
            return pg_text
    return message


def regex_match(text: str, pattern: str) -> bool:
    return compile_regex(pattern).search(text) is not None


def regex_imatch(text: str, pattern: str) -> bool:
    return compile_regex(pattern, "i").search(text) is not None


def _replacement(template: str) -> Callable[[re.Match[str]], str]:
    parts: list[str | int] = []
    i, n = 0, len(template)
    buf: list[str] = []
    while i < n:
        ch = template[i]
        if ch == "\\" and i + 1 < n:
            nxt = template[i + 1]
            if nxt.isdigit():
                parts.append("".join(buf))
                buf = []
                parts.append(int(nxt))
                i += 2
                continue
            if nxt == "&":
                parts.append("".join(buf))
                buf = []
                parts.append(0)
                i += 2
                continue
            buf.append(nxt)
            i += 2
            continue
        buf.append(ch)
        i += 1
    parts.append("".join(buf))

    def expand(m: re.Match[str]) -> str:
        out = []
        for p in parts:
            if isinstance(p, int):
                if p <= (m.re.groups if p else 0):
                    out.append(m.group(p) or "")
            else:
                out.append(p)
        return "".join(out)

    return expand


def regexp_replace(text: str, pattern: str, replacement: str, flags: str = "") -> str:
    regex = compile_regex(pattern, flags)
    return regex.sub(_replacement(replacement), text, count=0 if "g" in flags else 1)


def regexp_matches(text: str, pattern: str, flags: str = "") -> Iterator[list[str | None]]:
    regex = compile_regex(pattern, flags)
    for m in regex.finditer(text):
        yield list(m.groups()) if regex.groups else [m.group(0)]
        if "g" not in flags:
            return


def regexp_match(text: str, pattern: str, flags: str = "") -> list[str | None] | None:
    if "g" in flags:
        raise InvalidParameterValue("regexp_match() does not support the \"global\" option",
                                    hint="Use the regexp_matches function instead.")
    m = compile_regex(pattern, flags).search(text)
    if m is None:
        return None
    return list(m.groups()) if m.re.groups else [m.group(0)]


def regexp_split(text: str, pattern: str, flags: str = "") -> list[str]:
    """Empty matches at either end of the string or right after a match are ignored, as in PostgreSQL."""
    regex = compile_regex(pattern, flags)
    out = []
    start = 0
    previous_end: int | None = None
    for m in regex.finditer(text):
        begin, end = m.span()
        if begin == end and (begin == 0 or begin == len(text) or begin == previous_end):
            continue
        out.append(text[start:begin])
        start = end
        previous_end = end
    out.append(text[start:])
    return out


def regexp_count(text: str, pattern: str, start: int = 1, flags: str = "") -> int:
    return sum(1 for _ in compile_regex(pattern, flags).finditer(text, max(start, 1) - 1))


def _nth_match(text: str, pattern: str, start: int, n: int, flags: str, function: str) -> re.Match[str] | None:
    """The n-th match at or after character `start` (1-based), as regexp_instr / regexp_substr
    count them (22023 for a start or n below 1)."""
    if start < 1:
        raise InvalidParameterValue(f'invalid value for parameter "start": {start}')
    if n < 1:
        raise InvalidParameterValue(f'invalid value for parameter "n": {n}')
    for k, m in enumerate(compile_regex(pattern, flags).finditer(text, start - 1), start=1):
        if k == n:
            return m
    return None


def regexp_instr(text: str, pattern: str, start: int = 1, n: int = 1, endoption: int = 0, flags: str = "",
                 subexpr: int = 0) -> int:
    """PostgreSQL 15's regexp_instr: where the n-th match (or its subexpression) starts, or ends
    with `endoption` 1; 0 when there is none."""
    if endoption not in (0, 1):
        raise InvalidParameterValue(f'invalid value for parameter "endoption": {endoption}')
    if subexpr < 0:
        raise InvalidParameterValue(f'invalid value for parameter "subexpr": {subexpr}')
    m = _nth_match(text, pattern, start, n, flags, "regexp_instr")
    if m is None or subexpr > (m.re.groups or 0) or m.start(subexpr) < 0:
        return 0
    return (m.end(subexpr) if endoption else m.start(subexpr)) + 1


def regexp_substr(text: str, pattern: str, start: int = 1, n: int = 1, flags: str = "", subexpr: int = 0) -> str | None:
    """PostgreSQL 15's regexp_substr: the n-th match (or its subexpression), NULL when none."""
    if subexpr < 0:
        raise InvalidParameterValue(f'invalid value for parameter "subexpr": {subexpr}')
    m = _nth_match(text, pattern, start, n, flags, "regexp_substr")
    if m is None or subexpr > (m.re.groups or 0):
        return None
    return m.group(subexpr)


def substring_regex(text: str, pattern: str) -> str | None:
    m = compile_regex(pattern).search(text)
    if m is None:
        return None
    return m.group(1) if m.re.groups else m.group(0)


def similar_to_escape(pattern: str, escape: str | None = "\\") -> str:
    """SQL SIMILAR TO pattern -> ARE: % -> .*, _ -> ., anchored as ^(?:...)$."""
    out = ["^(?:"]
    i, n = 0, len(pattern)
    in_bracket = False
    separators = 0
    while i < n:
        ch = pattern[i]
        if escape and ch == escape:
            if i + 1 >= n:
                raise InvalidEscapeSequence("invalid escape string",
                                            hint="Escape string must be empty or one character.")
            if pattern[i + 1] == '"':  # escape-double-quote: the part substring(... SIMILAR ...) returns
                separators += 1
                if separators > 2:
                    raise InvalidUseOfEscapeCharacter(
                        "SQL regular expression may not contain more than two escape-double-quote separators")
                out.append("){1,1}?(" if separators == 1 else "){1,1}(?:")
                i += 2
                continue
            out.append("\\" + pattern[i + 1])
            i += 2
            continue
        if in_bracket:
            if ch == "]":
                in_bracket = False
            out.append(ch)
        elif ch == "[":
            in_bracket = True
            out.append(ch)
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch == ".":
            out.append("\\.")
        elif ch == "(":
            out.append("(?:")
        elif ch in "\\^$":
            out.append("\\" + ch)
        else:
            out.append(ch)
        i += 1
    out.append(")$")
    return "".join(out)


def _register() -> None:
    for left in (T, N):
        operator("~~", left, T, B, like, negator="!~~")
        operator("!~~", left, T, B, lambda a, b: not like(a, b), negator="~~")
        operator("~~*", left, T, B, ilike, negator="!~~*")
        operator("!~~*", left, T, B, lambda a, b: not ilike(a, b), negator="~~*")
        operator("~", left, T, B, regex_match, negator="!~")
        operator("!~", left, T, B, lambda a, b: not regex_match(a, b), negator="~")
        operator("~*", left, T, B, regex_imatch, negator="!~*")
        operator("!~*", left, T, B, lambda a, b: not regex_imatch(a, b), negator="~*")
    operator("~~", t.BYTEA_OID, t.BYTEA_OID, B,
             lambda a, b: like_regex(b.decode("latin-1")).fullmatch(a.decode("latin-1")) is not None)
    function("like_escape", (T, T), T, like_escape)
    function("like", (T, T), B, like)
    function("similar_to_escape", (T,), T, similar_to_escape)
    function("similar_to_escape", (T, T), T, similar_to_escape)
    function("regexp_replace", (T, T, T), T, regexp_replace)
    function("regexp_replace", (T, T, T, T), T, regexp_replace)
    function("regexp_matches", (T, T), TEXT_ARRAY, regexp_matches, retset=True)
    function("regexp_matches", (T, T, T), TEXT_ARRAY, regexp_matches, retset=True)
    function("regexp_match", (T, T), TEXT_ARRAY, regexp_match)
    function("regexp_match", (T, T, T), TEXT_ARRAY, regexp_match)
    function("regexp_split_to_array", (T, T), TEXT_ARRAY, regexp_split)
    function("regexp_split_to_array", (T, T, T), TEXT_ARRAY, regexp_split)
    function("regexp_split_to_table", (T, T), T, regexp_split, retset=True)
    function("regexp_split_to_table", (T, T, T), T, regexp_split, retset=True)
    function("regexp_count", (T, T), t.INT4_OID, regexp_count)
    function("regexp_count", (T, T, t.INT4_OID), t.INT4_OID, regexp_count)
    function("regexp_count", (T, T, t.INT4_OID, T), t.INT4_OID, regexp_count)
    I4 = t.INT4_OID
    for extra in ((), (I4,), (I4, I4), (I4, I4, I4), (I4, I4, I4, T), (I4, I4, I4, T, I4)):
        function("regexp_instr", (T, T, *extra), I4, regexp_instr)
    for extra in ((), (I4,), (I4, I4), (I4, I4, T), (I4, I4, T, I4)):
        function("regexp_substr", (T, T, *extra), T, regexp_substr)
    function("regexp_like", (T, T), B, lambda s, p: regex_match(s, p))
    function("regexp_like", (T, T, T), B, lambda s, p, f: compile_regex(p, f).search(s) is not None)
    function("substring", (T, T), T, substring_regex)
    # substring(string SIMILAR pattern ESCAPE escape)
    function("substring", (T, T, T), T, lambda s, p, e: substring_regex(s, similar_to_escape(p, e)))
    function("textregexeq", (T, T), B, regex_match)


_register()
