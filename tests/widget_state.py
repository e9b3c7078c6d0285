"""The widget state a saved notebook needs: only the models its outputs still show.

nbclient (so `jupyter nbconvert --execute` and papermill) saves the last state of every widget a
run ever opened, closed ones included: each live answer's view with its whole script, an
experiment's progress bar. A frontend drops closed models when it saves; a notebook re-run
this way carries them all (notebook 01 held 16 such models, 65 KB of an old live view's
script). `python -m tests.widget_state notebooks/*.ipynb` keeps only the models reachable from
a widget view in an output (the ChatWidget of notebook 02 and its parts) and drops the rest;
tests/test_notebooks.py checks that the committed notebooks hold nothing else.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

STATE = "application/vnd.jupyter.widget-state+json"
VIEW = "application/vnd.jupyter.widget-view+json"
# A model's state names another as "IPY_MODEL_<id>" (a box's children, a layout), an Output
# widget's outputs name one as a widget view's "model_id".
REFERENCE = re.compile(r'IPY_MODEL_([0-9a-f]+)|"model_id": "([0-9a-f]+)"')


def saved_models(notebook: dict[str, Any]) -> dict[str, Any]:
    widgets = notebook.get("metadata", {}).get("widgets", {})
    models: dict[str, Any] = widgets.get(STATE, {}).get("state", {})
    return models


def shown_models(notebook: dict[str, Any]) -> set[str]:
    """The models a widget view in an output shows, and those their state refers to."""
    models = saved_models(notebook)
    todo = [
        output["data"][VIEW]["model_id"]
        for cell in notebook.get("cells", [])
        for output in cell.get("outputs", [])
        if VIEW in output.get("data", {})
    ]
    seen: set[str] = set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for named in REFERENCE.findall(json.dumps(models.get(model, {}))):
            todo.append(named[0] or named[1])
    return seen


def prune(path: Path) -> int:
    """Drop the models no output shows from the notebook at `path`; how many were dropped."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    models = saved_models(notebook)
    keep = shown_models(notebook)
    dropped = [model for model in models if model not in keep]
    for model in dropped:
        del models[model]
    if not models:
        notebook["metadata"].pop("widgets", None)
    # As nbformat writes a notebook, so that the diff holds only what was dropped.
    text = json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return len(dropped)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {prune(Path(name))} widget models no output shows dropped")
