"""The core's shape: no import cycle (``TYPE_CHECKING`` imports counted), small modules."""

from __future__ import annotations

from pathlib import Path

import grimp

import taskward.core

CORE = Path(taskward.core.__file__).parent
MAX_LINES = 300


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    imported = graph.find_modules_directly_imported_by(child) & modules
                    work.append((child, iter(sorted(imported))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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
    return found


def test_no_import_cycle_in_core_even_under_type_checking() -> None:
    # grimp reads every import statement, those under `if TYPE_CHECKING:` and inside
    # functions included: a cycle hidden from the interpreter still shows here.
    graph = grimp.build_graph("taskward", cache_dir=None)
    modules = {m for m in graph.modules if m.startswith("taskward.core")}
    assert "taskward.core.ports" in modules
    assert _cycles(graph, modules) == []


def test_a_cycle_is_found_when_there_is_one() -> None:
    """The check itself works: a TYPE_CHECKING import back up the layers is a cycle."""
    graph = grimp.build_graph("taskward", cache_dir=None)
    graph.add_import(
        importer="taskward.core.task", imported="taskward.core.app.taskward", line_number=1,
        line_contents="from taskward.core.app.taskward import Taskward",
    )  # fmt: skip
    modules = {m for m in graph.modules if m.startswith("taskward.core")}
    (cycle,) = _cycles(graph, modules)
    assert {"taskward.core.task", "taskward.core.app.taskward"} <= set(cycle)


def test_no_core_module_is_over_300_lines() -> None:
    sizes = {
        str(path.relative_to(CORE)): len(path.read_text().splitlines())
        for path in CORE.rglob("*.py")
    }
    assert len(sizes) > 50
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
