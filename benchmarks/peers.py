"""chatnb beside its peers: the same 20 KB answer, the same server, a real kernel each.

``chatnb serve`` streams one Markdown answer of about 20 KB (``--reply markdown:20000``) in
gpt-4o tokens at 100 tokens a second. Each peer asks for it the way its documentation shows,
in a real IPython kernel of its own throwaway virtual environment (only that peer, ipykernel
and their dependencies installed from the package index), and everything the kernel sends on
IOPub (what the Jupyter server forwards to the browser) is measured:

- **messages**: display messages (display data, updates, stream text, clear output, widget
  messages), and the most of them in any one second;
- **payload**: the bytes of what they carry (Markdown, HTML, text, widget text), over the
  answer's bytes; **whole messages**: the same messages as JSON, envelopes included;
- **kernel CPU**: user + system seconds of the kernel process during the cell;
- **first text**: seconds from sending the cell to the first message that shows part of the
  answer; **largest gap**: the longest time between two such messages while it streams.

Peers: chatnb; the naive recipe from tutorials (``handle.update(Markdown(answer))`` per
token); lisette; chatlab; jupyter-ai's ``%%ai`` magic (which does not stream); the llm library
(which prints plain text). A peer that cannot be installed is skipped with a note.

    python benchmarks/peers.py                  # every peer (installs take minutes)
    python benchmarks/peers.py chatnb naive     # some of them
    python benchmarks/peers.py --venvs DIR      # keep the environments in DIR for next time
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import venv
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-peers-benchmark"
PROMPT = "Write the sample answer."
ITL_MS = 10  # 100 tokens a second


@dataclass(frozen=True)
class Peer:
    name: str
    requirements: tuple[str, ...]
    setup: str  # run first, not measured
    cell: str  # the measured cell


PEERS = [
    Peer(
        "chatnb",
        ("-e", str(ROOT)),  # this working tree
        "from chatnb import Chatbot\nbot = Chatbot(model='gpt-4o')",
        f"bot.ask({PROMPT!r})",
    ),
    Peer(
        "naive",
        ("openai",),
        "from openai import OpenAI\nfrom IPython.display import Markdown, display\n"
        "client = OpenAI()",
        "answer = ''\nhandle = display(Markdown(answer), display_id=True)\n"
        "for chunk in client.chat.completions.create(\n"
        f"    model='gpt-4o', messages=[{{'role': 'user', 'content': {PROMPT!r}}}], stream=True\n"
        "):\n"
        "    if chunk.choices and chunk.choices[0].delta.content:\n"
        "        answer += chunk.choices[0].delta.content\n"
        "        handle.update(Markdown(answer))",
    ),
    Peer(
        "lisette",
        ("lisette", "toolslm<0.3.47"),  # toolslm 0.3.47 dropped the funccall lisette imports
        "from lisette import Chat, display_stream\nchat = Chat('openai/gpt-4o')",
        f"display_stream(chat({PROMPT!r}, stream=True))",
    ),
    Peer(
        "chatlab",
        ("chatlab",),
        "import os\nfrom chatlab import Chat\n"
        "chat = Chat(model='gpt-4o', base_url=os.environ['OPENAI_BASE_URL'])",
        f"await chat({PROMPT!r})",
    ),
    Peer(
        "jupyter-ai %%ai",
        ("jupyter-ai-magics", "langchain-openai"),
        "%load_ext jupyter_ai_magics",
        f"%%ai openai-chat:gpt-4o\n{PROMPT}",
    ),
    Peer(
        "llm",
        ("llm",),
        "import llm\nmodel = llm.get_model('gpt-4o')",
        f"for chunk in model.prompt({PROMPT!r}):\n    print(chunk, end='')",
    ),
]

# What changes what the notebook shows.
SHOWN = {
    "display_data",
    "update_display_data",
    "execute_result",
    "stream",
    "clear_output",
    "comm_open",
    "comm_msg",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def mock_server() -> Iterator[str]:
    """``chatnb serve`` on a free port of 127.0.0.1, stopped when done."""
    port = free_port()
    command = [sys.executable, "-m", "chatnb", "serve", "--port", str(port), "--api-key", KEY]
    command += ["--reply", "markdown:20000", "--itl-ms", str(ITL_MS)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {KEY}"})
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def the_answer(url: str) -> str:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": PROMPT}]}
    reply = httpx.post(
        f"{url}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=300,
    )
    return str(reply.json()["choices"][0]["message"]["content"])


def environment(peer: Peer, folder: Path) -> Path | str:
    """The peer's virtual environment (made if missing): its python, or why it failed."""
    python = folder / "bin" / "python"
    if not python.exists():
        venv.create(folder, with_pip=True)
        install = [str(python), "-m", "pip", "install", "-q", "ipykernel", *peer.requirements]
        done = subprocess.run(install, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            return f"could not be installed: {done.stderr.strip().splitlines()[-1:]}"
    return python


@dataclass
class Measured:
    messages: list[tuple[float, dict[str, Any]]]
    cpu: float
    started: float
    error: str | None


def run_in_kernel(python: Path, url: str, peer: Peer) -> Measured:
    with tempfile.TemporaryDirectory() as specs:
        spec = Path(specs) / "peer"
        spec.mkdir()
        argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (spec / "kernel.json").write_text(json.dumps({"argv": argv, "language": "python"}))
        manager = KernelManager(
            kernel_name="peer", kernel_spec_manager=KernelSpecManager(kernel_dirs=[specs])
        )
        env = {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": url}
        env["OPENAI_API_BASE"] = url  # LangChain's name for it
        env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no fetch of litellm's price list
        manager.start_kernel(env=env)
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=120)
            setup = client.execute_interactive(peer.setup, timeout=300, output_hook=lambda m: None)
            if setup["content"]["status"] != "ok":
                return Measured([], 0, 0, f"setup failed: {setup['content'].get('evalue')}")
            process = psutil.Process(manager.provisioner.pid)  # type: ignore[union-attr]
            return _measure(client, process, peer.cell)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


def _measure(client: Any, process: psutil.Process, cell: str) -> Measured:
    before = process.cpu_times()
    started = time.monotonic()
    msg_id = client.execute(cell)
    messages: list[tuple[float, dict[str, Any]]] = []
    while True:
        try:
            msg = client.get_iopub_msg(timeout=600)
        except queue.Empty:
            return Measured(messages, 0, started, "no answer in 600 s")
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        messages.append((time.monotonic(), msg))
    after = process.cpu_times()
    cpu = after.user - before.user + after.system - before.system
    errors = [m for _, m in messages if m["msg_type"] == "error"]
    error = f"{errors[0]['content']['ename']}: {errors[0]['content']['evalue']}" if errors else None
    return Measured(messages, cpu, started, error)


def figures(measured: Measured, answer: str) -> dict[str, float]:
    shown = [(at, m) for at, m in measured.messages if m["msg_type"] in SHOWN]
    size = len(answer.encode())
    # The answer's first word (its third token or so) tells a message shows the answer.
    probe = next(word for word in answer.split() if len(word) >= 5 and word.isalpha())
    with_text = [at for at, m in shown if probe in json.dumps(m["content"], ensure_ascii=False)]
    first = with_text[0] if with_text else float("inf")
    carrying = [at for at, m in shown if _carried(m) and at >= first]
    seconds = Counter(int(at - measured.started) for at, _ in shown)
    keys = ("header", "parent_header", "metadata", "content")
    wire = sum(len(json.dumps({k: m[k] for k in keys}, default=str).encode()) for _, m in shown)
    gaps = [b - a for a, b in itertools.pairwise(carrying)]
    return {
        "messages": len(shown),
        "busiest": max(seconds.values(), default=0),
        "payload": sum(_carried(m) for _, m in shown) / size,
        "wire": wire / size,
        "cpu": measured.cpu,
        "first": first - measured.started,
        "gap": max(gaps, default=0.0),
    }


def _carried(msg: dict[str, Any]) -> int:
    """Bytes of content a message brings to the screen."""
    content = msg["content"]
    if msg["msg_type"] == "stream":
        return len(content["text"].encode())
    if "data" in content and msg["msg_type"] != "comm_msg" and msg["msg_type"] != "comm_open":
        return sum(len(str(v).encode()) for v in content["data"].values())
    data = content.get("data", {})
    if msg["msg_type"] == "comm_msg" and data.get("method") == "custom":
        return sum(len(str(v).encode()) for v in data["content"].values())  # the text itself
    if msg["msg_type"] in ("comm_msg", "comm_open"):
        return len(json.dumps(data.get("state", data)).encode())
    return 0


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("peers", nargs="*", help="names of the peers to run (default: all)")
    options.add_argument("--venvs", type=Path, help="keep the environments here")
    args = options.parse_args()
    chosen = [p for p in PEERS if not args.peers or p.name.split()[0] in args.peers]
    keep = args.venvs is not None
    folder = args.venvs or Path(tempfile.mkdtemp(prefix="chatnb-peers-"))
    rows: list[tuple[str, dict[str, float] | str]] = []
    try:
        with mock_server() as url:
            answer = the_answer(url)
            print(f"{len(answer.encode()):,} bytes at {1000 // ITL_MS} tokens/s from chatnb serve")
            for peer in chosen:
                python = environment(peer, folder / peer.name.split()[0])
                if isinstance(python, str):
                    rows.append((peer.name, python))
                    print(f"  {peer.name}: skipped, {python}", flush=True)
                    continue
                measured = run_in_kernel(python, url, peer)
                if measured.error:
                    rows.append((peer.name, measured.error))
                else:
                    rows.append((peer.name, figures(measured, answer)))
                print(f"  {peer.name}: done", flush=True)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    print_table(rows)


def print_table(rows: list[tuple[str, dict[str, float] | str]]) -> None:
    print(
        "\n| peer | messages | busiest second | payload | whole messages | kernel CPU"
        " | first text | largest gap |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    for name, row in rows:
        if isinstance(row, str):
            print(f"| {name} | {row} |||||||")
            continue
        print(
            f"| {name} | {row['messages']:,.0f} | {row['busiest']:,.0f} | {row['payload']:.2f}x"
            f" | {row['wire']:.2f}x | {row['cpu']:.2f} s | {row['first']:.2f} s"
            f" | {row['gap']:.2f} s |"
        )


if __name__ == "__main__":
    main()
