"""Where a page's main thread went, from a Chromium trace (``benchmarks/browser.py --trace``).

The renderer's main thread runs tasks; each top-level event inside a task is put in one phase:
script run from animation-frame callbacks (chatnb draws there, and the probe counts frames
there), the rendering of frames that follows them (style, layout, paint, layerize, commit),
timers (the probe's sampling, chatnb's waits), messages arriving (IPC, the websocket) and the
rest. The naive recipe and chatnb then differ not only in total but in kind.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

#: Trace categories that name these events.
CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "toplevel"]

_TASKS = {"RunTask", "ThreadControllerImpl::RunTask"}
_PHASES = {
    "FireAnimationFrame": "animation-frame script",
    "UpdateLayoutTree": "style and layout",
    "Layout": "style and layout",
    "PrePaint": "paint, layerize, commit",
    "Paint": "paint, layerize, commit",
    "Layerize": "paint, layerize, commit",
    "Commit": "paint, layerize, commit",
    "HitTest": "paint, layerize, commit",
    "TimerFire": "timers",
    "SimpleWatcher::OnHandleReady": "messages arriving",
    "Receive mojo message": "messages arriving",
    "FunctionCall": "other script",
    "EventDispatch": "other script",
    "RunMicrotasks": "other script",
    "EvaluateScript": "other script",
}


def main_thread_phases(trace: Path) -> dict[str, float]:
    """Seconds of the busiest renderer main thread in ``trace``, by phase."""
    data = json.loads(trace.read_text())
    events: list[dict[str, Any]] = data["traceEvents"] if isinstance(data, dict) else data
    mains = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain"
    }
    spans = [e for e in events if (e.get("pid"), e.get("tid")) in mains and e.get("ph") == "X"]
    if not spans:
        return {}
    busiest = Counter((e["pid"], e["tid"]) for e in spans).most_common(1)[0][0]
    ordered = sorted(
        (e for e in spans if (e["pid"], e["tid"]) == busiest and "dur" in e),
        key=lambda e: (e["ts"], -e["dur"]),
    )
    phases: Counter[str] = Counter()
    task_end = outer_end = -1.0
    for event in ordered:
        start, end = event["ts"], event["ts"] + event["dur"]
        if event["name"] in _TASKS:
            if start >= task_end:
                phases["all tasks"] += event["dur"]
                task_end = end
            continue
        if start >= outer_end:  # a top-level event inside a task: its children are its own
            phases[_PHASES.get(event["name"], "other")] += event["dur"]
            outer_end = end
    return {name: micros / 1e6 for name, micros in phases.items()}


def describe(phases: dict[str, float]) -> str:
    """One line: every phase with its seconds, largest first."""
    total = phases.get("all tasks", 0.0)
    parts = sorted(((s, n) for n, s in phases.items() if n != "all tasks"), reverse=True)
    return f"main thread (traced) {total:.1f} s: " + ", ".join(f"{n} {s:.1f} s" for s, n in parts)
