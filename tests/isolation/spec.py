"""Isolation specs: the format of PostgreSQL's src/test/isolation/specs, parsed.

Owns reading a spec file into a `Spec` (global setup/teardown, sessions with their setup,
steps and teardown, and the permutations to run). Not running them (tests.isolation.runner).

    setup { CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 10); }
    teardown { DROP TABLE t; }
    session s1
    setup { BEGIN ISOLATION LEVEL READ COMMITTED; }
    step s1u { UPDATE t SET v = v + 1 WHERE id = 1; }
    step s1c { COMMIT; }
    session s2
    ...
    permutation s1u s2u s1c s2c

`#` starts a comment outside braces. Unlike isolationtester, permutations must be listed (no
"all permutations" default) and step markers such as `s1u(s2u)` are not supported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    session: str
    sql: str


@dataclass(frozen=True, slots=True)
class Session:
    name: str
    setup: tuple[str, ...]
    teardown: tuple[str, ...]
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    setup: tuple[str, ...]
    teardown: tuple[str, ...]
    sessions: tuple[Session, ...]
    permutations: tuple[tuple[str, ...], ...]

    def step(self, name: str) -> Step:
        for session in self.sessions:
            for step in session.steps:
                if step.name == name:
                    return step
        raise KeyError(f"spec {self.name}: no step {name!r}")


_TOKEN = re.compile(r"\s+|#[^\n]*|\{|[^\s{#]+")


def _tokens(text: str) -> list[str]:
    """Words and brace blocks ('{...}' returned whole, nesting counted); comments dropped."""
    out: list[str] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        assert m is not None
        tok = m.group(0)
        if tok == "{":
            depth = 0
            j = i
            while j < len(text):
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if depth:
                raise ValueError("unbalanced braces in spec")
            out.append(text[i : j + 1])
            i = j + 1
            continue
        if not tok.isspace() and not tok.startswith("#"):
            out.append(tok)
        i = m.end()
    return out


def _block(tok: str) -> str:
    if not tok.startswith("{"):
        raise ValueError(f"expected a {{ ... }} block, got {tok!r}")
    return tok[1:-1].strip()


def parse_spec(text: str, name: str = "spec") -> Spec:
    toks = _tokens(text)
    setup: list[str] = []
    teardown: list[str] = []
    sessions: list[Session] = []
    permutations: list[tuple[str, ...]] = []
    i = 0
    current: dict[str, list] | None = None
    current_name = ""

    def close_session() -> None:
        if current is not None:
            sessions.append(Session(current_name, tuple(current["setup"]), tuple(current["teardown"]),
                                    tuple(current["steps"])))

    while i < len(toks):
        word = toks[i]
        if word == "setup":
            (current["setup"] if current is not None else setup).append(_block(toks[i + 1]))
            i += 2
        elif word == "teardown":
            (current["teardown"] if current is not None else teardown).append(_block(toks[i + 1]))
            i += 2
        elif word == "session":
            close_session()
            current_name = toks[i + 1].strip('"')
            current = {"setup": [], "teardown": [], "steps": []}
            i += 2
        elif word == "step":
            if current is None:
                raise ValueError("step outside a session")
            current["steps"].append(Step(toks[i + 1].strip('"'), current_name, _block(toks[i + 2])))
            i += 3
        elif word == "permutation":
            i += 1
            names = []
            while i < len(toks) and toks[i] not in ("permutation", "session", "setup", "teardown", "step"):
                names.append(toks[i].strip('"'))
                i += 1
            permutations.append(tuple(names))
        else:
            raise ValueError(f"spec {name}: unexpected {word!r}")
    close_session()
    spec = Spec(name, tuple(setup), tuple(teardown), tuple(sessions), tuple(permutations))
    for perm in spec.permutations:
        for step_name in perm:
            spec.step(step_name)
    if not spec.permutations:
        raise ValueError(f"spec {name}: no permutation")
    return spec


def load_spec(path: Path) -> Spec:
    return parse_spec(path.read_text(), path.stem)
