"""The HTTP library the installed openai client sends through.

openai 3.x sends through ``httpx2``, openai 2.x through ``httpx``; the two have the same
interface. chatnb plugs into whichever the installed openai uses (its in-process mock is a
transport of that library, and a transport error is recognised as that library's), so chatnb
installs next to either without upgrading it. Type checkers see ``httpx2``.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

__all__ = ["library"]


@cache
def library() -> ModuleType:
    """``httpx2`` under openai 3.x, ``httpx`` under openai 2.x."""
    from openai import _base_client

    module = getattr(_base_client, "httpx2", None) or getattr(_base_client, "httpx", None)
    assert isinstance(module, ModuleType)
    return module
