"""The Files and Batch APIs of the mock: upload a JSONL of requests, run it as a batch, download
the results, as OpenAI's ``/v1/files`` and ``/v1/batches`` do.

A batch completes ``MockOptions.batch_delay_s`` seconds after it was created (its request counts
grow with the time in between, so a poller sees progress); then every request line is answered
by the same engine as a live request, so the engine's failure injection (``failure={"every":
5, "status": 500}``, or a line's own ``"mock"`` settings) makes rows fail: they go to the
batch's error file. The objects and files have the API's shapes, so the official client's
``files.create``, ``batches.create/retrieve/cancel/list`` and ``files.content`` work as
against the real service. State is kept in memory, per server process.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..schema import ChatCompletionRequest, ErrorDetail, ErrorResponse, to_json
from .api_error import MockAPIError
from .engine import MockEngine

__all__ = ["BatchAPI"]

_TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
_WORKING = frozenset({"in_progress", "finalizing"})
_DAY_S = 24 * 3600


def _id(prefix: str, *parts: object) -> str:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:24]
    return f"{prefix}{digest}"


@dataclass
class _File:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int = field(default_factory=lambda: int(time.time()))

    def object(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


@dataclass
class _Batch:
    id: str
    input_file_id: str
    lines: list[dict[str, Any]]
    metadata: dict[str, Any] | None
    created: float = field(default_factory=time.time)
    status: str = "in_progress"
    output_file_id: str | None = None
    error_file_id: str | None = None
    failed: int = 0
    stamps: dict[str, int] = field(default_factory=dict)

    def object(self, now: float, delay_s: float) -> dict[str, Any]:
        total = len(self.lines)
        if self.status in _TERMINAL:
            done = total - self.failed if self.status == "completed" else 0
        else:
            share = 1.0 if delay_s <= 0 else min(1.0, (now - self.created) / delay_s)
            done = min(total, int(total * share))
        created = int(self.created)
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "errors": None,
            "input_file_id": self.input_file_id,
            "completion_window": "24h",
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": created,
            "in_progress_at": created,
            "expires_at": created + _DAY_S,
            "finalizing_at": self.stamps.get("finalizing_at"),
            "completed_at": self.stamps.get("completed_at"),
            "failed_at": self.stamps.get("failed_at"),
            "expired_at": None,
            "cancelling_at": self.stamps.get("cancelling_at"),
            "cancelled_at": self.stamps.get("cancelled_at"),
            "request_counts": {"total": total, "completed": done, "failed": self.failed},
            "metadata": self.metadata,
        }


def _error(status: int, message: str, param: str | None = None) -> MockAPIError:
    return MockAPIError(status, message, type="invalid_request_error", param=param)


def _form(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a multipart/form-data body: name -> (filename, content)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    import email.parser  # the email package costs ~20 ms: only when a file is uploaded
    import email.policy

    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return fields


def _checked_line(number: int, line: Any) -> dict[str, Any]:
    """A line of a batch's input file as the API takes it; else the 400 that says why (a batch
    never takes a line it cannot run, so it never stops half-way)."""
    if not isinstance(line, dict) or not {"custom_id", "method", "url", "body"} <= line.keys():
        raise _error(400, f"Line {number} needs custom_id, method, url and body.")
    if not isinstance(line["custom_id"], str):
        raise _error(400, f"Line {number}: custom_id must be a string.", "custom_id")
    if not isinstance(line["body"], dict):
        raise _error(400, f"Line {number}: body must be a JSON object (the request).", "body")
    return line


class BatchAPI:
    """``/v1/files`` and ``/v1/batches`` over an engine: each method returns (status, JSON or
    bytes), or raises :class:`MockAPIError`."""

    def __init__(self, engine: MockEngine) -> None:
        self.engine = engine
        self.files: dict[str, _File] = {}
        self.batches: dict[str, _Batch] = {}
        self._lock = threading.Lock()

    # -- files ---------------------------------------------------------------------------------

    def upload(self, content_type: str, body: bytes) -> dict[str, Any]:
        if not content_type.startswith("multipart/form-data"):
            raise _error(400, "Upload a file as multipart/form-data.")
        fields = _form(content_type, body)
        if "file" not in fields or "purpose" not in fields:
            raise _error(400, "A file upload needs 'file' and 'purpose'.", "file")
        filename, content = fields["file"]
        purpose = fields["purpose"][1].decode()
        with self._lock:
            stored = _File(
                _id("file-", len(self.files), filename, len(content)),
                filename or "upload",
                purpose,
                content,
            )
            self.files[stored.id] = stored
        return stored.object()

    def file(self, file_id: str) -> _File:
        found = self.files.get(file_id)
        if found is None:
            raise MockAPIError(
                404,
                f"No such File object: {file_id[:100]}",
                type="invalid_request_error",
                param="id",
            )
        return found

    def list_files(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [f.object() for f in self.files.values()],
            "has_more": False,
        }

    # -- batches -------------------------------------------------------------------------------

    def create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _error(400, "The request body must be a JSON object.")
        if body.get("endpoint") != "/v1/chat/completions":
            raise _error(400, "The mock runs batches of /v1/chat/completions only.", "endpoint")
        if body.get("completion_window") != "24h":
            raise _error(400, "completion_window must be '24h'.", "completion_window")
        if not isinstance(body.get("metadata"), dict | None):
            raise _error(400, "metadata must be an object of strings.", "metadata")
        source = self.file(str(body.get("input_file_id")))
        lines = self._lines(source.content)
        with self._lock:
            batch = _Batch(
                _id("batch_", len(self.batches), source.id), source.id, lines, body.get("metadata")
            )
            self.batches[batch.id] = batch
        return batch.object(time.time(), self.engine.options.batch_delay_s)

    @staticmethod
    def _lines(content: bytes) -> list[dict[str, Any]]:
        try:
            text = content.decode()
        except UnicodeDecodeError as bad:
            raise _error(400, f"The input file is not UTF-8 text (byte {bad.start}).") from None
        lines = []
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except (ValueError, RecursionError):
                raise _error(400, f"Line {number} of the input file is not JSON.") from None
            lines.append(_checked_line(number, line))
        if len({line["custom_id"] for line in lines}) != len(lines):
            raise _error(400, "The custom_id of every line must be unique.")
        return lines

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        batch = self._batch(batch_id)
        now, delay = time.time(), self.engine.options.batch_delay_s
        with self._lock:  # one poller runs the batch; the others see it finalizing
            due = batch.status == "in_progress" and now - batch.created >= delay
            if due:
                batch.status = "finalizing"
        if due:
            try:
                self._run(batch)
            finally:
                with self._lock:  # whatever stopped the run, the batch ends: never finalizing
                    if batch.status == "finalizing":
                        batch.status = "failed"
                        batch.stamps["failed_at"] = int(time.time())
        return batch.object(now, delay)

    def cancel(self, batch_id: str) -> dict[str, Any]:
        batch = self._batch(batch_id)
        if batch.status in _WORKING:
            batch.status = "cancelled"
            batch.stamps["cancelling_at"] = batch.stamps["cancelled_at"] = int(time.time())
        return batch.object(time.time(), self.engine.options.batch_delay_s)

    def list_batches(self) -> dict[str, Any]:
        now, delay = time.time(), self.engine.options.batch_delay_s
        data = [b.object(now, delay) for b in reversed(self.batches.values())]
        return {"object": "list", "data": data, "has_more": False}

    def _batch(self, batch_id: str) -> _Batch:
        found = self.batches.get(batch_id)
        if found is None:
            raise MockAPIError(
                404,
                f"No batch found with id '{batch_id[:100]}'.",
                type="invalid_request_error",
                param="batch_id",
            )
        return found

    def _run(self, batch: _Batch) -> None:
        """Answer every line with the engine: answers to the output file, failures to the
        error file."""
        output: list[str] = []
        errors: list[str] = []
        for number, line in enumerate(batch.lines):
            status, body = self._answer(line)
            record = {
                "id": _id("batch_req_", batch.id, number),
                "custom_id": line["custom_id"],
                "response": {
                    "status_code": status,
                    "request_id": _id("req_", batch.id, number),
                    "body": body,
                },
                "error": None,
            }
            (output if status == 200 else errors).append(json.dumps(record))
        with self._lock:
            if batch.status != "finalizing":  # cancelled meanwhile
                return
            batch.failed = len(errors)
            batch.output_file_id = self._stored(batch, "output", output)
            batch.error_file_id = self._stored(batch, "errors", errors)
            batch.status = "completed"
            batch.stamps["finalizing_at"] = batch.stamps["completed_at"] = int(time.time())

    def _stored(self, batch: _Batch, kind: str, lines: list[str]) -> str | None:
        if not lines:
            return None
        stored = _File(
            _id("file-", batch.id, kind),
            f"{batch.id}_{kind}.jsonl",
            "batch_output",
            ("\n".join(lines) + "\n").encode(),
        )
        self.files[stored.id] = stored
        return stored.id

    def _answer(self, line: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            if line.get("method") != "POST" or line.get("url") != "/v1/chat/completions":
                raise _error(400, "Each line must POST to /v1/chat/completions.", "url")
            request = ChatCompletionRequest.model_validate({**line["body"], "stream": False})
            _, response = self.engine.complete(request)
        except ValidationError as invalid:
            detail = ErrorDetail(
                message=f"Invalid request: {invalid.errors()[0]['msg']}.",
                type="invalid_request_error",
                param=None,
                code=None,
            )
            return 400, json.loads(to_json(ErrorResponse(error=detail)))
        except MockAPIError as failure:
            return failure.status, json.loads(to_json(failure.body))
        return 200, json.loads(to_json(response))
