"""Short stretches of code that a Ctrl-C must not cut in half.

Settling the History after a failure (keeping the partial answer, answering open tool calls)
takes several statements; a second Ctrl-C in the middle would leave it half done. Inside
:func:`deferred_interrupts`, a SIGINT is remembered instead of raised, and handed to the handler
that was there before when the stretch ends. In plain code that handler raises
``KeyboardInterrupt``; in an async cell, ipykernel's handler cancels the cell's task instead, and
so must ours: a ``KeyboardInterrupt`` raised inside an asyncio task escapes the event loop and
takes the kernel down. Outside the main thread (where no signal arrives) it does nothing.
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
    """Hold SIGINT while the block runs; after it, hand one that came to the handler from
    before (``reraise=False``: a cleanup that raises its own error next drops it)."""
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
        _hand_over(previous, came[0])


def _hand_over(handler: Any, signum: int) -> None:
    """Deliver a held signal as the handler from before the stretch would have."""
    if callable(handler):
        handler(signum, None)
    elif handler != signal.SIG_IGN:  # SIG_DFL, or a handler set outside Python
        raise KeyboardInterrupt
