"""PL/pgSQL: which block declares which variables (PostgreSQL's PLpgSQL_stmt_block.initvarnos).

Owns placing a function's DECLAREd variables in the blocks that declare them. pglast's tree lists
every variable of a function in one `datums` array, in the order PostgreSQL's parser made them,
and leaves out which block's DECLARE section made each; but a nested block's variables are
initialized each time the block is entered and are visible inside it only (shadowing an outer
variable of the same name). The body's tokens say it: each BEGIN of a block, in source order,
and the names the DECLARE section before it declares. Matched in source order to the tree's
blocks and to the datums, each block gets

    decls    ((name, datum), ...)    its variables, in declaration order
    aliases  ((name, target), ...)   `name ALIAS FOR target` (a parameter `$n` or a name)

and the tree `block_datums`, every datum some block declares. When the tokens cannot be matched
to the tree (a BEGIN the scan cannot place), nothing is added and the frame keeps every variable
function-wide, initialized once per call, as before. Also `mark_row_types`: a variable declared
of a composite type or a table's row type made a record before pglast parses the body. Not the
running of blocks (session.plpgsql).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pglast

Section = list[tuple[str, str | None]]  # (name, ALIAS FOR target or None)


def place_declarations(tree: dict[str, Any], body: str) -> None:
    """Adds `decls` / `aliases` to each PLpgSQL_stmt_block of `tree` and `block_datums` to it."""
    sections = _sections(body)
    if sections is None:
        return
    events: list[tuple[str, Any]] = []
    _walk(tree.get("action"), events)
    if sum(1 for kind, _ in events if kind == "block") != len(sections):
        return
    datums = tree.get("datums", [])
    names = [str(next(iter(datum.values())).get("refname", "")) for datum in datums]
    p = 0
    for i, datum in enumerate(datums):  # (the parameters, then FOUND: the blocks' variables follow)
        if names[i] == "found" and "lineno" not in next(iter(datum.values())):
            p = i + 1
            break
    placed: list[tuple[dict[str, Any], tuple[tuple[str, int], ...], tuple[tuple[str, str], ...]]] = []
    sections_left = iter(sections)
    for kind, item in events:
        if kind == "block":
            decls: list[tuple[str, int]] = []
            aliases: list[tuple[str, str]] = []
            for name, target in next(sections_left):
                if target is not None:
                    aliases.append((name, target))
                    continue
                j = _next_named(names, name, p)
                if j is None:
                    return
                decls.append((name, j))
                p = j + 1
            placed.append((item, tuple(decls), tuple(aliases)))
        elif kind == "fori":  # (an integer FOR loop makes its own variable where it stands)
            j = _next_named(names, item, p)
            if j is None:
                return
            p = j + 1
        elif kind == "forc":  # (so does a FOR over a cursor: its record)
            p = max(p, item + 1)
    owned: list[int] = []
    for block, decls_, aliases_ in placed:
        block["decls"] = decls_
        block["aliases"] = aliases_
        owned.extend(j for _, j in decls_)
    tree["block_datums"] = tuple(owned)


def _next_named(names: list[str], name: str, start: int) -> int | None:
    for j in range(start, len(names)):
        if names[j] == name:
            return j
    return None


def _walk(node: Any, events: list[tuple[str, Any]]) -> None:
    """The blocks and the loops that make variables, in source order (the tree's keys are)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "PLpgSQL_stmt_block" and "lineno" in value:
                events.append(("block", value))  # (not the wrapper PostgreSQL adds around a top
                # block with an exception section or a label, which has no BEGIN of its own)
            elif key == "PLpgSQL_stmt_fori":
                events.append(("fori", value["var"]["PLpgSQL_var"]["refname"]))
            elif key == "PLpgSQL_stmt_forc":
                events.append(("forc", next(iter(value["var"].values())).get("dno", -1)))
            _walk(value, events)
    elif isinstance(node, list):
        for item in node:
            _walk(item, events)


def _sections(body: str) -> list[Section] | None:
    """For each BEGIN of a block in `body`, in order, what the DECLARE section before it declares."""
    try:
        tokens = pglast.parser.scan(body)
    except pglast.parser.ParseError:
        return None
    encoded = body.encode()
    sections: list[Section] = []
    current: Section | None = None  # the DECLARE section being read
    i = 0
    n = len(tokens)
    while i < n:
        token = tokens[i]
        if token.name == "BEGIN_P":
            sections.append(current or [])
            current = None
            i += 1
            continue
        if token.name == "DECLARE":
            current = current if current is not None else []
            i += 1
            continue
        if current is None:
            i += 1
            continue
        name = _identifier(encoded[token.start:token.end + 1].decode())
        target: str | None = None
        if i + 3 < n and encoded[tokens[i + 1].start:tokens[i + 1].end + 1].lower() == b"alias" \
                and tokens[i + 2].name == "FOR":
            target = _identifier(encoded[tokens[i + 3].start:tokens[i + 3].end + 1].decode())
        depth = 0
        j = i + 1
        while j < n and not (tokens[j].name == "ASCII_59" and depth == 0):
            if tokens[j].name == "ASCII_40":
                depth += 1
            elif tokens[j].name == "ASCII_41":
                depth -= 1
            elif tokens[j].name == "BEGIN_P" and depth == 0:
                return None  # (a declaration not ended by `;`: the parser refused it already)
            j += 1
        current.append((name, target))
        i = j + 1
    return sections


def _identifier(word: str) -> str:
    if word.startswith('"'):
        return word[1:-1].replace('""', '"')
    return word.lower()


_TYPE_ENDS = frozenset(("ASCII_59", "COLON_EQUALS", "ASCII_61", "DEFAULT", "NOT", "COLLATE", "ASCII_91", "ASCII_37"))


def mark_row_types(body: str, is_row_type: Callable[[str], bool]) -> tuple[str, dict[tuple[str, int], tuple[str, str | None]]]:
    """`body` with each DECLAREd variable of a composite type or a table's row type (`r accounts;`,
    `r accounts%ROWTYPE;`) declared `record` instead, and (variable, line) -> the type's name:
    PostgreSQL's compiler makes such a variable a record of that shape, whose fields `r.x := ...`
    assigns, and pglast's parser, which knows no catalog, does so only for `record` (the frame
    gives the record its shape: session.plpgsql), and whose default (`:= expr`, the text here)
    pglast's tree leaves out. Line numbers stay as they were."""
    try:
        tokens = pglast.parser.scan(body)
    except pglast.parser.ParseError:
        return body, {}
    encoded = body.encode()
    edits: list[tuple[int, int]] = []  # (start, end) byte ranges that become `record`
    shapes: dict[tuple[str, int], tuple[str, str | None]] = {}
    inside = False
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        if token.name == "BEGIN_P":
            inside = False
        elif token.name == "DECLARE":
            inside = True
        elif inside:
            j = i + 1
            if j < n and encoded[tokens[j].start:tokens[j].end + 1].lower() == b"constant":
                j += 1
            k = j
            while k < n and tokens[k].name not in _TYPE_ENDS and tokens[k].name != "BEGIN_P":
                k += 1
            words = [encoded[t.start:t.end + 1].decode() for t in tokens[j:k]]
            simple = bool(words) and all(w == "." or tokens[j + m].name == "IDENT" or tokens[j + m].kind != "NO_KEYWORD"
                                         for m, w in enumerate(words))
            end = k
            if k + 1 < n and tokens[k].name == "ASCII_37" and \
                    encoded[tokens[k + 1].start:tokens[k + 1].end + 1].lower() == b"rowtype":
                end = k + 2  # (`t%ROWTYPE`)
            elif k < n and tokens[k].name in ("ASCII_37", "ASCII_91"):
                simple = False  # (%TYPE, an array)
            marked = simple and len(words) in (1, 3) and is_row_type("".join(words))
            if marked:
                edits.append((tokens[j].start, tokens[end - 1].end + 1))
            default_at: int | None = None
            depth = 0
            while k < n and not (tokens[k].name == "ASCII_59" and depth == 0):
                if tokens[k].name == "ASCII_40":
                    depth += 1
                elif tokens[k].name == "ASCII_41":
                    depth -= 1
                elif tokens[k].name == "BEGIN_P" and depth == 0:
                    break
                elif depth == 0 and default_at is None and tokens[k].name in ("COLON_EQUALS", "ASCII_61", "DEFAULT"):
                    default_at = tokens[k].end + 1
                k += 1
            if marked:
                name = _identifier(encoded[token.start:token.end + 1].decode())
                default = encoded[default_at:tokens[k].start].decode().strip() \
                    if default_at is not None and k < n else None
                shapes[(name, encoded[:token.start].count(b"\n") + 1)] = ("".join(words), default or None)
            i = k + 1 if k < n and tokens[k].name == "ASCII_59" else k
            continue
        i += 1
    for start, end in reversed(edits):
        encoded = encoded[:start] + b"record" + encoded[end:]
    return encoded.decode(), shapes
