"""The ``chatnb`` command: ``chatnb serve`` runs the mock OpenAI-compatible server."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    from .mock.options import add_arguments

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
        "--api-key",
        default=None,
        help="require this key as a Bearer token (or set CHATNB_MOCK_API_KEY)",
    )
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    add_arguments(serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        print('chatnb serve needs the server extra: pip install "chatnb[server]"', file=sys.stderr)
        return 2
    from .mock.options import from_arguments
    from .mock.server import serve

    options = from_arguments(args)
    api_key = args.api_key or os.environ.get("CHATNB_MOCK_API_KEY") or None
    print(
        f"chatnb mock server on http://{args.host}:{args.port}/v1 "
        f"(reply={getattr(args, 'reply', 'echo')!r}, ttft={options.ttft_ms}ms, "
        f"itl={options.itl_ms}ms"
        f"{', key required' if api_key else ''}); Ctrl-C stops it",
        file=sys.stderr,
        flush=True,
    )
    serve(options, host=args.host, port=args.port, workers=args.workers, api_key=api_key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
