"""The house rules, checked on the source: no import circle, no import from a layer above (the
layers are read from docs/design.md, so the plan and the code cannot drift apart), small
functions, and a small Chatbot."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "chatnb"
DESIGN = ROOT / "docs" / "design.md"
#: The package surface re-exports everything and is not a layer.
SURFACE = {"chatnb", "chatnb.__main__"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (ROOT / relative).with_suffix(".py").exists() or (
        ROOT / relative / "__init__.py"
    ).exists()


def _imports(path: Path) -> Iterator[str]:
    """Every chatnb module ``path`` imports: at the top, in functions, for type checkers."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("chatnb"))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module and node.module.startswith("chatnb"):
                    yield node.module
                continue
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            if node.module is None:  # from . import name: a module, or a name of the package
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    yield sub if _is_module(sub) else target
            else:
                yield target


def _graph() -> dict[str, set[str]]:
    return {
        _module(path): set(_imports(path)) - {_module(path)}
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _unit(module: str) -> str:
    """The top-level module or subpackage of the layering (``chatnb.mock.engine`` -> mock)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _layers() -> dict[str, int]:
    block = re.search(r"```layers\n(.*?)```", DESIGN.read_text(), re.S)
    assert block, "docs/design.md has no ```layers block"
    layers: dict[str, int] = {}
    for line in block.group(1).splitlines():
        number, *units = line.split()
        for unit in units:
            layers[unit] = int(number)
    return layers


def test_no_import_circle() -> None:
    graph = _graph()
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                circle = [*path[path.index(target) :], target]
                pytest.fail("import circle: " + " -> ".join(circle))
            if target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [module])


def test_every_module_is_in_a_layer_and_imports_only_below_it() -> None:
    layers = _layers()
    graph = _graph()
    units = {_unit(m) for m in graph if m not in SURFACE}
    assert units == set(layers), "docs/design.md's layers and chatnb/ list different modules"
    upward = [
        f"{module} (layer {layers[_unit(module)]}) imports {target} (layer {layers[_unit(target)]})"
        for module, targets in graph.items()
        if module not in SURFACE
        for target in targets
        if _unit(target) != _unit(module) and layers[_unit(target)] >= layers[_unit(module)]
    ]
    assert not upward, "\n".join(upward)


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _code_lines(node: ast.AST) -> int:
    """Lines of ``node`` without the docstrings in it: documenting every argument (the API
    reference, tests/test_docs.py) must not count against a function's size."""
    lines = (getattr(node, "end_lineno", None) or 0) - getattr(node, "lineno", 0) + 1
    for inner in ast.walk(node):
        body = getattr(inner, "body", None)
        if not isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) or not body:
            continue
        first = body[0]
        value = first.value if isinstance(first, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            lines -= (first.end_lineno or first.lineno) - first.lineno + 1
    return lines


def test_no_function_is_over_50_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in _functions(ast.parse(path.read_text()))
        if (length := _code_lines(node)) > 50
    ]
    assert not long, "\n".join(long)


def test_the_chatbot_class_stays_small() -> None:
    tree = ast.parse((PACKAGE / "chatbot.py").read_text())
    (chatbot,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Chatbot"]
    assert _code_lines(chatbot) <= 250
