"""The ``chatnb`` command: ``chatnb serve`` runs the mock OpenAI-compatible server."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatnb", description="chatnb command-line tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the mock OpenAI-compatible server",
        description="Serve the embedded mock of the OpenAI Chat Completions API over HTTP.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument(
        "--reply",
        default="echo",
        help="'echo' (repeat the last user message), 'markdown:N' (a Markdown sample of "
        "about N characters), or a fixed text",
    )
    serve.add_argument("--chunking", choices=["tokens", "words", "chars"], default="tokens")
    serve.add_argument("--ttft-ms", type=float, default=0.0, help="time to first token")
    serve.add_argument("--itl-ms", type=float, default=0.0, help="inter-token latency")
    serve.add_argument("--jitter-ms", type=float, default=0.0, help="± random jitter per token")
    serve.add_argument(
        "--api-key",
        default=None,
        help="require this key as a Bearer token (or set CHATNB_MOCK_API_KEY)",
    )
    serve.add_argument(
        "--failure",
        default=None,
        help='a failure to inject, as JSON: \'{"status": 429, "times": 2}\'',
    )
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        print('chatnb serve needs the server extra: pip install "chatnb[server]"', file=sys.stderr)
        return 2
    from .mock.server import serve

    failure = json.loads(args.failure) if args.failure else None
    api_key = args.api_key or os.environ.get("CHATNB_MOCK_API_KEY") or None
    print(
        f"chatnb mock server on http://{args.host}:{args.port}/v1 "
        f"(reply={args.reply!r}, ttft={args.ttft_ms}ms, itl={args.itl_ms}ms"
        f"{', key required' if api_key else ''}); Ctrl-C stops it",
        file=sys.stderr,
        flush=True,
    )
    serve(
        host=args.host,
        port=args.port,
        workers=args.workers,
        reply=args.reply,
        api_key=api_key,
        chunking=args.chunking,
        ttft_ms=args.ttft_ms,
        itl_ms=args.itl_ms,
        jitter_ms=args.jitter_ms,
        failure=failure,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
