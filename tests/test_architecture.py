"""The house rules, checked on the source: no import circle, no import from a layer above (the
layers are read from docs/design.md, so the plan and the code cannot drift apart), small
functions, and a small Chatbot."""

from __future__ import annotations

import ast
import re
import sys
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


def _house() -> set[str]:
    """The paths the design's house drawing lists under ``chatnb/`` (``wire/responses.py``)."""
    drawing = re.search(r"```\nchatnb/\n(.*?)\n\S", DESIGN.read_text(), re.S)
    assert drawing, "docs/design.md has no drawing of the house (```, then chatnb/)"
    listed: set[str] = set()
    folders: list[str] = []
    for line in drawing.group(1).splitlines():
        name = line.split()[0] if line.strip() else ""
        if not name.endswith((".py", "/")):
            continue  # a description's second line
        depth = (len(line) - len(line.lstrip())) // 2 - 1
        folders = folders[:depth]
        listed.add("/".join([*folders, name.rstrip("/")]))
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
    return listed


def _modules() -> set[str]:
    """Every module of chatnb/ as the drawing names it (a package by its folder)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.name == "__init__.py":
            if relative.parent != Path("."):
                found.add(relative.parent.as_posix())
        elif relative.name != "__main__.py":
            found.add(relative.as_posix())
    return found


def test_the_design_draws_every_module() -> None:
    listed, modules = _house(), _modules()
    assert not modules - listed, f"docs/design.md does not draw {sorted(modules - listed)}"
    assert not listed - modules, f"docs/design.md draws what is gone: {sorted(listed - modules)}"


def test_the_check_sees_a_module_missing_from_the_design(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks fail when a module is left out of the layer table or the drawing."""
    design = tmp_path / "design.md"
    text = DESIGN.read_text()
    design.write_text(text.replace("  pricing.py ", "  ").replace("  pricing  ", "  "))
    monkeypatch.setattr(sys.modules[__name__], "DESIGN", design)
    assert "pricing.py" not in _house() and "pricing" not in _layers()
    with pytest.raises(AssertionError):
        test_every_module_is_in_a_layer_and_imports_only_below_it()
    with pytest.raises(AssertionError):
        test_the_design_draws_every_module()


def test_every_chatnb_error_lives_in_errors_py() -> None:
    """An error or warning a user may catch is drawn in errors.py's tree, so it is defined
    there (a module may re-export one for compatibility, as cache.py does CacheMissError)."""
    errors = PACKAGE / "errors.py"
    tree_names = {
        node.name for node in ast.parse(errors.read_text()).body if isinstance(node, ast.ClassDef)
    }
    elsewhere = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != errors
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        and any(isinstance(base, ast.Name) and base.id in tree_names for base in node.bases)
    ]
    assert not elsewhere, "define these in chatnb/errors.py:\n" + "\n".join(elsewhere)


#: What the "what to draw" package may import: itself, chatnb's errors, markdown-it, and the
#: standard library's pure text tools. A kernel, a widget, a clock, a file or a socket belongs
#: to chatnb.display ("when to draw"), never here.
_PURE = re.compile(
    r"(?:\.\w*|\.\.errors|__future__|markdown_it(?:\.\w+)*|mdit_py_plugins(?:\.\w+)*|re|html|"
    r"bisect|unicodedata|string|itertools|functools|dataclasses|typing|enum|math|"
    r"collections(?:\.abc)?|urllib\.parse)"
)


def test_what_to_draw_does_no_io() -> None:
    found = []
    for path in sorted((PACKAGE / "markdown").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = ["." * node.level + (node.module or "")]
            else:
                continue
            found += [f"{path.name}: {name}" for name in names if not _PURE.fullmatch(name)]
    assert found == []
