"""Short stretches of code that a Ctrl-C must not cut in half.

Settling the History after a failure (keeping the partial answer, answering open tool calls)
takes several statements; a second Ctrl-C in the middle would leave it half done. Inside
:func:`deferred_interrupts`, a SIGINT is remembered instead of raised, and raised as a
``KeyboardInterrupt`` when the stretch ends. The kernel's interrupt button sends SIGINT too, so
the same holds in a notebook. Outside the main thread (where no signal arrives) it does nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["deferred_interrupts"]


@contextmanager
def deferred_interrupts(*, reraise: bool = True) -> Iterator[None]:
    """Hold SIGINT while the block runs; raise ``KeyboardInterrupt`` after it if one came
    (``reraise=False``: a cleanup that raises its own error next drops it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        came.append(signum)

    try:
        previous: Any = signal.signal(signal.SIGINT, remember)
    except ValueError:  # no signals here (an embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if came and reraise:
        raise KeyboardInterrupt
