"""The chatnb command, run as a user runs it: the demo shows an answer, --version answers, and
serve says at once, before announcing anything, that a port is taken."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import urllib.request

import chatnb


def chatnb_command(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatnb", *args], capture_output=True, text=True, timeout=timeout
    )


def test_the_demo_streams_an_answer_into_the_terminal() -> None:
    shown = chatnb_command("demo", "--itl-ms", "0", "--length", "400", "--thinking")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert out.index("Thinking: ") < out.index("(thought for ") < out.index("# A sample answer")
    assert re.search(r"\n\(\d+ \+ \d+ tokens \(\d+ reasoning\), [\d.]+ s", out)


def test_version() -> None:
    shown = chatnb_command("--version")
    assert shown.returncode == 0 and shown.stdout.strip() == f"chatnb {chatnb.__version__}"


def test_serve_on_a_busy_port_says_so_in_one_line_and_fails() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        shown = chatnb_command("serve", "--port", str(port), timeout=30)
    assert shown.returncode == 1 and shown.stdout == ""
    assert shown.stderr == (
        f"chatnb serve: port {port} on 127.0.0.1 is already in use; choose another with --port.\n"
    )


def test_serve_takes_requests_as_soon_as_it_announces_itself() -> None:
    """The announcement comes once the app is built and warmed and the socket listens: the
    first request, sent the moment the line appears and never retried, is answered."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "chatnb", "serve", "--port", str(port), "--reply", "Hello."],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        announced = server.stderr.readline()
        assert announced.startswith(f"chatnb mock server on http://127.0.0.1:{port}/v1")
        body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]})
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert answer["choices"][0]["message"]["content"] == "Hello."
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_demo_answers_its_question_in_markdown() -> None:
    shown = chatnb_command("demo", "--itl-ms", "0")
    assert shown.returncode == 0, shown.stderr
    answer = shown.stdout.split("stream an LLM's answer into a Jupyter notebook?", 1)[1]
    assert "## Streaming an answer" in answer and "```python" in answer
    assert "$0.000000 (mock)" in answer  # the mock costs nothing, and says so
