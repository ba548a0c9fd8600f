"""The import layers of docs/ARCHITECTURE.md hold: every ``cliffbench`` import (lazy ones inside
functions included) points to the same or a lower layer, the three plugin packages never import
each other, and the import graph has no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cliffbench"

# Bottom (1) to top (5); a module's layer is that of its longest matching prefix. A new top-level
# module must be placed here (the package root covers only cliffbench/__init__.py).
LAYERS = {
    "cliffbench.errors": 1, "cliffbench.contract": 1, "cliffbench.atomic": 1,
    "cliffbench.config_schema": 1, "cliffbench.closed_forms": 1,
    "cliffbench.sampling": 2, "cliffbench.identity": 2, "cliffbench.trainer": 2,
    "cliffbench.image_inputs": 2, "cliffbench.results": 2, "cliffbench.progress": 2,
    "cliffbench.datasets": 3, "cliffbench.backbones": 3, "cliffbench.methods": 3,
    "cliffbench.runner": 4, "cliffbench.loggers": 4,
    "cliffbench.report": 5, "cliffbench.api": 5, "cliffbench.callbacks": 5, "cliffbench.app": 5,
    "cliffbench": 5,
}
PLUGINS = ("cliffbench.datasets", "cliffbench.backbones", "cliffbench.methods")
# Upward imports explained in docs/ARCHITECTURE.md (none today: loggers receive the report's numbers).
ALLOWED_UPWARD: set[tuple[str, str]] = set()


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names)
        graph[_name(path)] = {d for d in deps if d == "cliffbench" or d.startswith("cliffbench.")}
    return graph


def _prefix(module: str, table) -> str | None:
    matches = [p for p in table if module == p or (p != "cliffbench" and module.startswith(p + "."))]
    return max(matches, key=len) if matches else None


def _layer(module: str) -> int:
    return LAYERS[_prefix(module, LAYERS)]


def test_every_module_has_a_layer():
    unplaced = sorted(m for m in _imports() if _prefix(m, LAYERS) is None)
    assert not unplaced, f"place these modules in a layer (LAYERS here, docs/ARCHITECTURE.md): {unplaced}"


def test_imports_point_down_and_plugins_stay_apart():
    bad = []
    for module, deps in _imports().items():
        for dep in deps:
            if dep in ("cliffbench",) or (module, dep) in ALLOWED_UPWARD:
                continue
            if _layer(dep) > _layer(module):
                bad.append(f"{module} (layer {_layer(module)}) imports {dep} (layer {_layer(dep)})")
            own = [p for p in PLUGINS if module.startswith(p)]
            other = [p for p in PLUGINS if dep.startswith(p)]
            if own and other and own != other:
                bad.append(f"plugin {module} imports another plugin package's {dep}")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycle():
    graph = _imports()
    known = set(graph)
    edges = {m: {d for d in deps if d in known and d != m} for m, deps in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(edges[m]):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state and (cycle := visit(d)):
                return cycle
        state[m] = 2
        stack.pop()
        return None

    for m in sorted(edges):
        if m not in state and (cycle := visit(m)):
            raise AssertionError("import cycle: " + " -> ".join(cycle))


def test_the_contract_imports_nothing_of_the_project_but_errors():
    assert _imports()["cliffbench.contract"] <= {"cliffbench.errors"}
