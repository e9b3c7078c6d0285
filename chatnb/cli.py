"""The ``chatnb`` command: ``chatnb demo`` streams an answer from the embedded mock into the
terminal; ``chatnb serve`` runs the mock OpenAI-compatible server."""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from collections.abc import Sequence
from importlib.metadata import version

__version__ = version("chatnb")

DEMO_QUESTION = "How should I stream an LLM's answer into a Jupyter notebook?"
DEMO_REASONING = (
    "The user wants streaming in a notebook. Re-rendering the whole answer on every token is "
    "quadratic; finished Markdown blocks can be sent once."
)


def _parser() -> argparse.ArgumentParser:
    from .mock.options import add_arguments

    parser = argparse.ArgumentParser(prog="chatnb", description="chatnb command-line tools.")
    parser.add_argument("--version", action="version", version=f"chatnb {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="stream an answer from the embedded mock into this terminal (no key, no network)",
        description="Ask the embedded mock a question and stream its Markdown answer here.",
    )
    demo.add_argument("--itl-ms", type=float, default=12.0, help="time between tokens (ms)")
    demo.add_argument(
        "--length",
        type=int,
        default=None,
        help="answer with a Markdown sample of this many characters instead",
    )
    demo.add_argument("--thinking", action="store_true", help="answer as a thinking model")
    serve = commands.add_parser(
        "serve",
        help="run the mock OpenAI-compatible server",
        description="Serve the embedded mock of the OpenAI Chat Completions API over HTTP.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument(
        "--api-key",
        default=None,
        help="require this key as a Bearer token (or set CHATNB_MOCK_API_KEY)",
    )
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    add_arguments(serve)
    _describe_reply_flag(serve)
    return parser


#: What ``--reply`` takes on the command line: one string. The Python API's lists, ToolCalls,
#: dicts and functions cannot be typed as a flag (a request may still send a list per request).
REPLY_FLAG_HELP = (
    "'echo' (repeat the last user message; call the tools offered; fill in the JSON schema "
    "asked for), 'markdown:N' (a generated Markdown answer of about N characters), or any "
    "other text, answered as given to every request (default: 'echo')"
)


def _describe_reply_flag(serve: argparse.ArgumentParser) -> None:
    """The shared help of ``reply`` lists what Python can pass; the flag takes only text."""
    for action in serve._actions:
        if action.dest == "reply":
            action.help = REPLY_FLAG_HELP


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    return _serve(args)


def _demo(args: argparse.Namespace) -> int:
    from .chatbot import Chatbot
    from .display.sinks import terminal_sink
    from .mock import MarkdownSample
    from .mock.replies import ANSWER

    # Rendered by rich in a terminal (with the terminal extra), else plain text.
    sink = terminal_sink()
    reasoning = DEMO_REASONING if args.thinking else None
    # The built-in answer to the question, unless a sample of some length is asked for.
    reply = ANSWER if args.length is None else MarkdownSample(args.length, seed=1)
    bot = Chatbot.mock(reply, itl_ms=args.itl_ms, reasoning=reasoning, display=sink)
    print(f"chatnb {__version__} demo: the embedded mock answers (no key, no network).\n")
    sink.show(f"> {DEMO_QUESTION}\n\n")
    try:
        bot.ask(DEMO_QUESTION)
    except KeyboardInterrupt:
        print("\n(stopped: the partial answer is kept)")
        return 130
    if bot.usage.last is not None and not sink.usage_line:
        print(f"\n{bot.usage.last.line()}")  # a terminal that renders showed it already
    return 0


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        print('chatnb serve needs the server extra: pip install "chatnb[server]"', file=sys.stderr)
        return 2
    from .mock.options import from_arguments
    from .mock.server import serve

    if _port_taken(args.host, args.port):
        print(
            f"chatnb serve: port {args.port} on {args.host} is already in use; "
            "choose another with --port.",
            file=sys.stderr,
        )
        return 1
    options = from_arguments(args)
    api_key = args.api_key or os.environ.get("CHATNB_MOCK_API_KEY") or None

    def announce() -> None:
        print(
            f"chatnb mock server on http://{args.host}:{args.port}/v1 "
            f"(reply={getattr(args, 'reply', 'echo')!r}, ttft={options.ttft_ms}ms, "
            f"itl={options.itl_ms}ms"
            f"{', key required' if api_key else ''}); Ctrl-C stops it",
            file=sys.stderr,
            flush=True,
        )

    serve(
        options,
        host=args.host,
        port=args.port,
        workers=args.workers,
        api_key=api_key,
        announce=announce,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
