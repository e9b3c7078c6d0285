"""An experiment through the provider's Batch API: for grids that outgrow a notebook.

The trials are written as Batch API JSONL (one ``POST /v1/chat/completions`` per input x
variant x repeat, its ``custom_id`` naming all three), uploaded with ``files.create``, and run
by ``batches.create`` (24 h window, half the price at OpenAI). While it runs, the progress shows
the batch's own counts; a new kernel resumes it with ``batch_id=`` and the same inputs and
variants. When it completes, the output and error files are downloaded, matched back to their
trials by ``custom_id``, and scored like a live run. Tools and streaming do not apply.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
from typing import Any

from ..display import kernel_shell
from ..errors import ChatnbError
from ..explain import batch_not_reached, batch_of_another_plan, not_a_batch_id
from ..options import request_fields
from .plan import Job, Plan, scored
from .progress import Progress
from .results import Experiment, Trial

__all__ = ["BATCH_DISCOUNT", "run_batch"]

#: What the Batch API costs against the same requests sent live (OpenAI: half).
BATCH_DISCOUNT = 0.5
_ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
_STATUSES = _ENDED | {"validating", "in_progress", "finalizing", "cancelling"}
#: What a batch id may be: it is put into a URL path as it is.
_BATCH_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")


def _custom_id(index: int, variant: int, repeat: int) -> str:
    return f"input-{index}-variant-{variant}-repeat-{repeat}"


def requests_jsonl(plan: Plan) -> bytes:
    """The Batch API input file of a plan: one line per trial."""
    lines = []
    for case, variant, repeat in plan.jobs():
        bot = plan.bots[variant]
        messages = [*bot.history.messages(), {"role": "user", "content": case.prompt}]
        body = {"model": bot.model, "messages": messages, **request_fields(bot.sampling)}
        line = {
            "custom_id": _custom_id(case.index, variant, repeat),
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": body,
        }
        lines.append(json.dumps(line, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def fingerprint(requests: bytes) -> str:
    """What a batch's metadata keeps of its input file: a resume checks it is this plan's."""
    return hashlib.sha256(requests).hexdigest()[:32]


async def _start(client: Any, plan: Plan) -> Any:
    requests = requests_jsonl(plan)
    upload = await client.files.create(
        file=("chatnb-experiment.jsonl", io.BytesIO(requests)), purpose="batch"
    )
    return await client.batches.create(
        input_file_id=upload.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"created_by": "chatnb.experiment", "chatnb_plan": fingerprint(requests)},
    )


async def _resumed(client: Any, plan: Plan, batch_id: str) -> Any:
    """The batch ``batch_id``, if it is this plan's: the same requests (the fingerprint its
    metadata keeps) or, for a batch without one, as many of them. Answers matched back to
    other inputs or variants would be silently wrong."""
    import openai

    if not isinstance(batch_id, str) or not _BATCH_ID.fullmatch(batch_id) or ".." in batch_id:
        raise not_a_batch_id(batch_id)  # it goes into a URL path: "../files/x" is a file
    try:
        batch = await client.batches.retrieve(batch_id)
    except openai.APIError as error:
        raise batch_not_reached(batch_id, plan.bots[0].base_url, error) from None
    if getattr(batch, "id", None) != batch_id or batch.status not in _STATUSES:
        raise not_a_batch_id(batch_id)
    kept = (getattr(batch, "metadata", None) or {}).get("chatnb_plan")
    counts = getattr(batch, "request_counts", None)
    total = counts.total if counts else 0
    jobs = len(plan.jobs())
    if (kept is not None and kept != fingerprint(requests_jsonl(plan))) or (
        kept is None and total and total != jobs
    ):
        raise batch_of_another_plan(batch_id, total, jobs)
    return batch


async def _lines(client: Any, file_id: str | None) -> dict[str, dict[str, Any]]:
    """The result lines of a file by ``custom_id``; a line that is not a JSON object with a
    string ``custom_id`` matches no trial (that trial is then "not answered")."""
    if not file_id:
        return {}
    content = await client.files.content(file_id)
    found = {}
    for raw in content.text.splitlines():
        try:
            line = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if isinstance(line, dict) and isinstance(line.get("custom_id"), str):
            found[line["custom_id"]] = line
    return found


def _answer_of(body: Any) -> str | None:
    """The first choice's text in a completion body, or ``None`` if it holds none."""
    choices = body.get("choices") if isinstance(body, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, dict):
        return None
    content = message.get("content")
    return content if isinstance(content, str) else ""


