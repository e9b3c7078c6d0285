"""Many concurrent streaming clients on loopback: chatnb's mock server against a tutorial dummy.

Both servers run in their own process on 127.0.0.1, with the same answer (a Markdown sample,
tokenized the same way), the same time to first token and inter-token latency. One asyncio
client process opens the streams, reads every frame, validates every chunk with chatnb.schema
and checks that each stream rebuilds the exact answer (after the clock stops, so that the
client's validation does not limit the servers' measured throughput). Printed: chunks per second, TTFT p50/p99
against the configured TTFT, and lost or garbled streams. Bounded in count and time.

    python benchmarks/mock_server.py [--streams 500] [--length 2000] [--itl-ms 10]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from chatnb.mock import markdown_sample
from chatnb.stream import SSEDecoder, StreamAccumulator, iter_chunks

HERE = Path(__file__).parent
TIME_LIMIT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(command: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx2.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=1)
            return process
        except httpx2.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start: {command}")


async def one_stream(client: httpx2.AsyncClient, url: str) -> tuple[float, bytes]:
    """Reads one stream as fast as possible: time to first body bytes, and the raw body."""
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "go"}], "stream": True}
    start = time.perf_counter()
    ttft, raw = float("nan"), bytearray()
    try:
        async with client.stream("POST", url, json=body) as response:
            async for piece in response.aiter_bytes():
                if not raw:
                    ttft = time.perf_counter() - start
                raw += piece
    except Exception:
        pass
    return ttft, bytes(raw)


def validate(raw: bytes, expected: str) -> tuple[int, bool]:
    """Every frame validated with chatnb.schema, and the answer rebuilt exactly."""
    decoder, acc = SSEDecoder(), StreamAccumulator()
    try:
        for chunk in iter_chunks(decoder.feed(raw) + decoder.flush()):
            acc.add(chunk)
    except Exception:
        return acc.chunk_count, False
    return acc.chunk_count, acc.done and acc.text() == expected


async def load(url: str, streams: int, expected: str) -> dict[str, float]:
    limits = httpx2.Limits(max_connections=streams, max_keepalive_connections=streams)
    async with httpx2.AsyncClient(limits=limits, timeout=TIME_LIMIT_S) as client:
        start = time.perf_counter()
        results = await asyncio.wait_for(
            asyncio.gather(*(one_stream(client, url) for _ in range(streams))), TIME_LIMIT_S
        )
        wall = time.perf_counter() - start
    checked = [validate(raw, expected) for _, raw in results]  # after the clock stops
    ttfts = sorted(t for t, _ in results if t == t)
    return {
        "chunks_per_s": sum(n for n, _ in checked) / wall,
        "ttft_p50_ms": statistics.median(ttfts) * 1000 if ttfts else float("nan"),
        "ttft_p99_ms": ttfts[int(0.99 * (len(ttfts) - 1))] * 1000 if ttfts else float("nan"),
        "bad_streams": sum(not ok for _, ok in checked),
        "wall_s": wall,
    }


def run(name: str, command: list[str], port: int, streams: int, expected: str) -> dict[str, float]:
    process = start(command, port)
    try:
        return asyncio.run(load(f"http://127.0.0.1:{port}/v1/chat/completions", streams, expected))
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--length", type=int, default=2000)
    parser.add_argument("--ttft-ms", type=int, default=100)
    parser.add_argument("--itl-ms", type=int, default=10)
    args = parser.parse_args()
    streams = min(args.streams, 1000)
    expected = markdown_sample(args.length)
    ours_port, dummy_port = free_port(), free_port()
    ours = [
        sys.executable,
        "-m",
        "chatnb.cli",
        "serve",
        "--port",
        str(ours_port),
        "--reply",
        f"markdown:{args.length}",
        "--ttft-ms",
        str(args.ttft_ms),
        "--itl-ms",
        str(args.itl_ms),
    ]
    dummy = [
        sys.executable,
        str(HERE / "_tutorial_dummy.py"),
        str(args.length),
        str(args.ttft_ms),
        str(args.itl_ms),
        str(dummy_port),
    ]
    print(
        f"{streams} concurrent streams, answer {args.length} chars, TTFT {args.ttft_ms} ms, ITL {args.itl_ms} ms"
    )
    results = {
        "tutorial dummy": run("dummy", dummy, dummy_port, streams, expected),
        "chatnb serve": run("chatnb", ours, ours_port, streams, expected),
    }
    print(
        f"{'server':<16}{'chunks/s':>10}{'TTFT p50':>10}{'TTFT p99':>10}{'bad streams':>13}{'wall':>8}"
    )
    for name, r in results.items():
        print(
            f"{name:<16}{r['chunks_per_s']:>10.0f}{r['ttft_p50_ms']:>8.0f}ms{r['ttft_p99_ms']:>8.0f}ms"
            f"{r['bad_streams']:>13.0f}{r['wall_s']:>7.1f}s"
        )
    ratio = results["chatnb serve"]["chunks_per_s"] / results["tutorial dummy"]["chunks_per_s"]
    print(f"chunk throughput, chatnb / tutorial dummy: {ratio:.2f}x")


if __name__ == "__main__":
    main()
