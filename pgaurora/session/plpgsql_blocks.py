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
function-wide, initialized once per call, as before. Not the running of blocks (session.plpgsql).
"""

from __future__ import annotations

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
