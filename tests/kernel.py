"""A real IPython kernel driven through jupyter_client, and a model of what a frontend shows.

Used by the display and chatbot tests and by ``benchmarks/streaming.py``: everything that a
browser would receive goes over the kernel's IOPub channel, so that is what is measured.
"""

from __future__ import annotations

import json
import queue
import time
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel

__all__ = ["Frontend", "Kernel", "Run"]


@dataclass
class Frontend:
    """The outputs of one cell as a notebook frontend keeps them."""

    outputs: list[dict[str, Any]] = field(default_factory=list)
    #: Widget states by comm id, in the order the widgets were created.
    widgets: dict[str, dict[str, Any]] = field(default_factory=dict)

    #: The text of each live-text widget (chatnb's live output), by comm id, as its custom
    #: messages build it.
    live: dict[str, str] = field(default_factory=dict)

    def receive(self, msg: dict[str, Any]) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "comm_open":
            self.widgets[content["comm_id"]] = dict(content["data"].get("state", {}))
        elif kind == "comm_msg" and content["data"].get("method") == "update":
            self.widgets.setdefault(content["comm_id"], {}).update(content["data"]["state"])
        elif kind == "comm_msg" and content["data"].get("method") == "custom":
            custom, comm_id = content["data"]["content"], content["comm_id"]
            if custom.get("clear"):
                self.live[comm_id] = ""
            self.live[comm_id] = self.live.get(comm_id, "") + custom.get("append", "")
        if kind in ("display_data", "execute_result", "stream", "error"):
            self.outputs.append({"type": kind, **content})
        elif kind == "update_display_data":
            display_id = content["transient"]["display_id"]
            for output in self.outputs:
                if output.get("transient", {}).get("display_id") == display_id:
                    output["data"] = content["data"]
        elif kind == "clear_output":
            self.outputs.clear()

    def markdown(self) -> list[str]:
        return [
            o["data"]["text/markdown"] for o in self.outputs if "text/markdown" in o.get("data", {})
        ]

    def shown(self) -> list[str]:
        """What each output shows: its Markdown, or the text of a live widget."""
        shown = []
        for output in self.outputs:
            data = output.get("data", {})
            if "text/markdown" in data:
                shown.append(data["text/markdown"])
            elif "application/vnd.jupyter.widget-view+json" in data:
                model = data["application/vnd.jupyter.widget-view+json"]["model_id"]
                shown.append(self.live.get(model, ""))
        return shown

    def widget_markdown(self) -> list[str]:
        """The Markdown each Output widget shows, in page order (boxes' children in order)."""
        children = {
            child.removeprefix("IPY_MODEL_")
            for state in self.widgets.values()
            for child in state.get("children", [])
        }

        def walk(comm_id: str) -> list[str]:
            state = self.widgets.get(comm_id, {})
            if "children" in state:
                return [m for c in state["children"] for m in walk(c.removeprefix("IPY_MODEL_"))]
            if state.get("_model_name") == "OutputModel" and state.get("outputs"):
                return ["".join(o["data"].get("text/markdown", "") for o in state["outputs"])]
            return []

        return [m for comm_id in self.widgets if comm_id not in children for m in walk(comm_id)]

    def stdout(self) -> str:
        return "".join(
            o["text"] for o in self.outputs if o["type"] == "stream" and o["name"] == "stdout"
        )

    def text(self) -> str:
        """Plain text shown: stream text and ``text/plain`` of displays."""
        shown = []
        for output in self.outputs:
            if output["type"] == "stream":
                shown.append(output["text"])
            elif "text/plain" in output.get("data", {}):
                shown.append(output["data"]["text/plain"])
            elif output["type"] == "error":
                shown.append("\n".join(output["traceback"]))
        return "".join(shown)


@dataclass
class Run:
    """Everything one execution sent on IOPub, and its shell reply."""

    messages: list[dict[str, Any]]
    reply: dict[str, Any]

    @property
    def frontend(self) -> Frontend:
        frontend = Frontend()
        for msg in self.messages:
            frontend.receive(msg)
        return frontend

    def of_type(self, *kinds: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["msg_type"] in kinds]

    def display_messages(self) -> list[dict[str, Any]]:
        return self.of_type("display_data", "update_display_data", "execute_result")

    def payload_bytes(self) -> int:
        """Bytes of the ``data`` of display messages (what gets rendered)."""
        return sum(
            len(value.encode()) if isinstance(value, str) else len(json.dumps(value).encode())
            for m in self.display_messages()
            for value in m["content"]["data"].values()
        )

    def markdown_bytes(self) -> int:
        """Bytes of the ``text/markdown`` of display messages."""
        return sum(
            len(m["content"]["data"].get("text/markdown", "").encode())
            for m in self.display_messages()
        )

    def wire_bytes(self) -> int:
        """Bytes of the display messages as JSON, envelope (headers, metadata) included."""
        keys = ("header", "parent_header", "metadata", "content")
        return sum(
            len(json.dumps({k: m[k] for k in keys}, default=str).encode())
            for m in self.display_messages()
        )

    def ok(self) -> Run:
        if self.reply["status"] != "ok":
            raise AssertionError("\n".join(self.reply.get("traceback", [])) or str(self.reply))
        return self


class Kernel:
    """A real ``python3`` kernel; :meth:`run` executes code and collects IOPub to idle."""

    def __init__(self) -> None:
        self.manager: KernelManager
        self.client: BlockingKernelClient
        self._start()

    def _start(self) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3")
        self._stuck = False

    def run(self, code: str, timeout: float = 120, *, interrupt_on: str | None = None) -> Run:
        """Execute ``code``; with ``interrupt_on``, interrupt the kernel (as the stop button
        does) as soon as that text appears in an IOPub message. A kernel that stopped
        answering fails the run that found it so, and is replaced before the next run: one
        broken test must not fail every test after it."""
        if self._stuck:
            self.close()
            self._start()
        try:
            return self._run(code, timeout, interrupt_on)
        except queue.Empty:
            self._stuck = True
            raise TimeoutError(f"the kernel did not finish within {timeout} s") from None

    def _run(self, code: str, timeout: float, interrupt_on: str | None) -> Run:
        msg_id = self.client.execute(code)
        deadline = time.monotonic() + timeout

        def remaining() -> float:
            return max(0.1, deadline - time.monotonic())

        messages = []
        while True:
            msg = self.client.get_iopub_msg(timeout=remaining())
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            messages.append(msg)
            if interrupt_on is not None and interrupt_on in json.dumps(msg["content"]):
                self.manager.interrupt_kernel()
                interrupt_on = None
        reply = self.client.get_shell_msg(timeout=remaining())
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.client.get_shell_msg(timeout=remaining())
        return Run(messages, reply["content"])

    def click(self, comm_id: str, *, until: str, timeout: float = 30) -> list[dict[str, Any]]:
        """Click a button widget as a browser does (a comm message), and collect what IOPub
        carries, also after the click's request has finished, until ``until`` appears."""
        msg = self.client.session.msg(
            "comm_msg",
            {"comm_id": comm_id, "data": {"method": "custom", "content": {"event": "click"}}},
        )
        self.client.shell_channel.send(msg)
        deadline = time.monotonic() + timeout
        messages: list[dict[str, Any]] = []
        while not any(until in json.dumps(m["content"]) for m in messages):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{until!r} never came")
            try:
                messages.append(self.client.get_iopub_msg(timeout=1))
            except Exception:  # queue.Empty: nothing yet
                continue
        return messages

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
