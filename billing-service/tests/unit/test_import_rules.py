"""billing-service's imports go downward only: the import-linter contracts in the root
pyproject.toml (domains in layers, and routes > handlers > keys > services > views | schemas >
repositories inside each), and no circle between modules nor between folders at any depth."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "billing_service"


def test_the_import_contracts_are_kept() -> None:
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _edges(imports: Iterable[tuple[str, str]], depth: int | None) -> dict[str, set[str]]:
    """Module imports as edges between modules (depth None) or between the folders `depth`
    names deep (billing_service.invoices.services at depth 3); imports inside one folder are
    no edge of it."""
    edges: dict[str, set[str]] = defaultdict(set)
    for importer, imported in imports:
        if depth is not None:
            importer = ".".join(importer.split(".")[:depth])
            imported = ".".join(imported.split(".")[:depth])
        if importer != imported:
            edges[importer].add(imported)
    return edges


def test_no_circle_between_modules_or_folders() -> None:
    graph = grimp.build_graph(PACKAGE)
    imports = [
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
    ]
    assert len(imports) > 300  # the graph was read
    for depth in (None, 2, 3):
        assert _circles(_edges(imports, depth)) == [], depth


def test_a_circle_is_found() -> None:
    """The check above can fail: a circle through a folder is reported."""
    imports = [("p.a.x", "p.b.y"), ("p.b.z", "p.a.w")]
    assert _circles(_edges(imports, None)) == []
    assert _circles(_edges(imports, 2)) == [["p.a", "p.b"]]