def _trial(plan: Plan, job: Job, line: dict[str, Any] | None, status: str) -> Trial:
    case, variant, repeat = job
    trial = Trial(case.index, case.prompt, plan.names[variant], repeat, row=dict(case.row))
    response = _mapping((line or {}).get("response"))
    body = _mapping(response.get("body"))
    answer = _answer_of(body)
    if line is None:
        trial.error = f"not answered: the batch ended {status}"
    elif response.get("status_code") != 200:
        error = _mapping(body.get("error") or line.get("error"))
        trial.error = f"HTTP {response.get('status_code')}: {error.get('message', 'failed')}"
    elif answer is None:
        trial.error = "HTTP 200, but the result line holds no answer (no choices[0].message)"
    else:
        trial.answer = answer
        usage = _mapping(body.get("usage"))
        trial.prompt_tokens = _count(usage.get("prompt_tokens"))
        trial.completion_tokens = _count(usage.get("completion_tokens"))
        price = plan.bots[variant].price
        if price is not None and trial.prompt_tokens is not None:
            full = price.cost(trial.prompt_tokens, trial.completion_tokens or 0)
            trial.cost_usd = full * BATCH_DISCOUNT
    return trial


async def _polled(client: Any, plan: Plan, batch_id: str) -> Any:
    """The batch's state now; a server that cannot be asked ends the wait, not the batch."""
    import openai

    try:
        return await client.batches.retrieve(batch_id)
    except openai.APIError as error:
        raise batch_not_reached(batch_id, plan.bots[0].base_url, error, running=True) from None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


async def run_batch(
    plan: Plan, *, batch_id: str | None, poll_s: float, display: bool
) -> tuple[Experiment, Progress]:
    """The batch's results, and its progress (the summary takes its place in the cell)."""
    if len({bot.base_url for bot in plan.bots}) > 1:
        raise ChatnbError(
            "mode='batch' sends the whole grid as one batch to one provider; these variants "
            "use several. Run them as separate experiments."
        )
    client = plan.bots[0].clients.asynchronous_uncached  # Files and Batch APIs: never cached
    batch = await _resumed(client, plan, batch_id) if batch_id else await _start(client, plan)
    jobs = plan.jobs()
    progress = Progress(len(jobs), widget=display and kernel_shell() is not None)
    resume = f"resume with batch_id={batch.id!r}"
    try:
        while batch.status not in _ENDED:
            counts = batch.request_counts
            progress.done = counts.completed if counts else 0
            progress.failed = counts.failed if counts else 0
            progress.show(f"batch {batch.id} {batch.status} ({resume})")
            await asyncio.sleep(poll_s)
            batch = await _polled(client, plan, batch.id)
    except (KeyboardInterrupt, asyncio.CancelledError):
        progress.close(f"stopped waiting; the batch goes on: {resume}")
        stopped = Experiment(variants=plan.names)
        stopped.interrupted, stopped.batch_id = True, batch.id
        return stopped, progress
    lines = {
        **await _lines(client, batch.output_file_id),
        **await _lines(client, batch.error_file_id),
    }
    gate = asyncio.Semaphore(16)  # judges are requests too

    async def score(job: Job) -> Trial:
        line = lines.get(_custom_id(job[0].index, job[1], job[2]))
        async with gate:
            return await scored(plan, _trial(plan, job, line, batch.status), job[0])

    trials = list(await asyncio.gather(*(score(job) for job in jobs)))
    progress.done, progress.failed = len(trials), sum(t.error is not None for t in trials)
    progress.close(f"batch {batch.id} {batch.status}")
    results = Experiment(trials, variants=plan.names)
    results.batch_id = batch.id
    return results, progress
