"""The emulator's module structure: only the entry points import ``emulator.py``, and no module imports one that
imports it back. Read from the source (imports under ``TYPE_CHECKING`` and inside functions count too), so an app
that starts taking the whole Emulator again fails here rather than in a review."""

from __future__ import annotations

import ast
from pathlib import Path

import azure_emulator

PACKAGE = Path(azure_emulator.__file__).resolve().parent
ENTRY_POINTS = {"azure_emulator.cli", "azure_emulator.__main__"}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ["azure_emulator", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(name: str, path: Path, node: ast.ImportFrom, modules: dict[str, Path]) -> set[str]:
    """What ``from X import a, b`` imports: the submodules ``X.a``/``X.b`` where they exist, else ``X`` itself."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if node.level:
        base = package[:len(package) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return {f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target for a in node.names}


def import_graph() -> dict[str, set[str]]:
    """Module -> the emulator's modules it imports."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                found |= _imported(name, path, node, modules)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph[module])
    return seen


def test_the_graph_sees_the_imports_it_must_judge() -> None:
    graph = import_graph()
    # Relative, aliased, TYPE_CHECKING-only and package-level imports are all found.
    assert "azure_emulator.emulator" in graph["azure_emulator.cli"]
    assert "azure_emulator.context" in graph["azure_emulator.entra"]  # under TYPE_CHECKING
    assert "azure_emulator.arm" in graph["azure_emulator.emulator"]
    assert "azure_emulator.arm.auth" in graph["azure_emulator.arm.app"]
    assert "azure_emulator.rbac" in graph["azure_emulator.arm.app"]


def test_only_the_entry_points_import_the_emulator() -> None:
    graph = import_graph()
    importers = {name for name, imported in graph.items() if "azure_emulator.emulator" in imported}
    assert importers <= ENTRY_POINTS, f"these modules take the whole Emulator: {sorted(importers - ENTRY_POINTS)}"


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = import_graph()
    cycles = sorted(name for name in graph if name in _reaches(graph, name))
    assert cycles == [], f"modules on an import cycle: {cycles}"
