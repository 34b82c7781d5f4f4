"""The named Cypher query loader: names, docs, parameter checks, and errors that name the file."""

from __future__ import annotations

import pathlib
from pathlib import Path

import pytest

import fraudgraph.workspace.neo4j.queries as cypher_module
from fraudgraph.errors import CypherError
from fraudgraph.workspace.neo4j.queries import (
    QueryLibrary,
    cypher_root,
    load_queries,
    load_query,
    parse_parameters,
    read_query_file,
)


def write(root: Path, name: str, text: str) -> Path:
    path = root / f"{name}.cypher"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_queries_load_by_name_with_doc_and_parameters():
    library = load_queries()
    accounts = library["load/accounts"]
    assert accounts is load_query("load/accounts")
    assert cypher_module.queries["load/accounts"] is accounts  # module attribute, read lazily
    assert accounts.parameters == frozenset({"rows"})
    assert accounts.doc.startswith("Upsert accounts")
    assert accounts.path == cypher_root() / "load" / "accounts.cypher"
    assert not accounts.text.startswith("//")  # the doc is not sent to the server
    groups = {name.split("/")[0] for name in library}
    assert groups == {"schema", "migrate", "load", "read", "write", "gds"}
    # Every statement uses at least one parameter or is a schema/status statement without any.
    for name in library:
        query = library[name]
        assert query.doc, name
        assert "$" not in query.text or query.parameters, name


def test_parameters_inside_strings_comments_and_quoted_names_are_ignored():
    text = """MATCH (a:Account {account_id: $id}) // $commented
    /* $blocked
       $out */
    WHERE a.note = '$not_a_param' AND a.x = "it's $neither" AND a.`$odd` = $`spaced name`
    RETURN a, $limit, $0"""
    assert parse_parameters(text) == frozenset({"id", "spaced name", "limit", "0"})
    assert parse_parameters("RETURN 'it\\'s $escaped' AS s, $real") == frozenset({"real"})


def test_a_call_with_missing_or_extra_parameters_names_the_file(tmp_path):
    path = write(tmp_path, "read/by_id", "// One account.\nMATCH (a:Account {account_id: $id}) RETURN a LIMIT $limit\n")
    query = QueryLibrary.from_directories(tmp_path)["read/by_id"]
    assert query.check({"id": "A1", "limit": 3}) == {"id": "A1", "limit": 3}
    with pytest.raises(CypherError) as missing:
        query.check({"id": "A1"})
    assert (
        "read/by_id" in str(missing.value)
        and str(path) in str(missing.value)
        and "missing $limit" in str(missing.value)
    )
    with pytest.raises(CypherError, match=r"unexpected \$ids.*it takes: \$id, \$limit"):
        query.check({"id": "A1", "limit": 3, "ids": []})


def test_duplicate_names_are_refused_naming_both_files(tmp_path):
    first = write(tmp_path / "a", "read/accounts", "// One.\nRETURN 1\n")
    second = write(tmp_path / "b", "read/accounts", "// Two.\nRETURN 2\n")
    with pytest.raises(CypherError) as info:
        QueryLibrary.from_directories(tmp_path / "a", tmp_path / "b")
    assert str(first) in str(info.value) and str(second) in str(info.value)


def test_names_are_snake_case_folders_and_files(tmp_path):
    write(tmp_path, "Read/Accounts", "// One.\nRETURN 1\n")
    with pytest.raises(CypherError, match="snake_case.*'Read'"):
        QueryLibrary.from_directories(tmp_path)


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("MATCH (a) RETURN a\n", 1, "starts with // lines"),
        ("// Doc only.\n// More doc.\n", 3, "no Cypher statement"),
        ("// Doc.\nMATCH (a)\nWHERE a.x = 'open\nRETURN a\n", 3, "unterminated string literal"),
        ("// Doc.\nRETURN 1 /* never closed\n", 2, "unterminated /\\* comment"),
        ("// Doc.\nRETURN 1;\nRETURN 2\n", 2, "one statement per file"),
        ("// Doc.\nMATCH (a)\nRETURN a, $\n", 3, "'\\$' without a parameter name"),
    ],
)
def test_malformed_files_are_errors_with_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, "bad", text)
    with pytest.raises(CypherError, match=message) as info:
        read_query_file(path)
    assert str(info.value).startswith(f"{path}:{line}:")


def test_a_trailing_semicolon_and_comment_are_fine(tmp_path):
    path = write(tmp_path, "ok", "// Doc.\nRETURN $x; // the end\n")
    query = read_query_file(path, "ok")
    assert query.text == "RETURN $x" and query.parameters == frozenset({"x"})


def test_unknown_name_suggests_close_ones():
    with pytest.raises(CypherError, match="no Cypher query named 'load/acounts'; did you mean load/accounts"):
        load_query("load/acounts")


def test_top_level_cypher_folder_is_the_backends_own():
    """Users read the queries at the repository's top-level cypher/; the backend runs the same files."""
    repo = pathlib.Path(__file__).resolve().parents[1]
    assert (repo / "cypher").resolve() == cypher_root()
    assert (cypher_root() / "load" / "accounts.cypher").is_file()
