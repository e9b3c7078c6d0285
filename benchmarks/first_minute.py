"""The first minute of chatnb, each figure beside its baseline, measured in the same run.

1. Import: ``from chatnb import Chatbot`` against ``import openai`` alone, each in fresh
   processes (interleaved, ``ROUNDS`` each; best and median, wall and CPU time). Bytecode is
   compiled first, as an installed package has it. On a busy machine whole processes swing by
   10% or more, so the same processes also time their own imports (CPU): openai, then what
   chatnb adds on top of it.
2. The first ask in a fresh process, on the embedded mock (a 1,200-character answer, no
   latency): seconds from the start of the ask to the first token shown and to the end,
   against a bare loop over the openai client's stream from the same mock in its own fresh
   process. The Chatbot is made first, as in a notebook's first cell; the tokenizer loads in
   the background meanwhile. (The embedded mock counts with the same tokenizer in the same
   process, so its first token waits for that load, the bare loop's as much as chatnb's.)
2b. The same first ask against the mock served by another process (warm, as a real API is),
   the Chatbot made and asked in one cell (``bot = Chatbot(...); bot.ask(...)``): instantly,
   and paced as an API streams (300 ms to the first token, then 10 ms a token). A short
   prompt is sent while the tokenizer still loads (its bytes prove it fits); the load starts
   once the first token is shown and the prompt is counted after the answer.
3. ``chatnb serve``: seconds from its announcement to the first answer (the request is sent
   the moment the line appears, retried while refused), beside its start-up time.

    python benchmarks/first_minute.py
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from urllib.error import URLError

ROUNDS = 20
PYTHON = sys.executable
# Bytecode caches allowed (an installed package has them), whatever this shell says.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

FIRST_ASK = """
import time
started = time.perf_counter()
from chatnb import Chatbot
from chatnb.mock import MarkdownSample

class FirstShown:
    first = None
    def show(self, markdown):
        FirstShown.first = FirstShown.first or time.perf_counter()
        return 0
    def replace(self, handle, markdown):
        pass
    def note(self, text):
        pass

bot = Chatbot.mock(MarkdownSample(1200), display=FirstShown())
made = time.perf_counter()
asked = time.perf_counter()
bot.ask("What is a context window?")
done = time.perf_counter()
print(made - started, FirstShown.first - asked, done - asked, bot.usage.last.line())
"""

SERVED_ASK = """
import sys, time
started = time.perf_counter()
from chatnb import Chatbot

class FirstShown:
    first = None
    def show(self, markdown):
        FirstShown.first = FirstShown.first or time.perf_counter()
        return 0
    def replace(self, handle, markdown):
        pass
    def note(self, text):
        pass

asked = time.perf_counter()
bot = Chatbot("gpt-4o-mini", base_url=sys.argv[1], api_key="sk-bench", display=FirstShown())
bot.ask("What is a context window?")
done = time.perf_counter()
print(asked - started, FirstShown.first - asked, done - asked, bot.usage.last.line())
"""

SERVED_BARE = """
import sys, time
started = time.perf_counter()
import openai
asked = time.perf_counter()
client = openai.OpenAI(base_url=sys.argv[1], api_key="sk-bench")
first = None
stream = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True
)
for chunk in stream:
    if first is None and chunk.choices and chunk.choices[0].delta.content:
        first = time.perf_counter()
done = time.perf_counter()
print(asked - started, first - asked, done - asked, "")
"""

BARE_ASK = """
import time
started = time.perf_counter()
import openai
from chatnb import mock
from chatnb.mock import MarkdownSample

client = mock.client(MarkdownSample(1200))
made = time.perf_counter()
asked = time.perf_counter()
first = None
stream = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True
)
for chunk in stream:
    if first is None and chunk.choices and chunk.choices[0].delta.content:
        first = time.perf_counter()
