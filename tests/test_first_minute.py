"""The first minute: ``from chatnb import Chatbot`` and making one load only what that needs.

Counted in modules, not seconds (a slow machine must not fail it): the views, the Markdown
splitter and the safety rules load at the first ask, the "did you mean" matcher only when a
name is misspelt, SQLite with the first cache.
"""

from __future__ import annotations

import json
import subprocess
import sys

LATER = (
    "chatnb.display",
    "chatnb.markdown",
    "chatnb.markdown.safety",
    "chatnb.markdown.live_tail",
    "difflib",
    "sqlite3",
)


def test_making_a_chatbot_loads_nothing_the_first_ask_can_load() -> None:
    code = (
        "import sys, json\nfrom chatnb import Chatbot\nChatbot.mock(display=False)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    loaded = set(json.loads(shown.stdout))
    assert not [name for name in LATER if name in loaded]


def test_the_first_ask_loads_them() -> None:
    code = (
        "import sys, json\nfrom chatnb import Chatbot\n"
        "Chatbot.mock(display=False).ask('Hi')\nprint(json.dumps(sorted(sys.modules)))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "chatnb.display" in set(json.loads(shown.stdout))
