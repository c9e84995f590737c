"""The package's floor plan holds: no import cycles, no upward imports, small modules and functions.

The layers, bottom to top, are listed in docs/architecture.md. Only imports that run when a module
is loaded count here; an import deferred into a function is a deliberate, visible exception.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ledger"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 70

# Module-name prefixes by layer, bottom (0) to top. The longest matching prefix wins.
LAYERS: dict[str, int] = {
    "ledger.errors": 0,
    "ledger.types": 1,
    "ledger._layout": 1,
    "ledger._words": 1,
    "ledger._resources": 1,
    "ledger.entry": 2,
    "ledger.dates": 2,
    "ledger.content": 2,
    "ledger._names": 2,
    "ledger._fs": 2,
    "ledger._outfile": 2,
    "ledger._objects": 2,
    "ledger._config": 2,
    "ledger._git": 2,
    "ledger._graph": 2,
    "ledger._snapshot": 2,
    "ledger._state": 2,
    "ledger._store": 3,
    "ledger.location": 3,
    "ledger._background": 3,
    "ledger._upkeep": 3,
    "ledger._repoid": 3,
    "ledger.trust.redact": 4,
    "ledger.trust.signing": 4,
    "ledger.write": 5,
    "ledger.read": 6,
    "ledger.lifecycle": 7,
    "ledger.trust": 8,
    "ledger.sync": 9,
    "ledger.capture": 10,
    "ledger.undo": 11,
    "ledger.reports": 12,
    "ledger.metrics": 13,
    "ledger.demo": 14,
    "ledger.cli": 15,
    "ledger._worker": 15,
    "ledger.__main__": 15,
    "ledger": 15,
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _layer(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def _load_time_imports(module: str, path: Path) -> set[str]:
    """The ledger modules ``module`` imports when it is loaded (TYPE_CHECKING blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("ledger"))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.startswith("ledger"):
                    for alias in node.names:
                        sub = f"{node.module}.{alias.name}"
                        found.add(sub if sub in MODULES else node.module)
            for field in ("body", "orelse", "finalbody", "handlers"):
                if isinstance(node, ast.If | ast.Try | ast.With) and hasattr(node, field):
                    inner = getattr(node, field)
                    if field == "handlers":
                        for handler in inner:
                            visit(handler.body)
                    else:
                        visit(inner)

    visit(tree.body)
    found.discard(module)
    return {m for m in found if m in MODULES}


GRAPH = {m: _load_time_imports(m, p) for m, p in MODULES.items()}


def test_the_import_graph_has_no_cycle() -> None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := dfs(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for module in sorted(GRAPH):
        if module not in state:
            cycle = dfs(module)
            assert cycle is None, " -> ".join(cycle)


def test_no_module_imports_a_layer_above_it() -> None:
    upward = [
        f"{m} (layer {_layer(m)}) imports {t} (layer {_layer(t)})"
        for m, targets in GRAPH.items()
        for t in sorted(targets)
        if _layer(t) > _layer(m) and not t.startswith(m + ".")  # a package may load its parts
    ]
    assert not upward, "\n".join(upward)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_stay_small(module: str) -> None:
    text = MODULES[module].read_text(encoding="utf-8")
    lines = len(text.splitlines())
    if lines > MAX_MODULE_LINES:
        pytest.fail(f"{module} has {lines} lines (at most {MAX_MODULE_LINES}): split it by job")
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{module}: {long}"


def test_every_package_ships() -> None:
    """Every folder of the package is listed in pyproject.toml, so a wheel carries it."""
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    listed = pyproject.split("packages = [", 1)[1].split("]", 1)[0]
    for init in PACKAGE.rglob("__init__.py"):
        name = ".".join(init.parent.relative_to(PACKAGE.parent).parts)
        assert f'"{name}"' in listed, f"add {name} to [tool.setuptools] packages"
