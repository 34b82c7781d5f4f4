"""The package's shape, checked: layers import only downwards, no import cycles, no module
reaches into another's private names, no library function grows past 80 lines.

These are the rules of docs/architecture.md; a change that breaks one fails here with the
offending module and line, not in a review.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "fraudgraph"
MAX_FUNCTION_LINES = 80


def _library_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_layer_contracts_are_kept():
    """import-linter's contracts in pyproject.toml: layers, synthetic's isolation, the driver's home."""
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([exe, str(REPO / "pyproject.toml")], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_no_import_cycles_even_through_lazy_imports():
    """grimp sees imports inside functions too, so a cycle dodged by a lazy import still counts
    (imports only for type checking are left out: they never run)."""
    graph = grimp.build_graph("fraudgraph", exclude_type_checking_imports=True)
    edges = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            edges.add_edge(module, imported)
    cycles = [sorted(c) for c in nx.strongly_connected_components(edges) if len(c) > 1]
    assert cycles == [], f"import cycles: {cycles}"


def _private_reach_ins(path: Path) -> list[str]:
    """``from fraudgraph.x import _name`` and ``alias._name`` on an imported fraudgraph module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path)
    module_aliases: dict[str, str] = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fraudgraph"):
            for alias in node.names:
                if node.module != here and alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.module}.{alias.name}")
                module_aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("fraudgraph") and alias.asname:
                    module_aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in module_aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{path.relative_to(REPO)}:{node.lineno}: {module_aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    found = [hit for path in _library_files() for hit in _private_reach_ins(path)]
    assert found == [], "private names used across modules:\n" + "\n".join(found)


def test_no_library_function_is_longer_than_80_lines():
    long = []
    for path in _library_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.name} ({lines} lines)")
    assert long == [], "functions over 80 lines:\n" + "\n".join(long)


@pytest.mark.parametrize("checker", [_private_reach_ins])
def test_the_private_name_check_catches_a_reach_in(tmp_path, checker, monkeypatch):
    """The checker itself must be able to fail: a planted reach-in is found."""
    fake = PACKAGE / "zz_probe_reach_in.py"
    fake.write_text("from fraudgraph.model.values import _hidden\nimport fraudgraph.model.values as v\nv._x\n")
    try:
        hits = checker(fake)
    finally:
        fake.unlink()
    assert len(hits) == 2 and all("zz_probe_reach_in.py" in h for h in hits)
