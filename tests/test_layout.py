"""The house's shape, as its import statements draw it: no circles, and the ground floor
(`hpo.experiment`) imports nothing above it. Read from the code (an AST walk of every
import, inside functions and under TYPE_CHECKING too), not by importing it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HPO = Path(__file__).parents[1] / "hpo"


def _imports() -> dict[str, set[str]]:
    """hpo's module name -> the hpo modules it imports (packages by their __init__)."""
    modules = {}
    for path in HPO.rglob("*.py"):
        name = ".".join(path.relative_to(HPO.parent).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            edges[name].update(t for t in targets if t in modules and t != name)
    return edges


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_no_module_of_hpo_imports_itself_round_a_circle():
    assert _circles(_imports()) == []


def test_the_circle_finder_finds_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("floor", "may_import"),
    [
        ("hpo.experiment", ("hpo.experiment", "hpo.errors")),
        ("hpo.analysis", ("hpo.analysis", "hpo.experiment", "hpo.errors")),
    ],
)
def test_a_lower_floor_imports_nothing_above_it(floor, may_import):
    above = {
        (name, target)
        for name, targets in _imports().items()
        if name == floor or name.startswith(floor + ".")
        for target in targets
        if not any(target == m or target.startswith(m + ".") for m in may_import)
    }
    assert above == set()
