"""The documentation kept honest: the table of environment variables lists every one the
package reads, and the reference site builds strictly from the docstrings."""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "chatnb"
ENVIRONMENT = ROOT / "docs" / "environment.md"
#: How a chatnb variable is named, wherever it is mentioned (help texts, messages, docstrings).
CHATNB_NAME = re.compile(r"\bCHATNB_[A-Z0-9_]+\b")
#: The calls that read (or set) one variable, named by their first argument.
READERS = {"getenv", "putenv", "setenv", "delenv", "unsetenv"}
ENVIRON_METHODS = {"get", "pop", "setdefault"}


def _is_environ(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _strings(tree: ast.Module) -> dict[str, tuple[str, ...]]:
    """Module-level names bound to a string or a tuple of strings (``CACHE_ENV = "..."``)."""
    found: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if value is None:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            strings: tuple[str, ...] = (value.value,)
        elif isinstance(value, ast.Tuple | ast.List) and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
        ):
            strings = tuple(e.value for e in value.elts)  # type: ignore[attr-defined]
        else:
            continue
        found.update({t.id: strings for t in targets if isinstance(t, ast.Name)})
    return found


def _looped(tree: ast.Module) -> dict[str, ast.expr]:
    """What a comprehension's variable runs over (``name in os.environ for name in NAMES``)."""
    return {
        generator.target.id: generator.iter
        for node in ast.walk(tree)
        if isinstance(node, ast.GeneratorExp | ast.ListComp | ast.SetComp)
        for generator in node.generators
        if isinstance(generator.target, ast.Name)
    }


def _read_name(node: ast.AST) -> ast.expr | None:
    """The expression naming the variable ``node`` reads, if ``node`` reads one."""
    if isinstance(node, ast.Call) and node.args:
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        if name in READERS or (
            isinstance(function, ast.Attribute)
            and name in ENVIRON_METHODS
            and _is_environ(function.value)
        ):
            return node.args[0]
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return node.slice
    membership = isinstance(node, ast.Compare) and any(
        isinstance(o, ast.In | ast.NotIn) for o in node.ops
    )
    if membership and any(_is_environ(c) for c in node.comparators):  # type: ignore[attr-defined]
        return node.left  # type: ignore[attr-defined]
    return None


def environment_names(sources: dict[str, str]) -> set[str]:
    """Every environment variable the modules in ``sources`` (name -> code) read or name."""
    trees = {name: ast.parse(code) for name, code in sources.items()}
    constants: dict[str, tuple[str, ...]] = {}
    for tree in trees.values():
        constants.update(_strings(tree))
    names = {match for code in sources.values() for match in CHATNB_NAME.findall(code)}
    for tree in trees.values():
        looped = _looped(tree)
        for node in ast.walk(tree):
            expression = _read_name(node)
            if isinstance(expression, ast.Name) and expression.id in looped:
                expression = looped[expression.id]
            if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
                names.add(expression.value)
            elif isinstance(expression, ast.Name):
                names.update(constants.get(expression.id, ()))
    return names


def documented_names(markdown: str) -> set[str]:
    """The variables in the first column of the first table under "Read by chatnb"."""
    section = markdown.split("## Read by chatnb", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def _package_sources() -> dict[str, str]:
    return {str(path.relative_to(ROOT)): path.read_text() for path in PACKAGE.rglob("*.py")}


def test_the_scanner_finds_each_way_of_reading_a_variable() -> None:
    code = '''
import os
from os import environ, getenv
KEY_ENV = "A_KEY"
PLACES = ("B_ONE", "B_TWO")
os.environ.get("C_GET"); os.environ["D_ITEM"]; getenv("E_GETENV"); environ.pop("F_POP")
os.environ.get(KEY_ENV)
"G_IN" in os.environ
any(name in os.environ for name in PLACES)
monkeypatch.setenv("H_SET", "1")
help = "set CHATNB_SOMETHING to change it"
NOT_READ = "I_CONSTANT"
'''
    assert environment_names({"m.py": code}) == {
        "A_KEY",
        "B_ONE",
        "B_TWO",
        "C_GET",
        "D_ITEM",
        "E_GETENV",
        "F_POP",
        "G_IN",
        "H_SET",
        "CHATNB_SOMETHING",
    }


def test_every_environment_variable_chatnb_reads_is_in_the_table() -> None:
    read = environment_names(_package_sources())
    table = documented_names(ENVIRONMENT.read_text())
    assert {"OPENAI_API_KEY", "CHATNB_CACHE", "CHATNB_MOCK_API_KEY"} <= read  # the scanner works
    assert read - table == set(), f"add these to {ENVIRONMENT.relative_to(ROOT)}"
    assert table - read == set(), "the table names variables chatnb no longer reads"


def test_each_row_of_the_table_says_what_default_and_example() -> None:
    section = ENVIRONMENT.read_text().split("## Read by chatnb", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows
    for row in rows:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        assert len(cells) == 4 and all(cells), row