done = time.perf_counter()
print(made - started, first - asked, done - asked, "")
"""


def _run(code: str) -> tuple[float, float]:
    """Wall and CPU seconds of a fresh ``python -c code``."""
    started = time.perf_counter()
    child = subprocess.Popen([PYTHON, "-c", code], env=ENV)
    _, status, usage = os.wait4(child.pid, 0)
    if status:
        raise SystemExit(f"the child failed: {code!r}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def _summary(values: list[float]) -> str:
    return f"best {min(values) * 1e3:6.0f} ms, median {statistics.median(values) * 1e3:6.0f} ms"


def imports() -> None:
    codes = {"import openai": "import openai", "chatnb": "from chatnb import Chatbot"}
    for code in codes.values():
        _run(code)  # compile the bytecode once
    wall: dict[str, list[float]] = {name: [] for name in codes}
    cpu: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(ROUNDS):
        for name, code in codes.items():
            w, c = _run(code)
            wall[name].append(w)
            cpu[name].append(c)
    print(f"1. import, fresh processes, {ROUNDS} each (interleaved):")
    for name in codes:
        print(f"   {name:14} wall {_summary(wall[name])}; cpu {_summary(cpu[name])}")
    for kind, values in (("wall", wall), ("cpu", cpu)):
        best = min(values["chatnb"]) / min(values["import openai"])
        median = statistics.median(values["chatnb"]) / statistics.median(values["import openai"])
        print(f"   chatnb / openai ({kind}): best {best:.2f}x, median {median:.2f}x")


SPLIT = """
import time
started = time.process_time()
import openai
mid = time.process_time()
from chatnb import Chatbot
print(mid - started, time.process_time() - mid)
"""


def split_imports() -> None:
    rows = []
    for _ in range(ROUNDS):
        shown = subprocess.run(
            [PYTHON, "-c", SPLIT], env=ENV, capture_output=True, text=True, check=True
        )
        rows.append([float(x) for x in shown.stdout.split()])
    openai_s = statistics.median(r[0] for r in rows)
    on_top = statistics.median(r[1] for r in rows)
    print(
        f"   inside the process (CPU, median of {ROUNDS}): import openai {openai_s * 1e3:.0f} ms, "
        f"chatnb on top {on_top * 1e3:.1f} ms: {(openai_s + on_top) / openai_s:.3f}x"
    )


def _ask(code: str, *args: str) -> list[str]:
    shown = subprocess.run(
        [PYTHON, "-c", code, *args], env=ENV, capture_output=True, text=True, check=True
    ).stdout
    return (shown.strip() + " ").split(" ", 3)


def first_ask(rounds: int = 5) -> None:
    print(f"2. the first ask in a fresh process, on the mock (median of {rounds}):")
    for name, code in (("chatnb ask", FIRST_ASK), ("bare openai loop", BARE_ASK)):
        rows = [_ask(code) for _ in range(rounds)]
        made, first, total = (statistics.median(float(r[i]) for r in rows) for i in range(3))
        print(
            f"   {name:16} ready in {made:.2f} s; then first token {first * 1e3:5.0f} ms, "
            f"whole answer {total * 1e3:5.0f} ms {rows[-1][3]}"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _first_answer(port: int) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    while True:
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                return
        except URLError:
            time.sleep(0.005)  # refused: not listening yet


def _started_mock(port: int, *flags: str) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        [PYTHON, "-m", "chatnb", "serve", "--port", str(port), *flags],
        env=ENV,
        stderr=subprocess.PIPE,
        text=True,
    )
    if server.stderr is None or not server.stderr.readline():
        server.terminate()
        raise SystemExit("chatnb serve did not announce itself")
    return server


def first_ask_served(rounds: int = 5) -> None:
    print(
        f"2b. the first ask in a fresh process, mock served by another process (median of {rounds}):"
    )
    for ttft, itl in (("0", "0"), ("300", "10")):
        port = _free_port()
        pace = ("--ttft-ms", ttft, "--itl-ms", itl)
        server = _started_mock(port, "--reply", "markdown:1200", *pace)
        try:
            _first_answer(port)  # warm: a real API is
            url = f"http://127.0.0.1:{port}/v1"
            for name, code in (("chatnb ask", SERVED_ASK), ("bare openai loop", SERVED_BARE)):
                rows = [_ask(code, url) for _ in range(rounds)]
                first, total = (statistics.median(float(r[i]) for r in rows) for i in (1, 2))
                print(
                    f"   ttft {ttft:>3}/{itl:>2} ms  {name:16} first token {first * 1e3:5.0f} ms, "
                    f"whole answer {total * 1e3:5.0f} ms {rows[-1][3]}"
                )
        finally:
            server.terminate()
            server.wait()


def serve(rounds: int = 3) -> None:
    announced, answered = [], []
    for _ in range(rounds):
        port = _free_port()
        started = time.perf_counter()
        server = subprocess.Popen(
            [PYTHON, "-m", "chatnb", "serve", "--port", str(port)],
            env=ENV,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            if server.stderr is None or not server.stderr.readline():
                raise SystemExit("chatnb serve did not announce itself")
            at = time.perf_counter()
            _first_answer(port)
            announced.append(at - started)
            answered.append(time.perf_counter() - at)
        finally:
            server.terminate()
            server.wait()
    print(f"3. chatnb serve ({rounds} starts):")
    print(f"   start to announcement    {_summary(announced)}")
    print(f"   announcement to answer   {_summary(answered)}")


def main() -> None:
    imports()
    split_imports()
    first_ask()
    first_ask_served()
    serve()


if __name__ == "__main__":
    main()
