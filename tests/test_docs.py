"""The documentation kept honest: the table of environment variables lists every one the
package reads, the API reference builds strictly from the docstrings, and the entry points a
notebook uses document every argument."""

from __future__ import annotations

import ast
import importlib.util
import os
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
    code = """
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
"""
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


#: What a notebook calls: every argument of these is documented in the docstring (Google
#: style, ``Args:``), so the API reference shows it.
ENTRY_POINTS = (
    "chatnb.chatbot.Chatbot",
    "chatnb.chatbot.Chatbot.mock",
    "chatnb.chatbot.Chatbot.ask",
    "chatnb.chatbot.Chatbot.aask",
    "chatnb.chatbot.Chatbot.regenerate",
    "chatnb.chatbot.Chatbot.copy",
    "chatnb.chatbot.Chatbot.to_markdown",
    "chatnb.chatbot.Chatbot.save",
    "chatnb.chatbot.Chatbot.load",
    "chatnb.history.History",
    "chatnb.history.History.append",
    "chatnb.history.History.extend",
    "chatnb.history.History.messages",
    "chatnb.history.History.tokens",
    "chatnb.history.History.fit",
    "chatnb.history.History.to_json",
    "chatnb.history.History.from_list",
    "chatnb.history.History.from_json",
    "chatnb.tools.tool",
    "chatnb.cache.Cache",
    "chatnb.cache.client",
    "chatnb.runlog.runs",
    "chatnb.tokens.count_tokens",
    "chatnb.tokens.encoding_for",
    "chatnb.tokens.model_limits",
    "chatnb.workbench.widget.ChatWidget",
    "chatnb.workbench.compare.compare",
    "chatnb.experiments.runner.experiment",
    "chatnb.experiments.results.Experiment",
    "chatnb.experiments.results.Experiment.paired",
    "chatnb.experiments.results.Experiment.verdicts",
    "chatnb.experiments.results.Experiment.check",
    "chatnb.experiments.results.Experiment.plot",
    "chatnb.experiments.results.Experiment.save",
    "chatnb.experiments.results.Experiment.load",
    "chatnb.experiments.results.Experiment.diff",
    "chatnb.experiments.inputs.cases",
    "chatnb.experiments.scorers.contains",
    "chatnb.experiments.scorers.equals",
    "chatnb.experiments.scorers.matches",
    "chatnb.experiments.scorers.valid_json",
    "chatnb.experiments.scorers.judge",
)
HAS_DOCS_TOOLS = all(
    importlib.util.find_spec(name) is not None
    for name in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python", "griffe")
)
needs_docs_tools = pytest.mark.skipif(
    not HAS_DOCS_TOOLS,
    reason='mkdocs and mkdocstrings[python] are not installed: pip install -e ".[docs]"',
)


def _documented(docstring: object) -> set[str]:
    """The parameters an ``Args:`` section names."""
    if docstring is None:
        return set()
    return {
        parameter.name.lstrip("*")
        for section in docstring.parsed  # type: ignore[attr-defined]
        if section.kind.value in ("parameters", "other parameters")
        for parameter in section.value
    }


def _undocumented(package: object, path: str) -> list[str]:
    found = package[path.removeprefix("chatnb.")]  # type: ignore[index]
    function = found.members["__init__"] if found.is_class else found
    documented = _documented(found.docstring) | _documented(function.docstring)
    named = [p.name for p in function.parameters if p.name not in ("self", "cls")]
    return [name for name in named if name not in documented]


@needs_docs_tools
def test_every_argument_of_the_entry_points_is_documented() -> None:
    import griffe

    package = griffe.load("chatnb", search_paths=[str(ROOT)], docstring_parser="google")
    missing = {path: names for path in ENTRY_POINTS if (names := _undocumented(package, path))}
    assert missing == {}, "document these arguments in an Args: section"


@needs_docs_tools
def test_the_api_reference_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert built.returncode == 0, built.stderr[-4000:]
    assert 'not included in the "nav"' not in built.stderr, built.stderr[-4000:]
    chatbot = (site / "api" / "chatbot" / "index.html").read_text()
    assert 'id="chatnb.chatbot.Chatbot.ask"' in chatbot
    assert "answer_timeout" in chatbot and "Seconds one answer may take" in chatbot
    for page in (ROOT / "docs").glob("*.md"):
        assert (site / page.stem / "index.html").exists() or page.stem == "index", page.name


def test_serve_help_says_what_reply_takes_on_the_command_line() -> None:
    from chatnb.cli import _parser

    serve = next(
        action.choices["serve"]
        for action in _parser()._actions
        if isinstance(action.choices, dict) and "serve" in action.choices
    )
    reply = next(action for action in serve._actions if action.dest == "reply")
    assert reply.help is not None
    assert "function" not in reply.help and "list" not in reply.help
    assert "'markdown:N'" in reply.help and "'echo'" in reply.help
