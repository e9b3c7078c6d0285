"""The baseline of benchmarks/mock_server.py: a minimal FastAPI StreamingResponse dummy of the
kind found in tutorials (pydantic chunk model, one json dump and one sleep per token).

It sends the same pieces as chatnb's mock (tokenized once at start-up, not per request), so
both servers do the same work on the wire. Run by the benchmark; not part of chatnb.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from chatnb.mock import markdown_sample
from chatnb.tokens import encoding_for

LENGTH, TTFT_MS, ITL_MS, PORT = (int(a) for a in sys.argv[1:5])
PIECES = encoding_for("gpt-4o").pieces(markdown_sample(LENGTH))
app = FastAPI()


class Delta(BaseModel):
    role: str | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    logprobs: None = None
    finish_reason: str | None = None


class Chunk(BaseModel):
    id: str
    object: str = "chat.completion.chunk"
    created: int
    model: str
    system_fingerprint: str = "fp_dummy"
    choices: list[ChunkChoice]


@app.post("/v1/chat/completions")
async def chat(request: Request) -> StreamingResponse:
    body = await request.json()

    async def events():  # type: ignore[no-untyped-def]
        chunk_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        await asyncio.sleep(TTFT_MS / 1000)
        first = Chunk(
            id=chunk_id,
            created=created,
            model=body["model"],
            choices=[ChunkChoice(delta=Delta(role="assistant", content=""))],
        )
        yield f"data: {json.dumps(first.model_dump())}\n\n"
        for piece in PIECES:
            chunk = Chunk(
                id=chunk_id,
                created=created,
                model=body["model"],
                choices=[ChunkChoice(delta=Delta(content=piece))],
            )
            yield f"data: {json.dumps(chunk.model_dump())}\n\n"
            await asyncio.sleep(ITL_MS / 1000)
        last = Chunk(
            id=chunk_id,
            created=created,
            model=body["model"],
            choices=[ChunkChoice(delta=Delta(), finish_reason="stop")],
        )
        yield f"data: {json.dumps(last.model_dump())}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning", backlog=2048)
