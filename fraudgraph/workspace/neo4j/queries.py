"""Named Cypher queries: one statement per ``cypher/<group>/<name>.cypher`` file, loaded by name.

The leading ``//`` lines of a file are its documentation. The ``$parameters`` a statement uses
are parsed from its text (ignoring string literals, quoted names and comments), and every call
is checked against them: a missing or an extra parameter is a ``CypherError`` naming the file,
never a silent null on the server. Values only ever travel as parameters; nothing here formats
a value into query text.

>>> from fraudgraph.workspace.neo4j.queries import load_query
>>> load_query("read/account_count").parameters
frozenset()
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fraudgraph.errors import CypherError

__all__ = [
    "CypherQuery",
    "QueryLibrary",
    "cypher_root",
    "load_queries",
    "load_query",
    "parse_parameters",
]

SUFFIX = ".cypher"
_NAME_PART = re.compile(r"[a-z][a-z0-9_]*\Z")
_IDENT_START = re.compile(r"[A-Za-z_]")
_IDENT = re.compile(r"[A-Za-z0-9_]*")


@dataclass(frozen=True)
class CypherQuery:
    """One named statement: its text, its doc (leading ``//`` lines) and the parameters it uses."""

    name: str
    text: str
    doc: str
    parameters: frozenset[str]
    path: Path

    def check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters as a dict, after checking they are exactly the ones the statement uses."""
        given = set(params)
        missing = sorted(self.parameters - given)
        extra = sorted(given - self.parameters)
        if missing or extra:
            parts = []
            if missing:
                parts.append("missing " + ", ".join(f"${p}" for p in missing))
            if extra:
                parts.append("unexpected " + ", ".join(f"${p}" for p in extra))
            expected = ", ".join(f"${p}" for p in sorted(self.parameters)) or "none"
            raise CypherError(f"query {self.name} ({self.path}): {'; '.join(parts)} (it takes: {expected})")
        return dict(params)

    def __str__(self) -> str:
        return self.text


class QueryLibrary(Mapping[str, CypherQuery]):
    """The queries of one or more directories, by name (``"group/name"``). Duplicate names are refused."""

    def __init__(self, queries: Iterable[CypherQuery]):
        self._queries: dict[str, CypherQuery] = {}
        for q in queries:
            other = self._queries.get(q.name)
            if other is not None:
                raise CypherError(f"duplicate query name {q.name!r}: {other.path} and {q.path}")
            self._queries[q.name] = q

    @classmethod
    def from_directories(cls, *roots: str | Path) -> QueryLibrary:
        """Read every ``*.cypher`` file under the roots; a name defined twice is a ``CypherError``."""
        found: list[CypherQuery] = []
        seen: dict[str, Path] = {}
        for root in roots:
            root = Path(root)
            if not root.is_dir():
                raise CypherError(f"query directory {root} does not exist")
            for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() == SUFFIX):
                name = _name_of(path, root)
                # Names are compared case-insensitively: Load/Accounts.cypher and load/accounts.cypher
                # would be the same query on a case-insensitive file system.
                key = name.lower()
                if key in seen:
                    raise CypherError(f"duplicate query name {name!r}: {seen[key]} and {path}")
                seen[key] = path
                found.append(read_query_file(path, name))
        return cls(found)

    def __getitem__(self, name: str) -> CypherQuery:
        try:
            return self._queries[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._queries), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise CypherError(f"no Cypher query named {name!r}{hint}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._queries))

    def __len__(self) -> int:
        return len(self._queries)

    def __repr__(self) -> str:
        return f"QueryLibrary({len(self)} queries)"


def _name_of(path: Path, root: Path) -> str:
    rel = path.relative_to(root)
    parts = [*rel.parts[:-1], rel.name[: -len(SUFFIX)]]
    for part in parts:
        if not _NAME_PART.match(part):
            raise CypherError(
                f"{path}: query names are lower-case snake_case folders and files "
                f"(like load/accounts.cypher); {part!r} is not"
            )
    return "/".join(parts)


def read_query_file(path: str | Path, name: str | None = None) -> CypherQuery:
    """Parse one ``.cypher`` file; errors name the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise CypherError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    name = name or path.stem
    doc_lines: list[str] = []
    body_start = 0
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("//"):
            doc_lines.append(stripped[2:].strip())
            body_start = i + 1
        elif not stripped and not doc_lines:
            body_start = i + 1
        else:
            break
    doc = "\n".join(doc_lines).strip()
    if not doc:
        raise CypherError(f"{path}:1: a query file starts with // lines that say what it does")
    parameters, statement_end = _scan(text, path)
    body = text[sum(len(line) for line in lines[:body_start]) : statement_end].strip()
    if not body:
        raise CypherError(f"{path}:{body_start + 1}: no Cypher statement after the doc comment")
    return CypherQuery(name=name, text=body.rstrip(";").rstrip(), doc=doc, parameters=frozenset(parameters), path=path)


def parse_parameters(text: str, source: str = "<string>") -> frozenset[str]:
    """The ``$parameters`` a Cypher statement uses, outside strings, quoted names and comments.

    >>> sorted(parse_parameters("MATCH (a {id: $id}) // $not_this\\nRETURN '$nor_this', $`odd name`"))
    ['id', 'odd name']
    """
    params, _ = _scan(text, Path(source))
    return frozenset(params)


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _scan(text: str, path: Path) -> tuple[set[str], int]:
    """Walk the text once: collect parameters, check quotes and comments close, find the one ``;``.

    Returns the parameters and the end offset of the statement (before a trailing ``;``).
    """
    params: set[str] = set()
    i, n = 0, len(text)
    end: int | None = None
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif c == "/" and nxt == "*":
            j = text.find("*/", i + 2)
            if j < 0:
                raise CypherError(f"{path}:{_line_of(text, i)}: unterminated /* comment")
            i = j + 2
        elif c in "'\"`":
            j = i + 1
            while j < n:
                if text[j] == "\\" and c != "`":
                    j += 2
                    continue
                if text[j] == c:
                    # A doubled backtick inside a quoted name is an escaped backtick.
                    if c == "`" and j + 1 < n and text[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                what = "quoted name" if c == "`" else "string literal"
                raise CypherError(f"{path}:{_line_of(text, i)}: unterminated {what} starting with {c}")
            i = j + 1
        elif c == ";":
            rest = _strip_comments(text[i + 1 :])
            if rest.strip():
                raise CypherError(f"{path}:{_line_of(text, i)}: one statement per file; text follows the ';'")
            end = i
            break
        elif c == "$":
            if nxt == "`":
                j = text.find("`", i + 2)
                if j < 0:
                    raise CypherError(f"{path}:{_line_of(text, i)}: unterminated quoted parameter name")
                params.add(text[i + 2 : j])
                i = j + 1
            elif nxt and (_IDENT_START.match(nxt) or nxt.isdigit()):
                m = _IDENT.match(text, i + 1)
                assert m is not None  # nxt starts an identifier
                params.add(m.group(0))
                i = m.end()
            else:
                raise CypherError(f"{path}:{_line_of(text, i)}: '$' without a parameter name")
        else:
            i += 1
    return params, (n if end is None else end)


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def cypher_root() -> Path:
    """Where the queries live: the ``cypher/`` folder beside this module (the repository's
    top-level ``cypher/`` is a link to it, so users read the same files the backend runs)."""
    root = Path(__file__).resolve().parent / "cypher"
    if not root.is_dir():
        raise CypherError(f"no Cypher query folder at {root}")
    return root


@lru_cache(maxsize=1)
def load_queries() -> QueryLibrary:
    """The packaged queries (read once per process)."""
    return QueryLibrary.from_directories(cypher_root())


def load_query(name: str) -> CypherQuery:
    """One packaged query by name, e.g. ``load_query("load/accounts")``."""
    return load_queries()[name]


def __getattr__(name: str) -> Any:
    # ``fraudgraph.workspace.neo4j.queries.queries`` reads the files on first use, not at import.
    if name == "queries":
        return load_queries()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
