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
import io
import json
from typing import Any

from ..display import kernel_shell
from ..errors import ChatnbError
from ..options import request_fields
from .plan import Job, Plan, scored
from .progress import Progress
from .results import Experiment, Trial

__all__ = ["BATCH_DISCOUNT", "run_batch"]

#: What the Batch API costs against the same requests sent live (OpenAI: half).
BATCH_DISCOUNT = 0.5
_ENDED = frozenset({"completed", "failed", "expired", "cancelled"})


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


async def _start(client: Any, plan: Plan) -> Any:
    upload = await client.files.create(
        file=("chatnb-experiment.jsonl", io.BytesIO(requests_jsonl(plan))), purpose="batch"
    )
    return await client.batches.create(
        input_file_id=upload.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"created_by": "chatnb.experiment"},
    )


async def _lines(client: Any, file_id: str | None) -> dict[str, dict[str, Any]]:
    if not file_id:
        return {}
    content = await client.files.content(file_id)
    found = {}
    for raw in content.text.splitlines():
        if raw.strip():
            line = json.loads(raw)
            found[line["custom_id"]] = line
    return found


def _trial(plan: Plan, job: Job, line: dict[str, Any] | None, status: str) -> Trial:
    case, variant, repeat = job
    trial = Trial(case.index, case.prompt, plan.names[variant], repeat, row=dict(case.row))
    response = (line or {}).get("response") or {}
    body = response.get("body") or {}
    if line is None:
        trial.error = f"not answered: the batch ended {status}"
    elif response.get("status_code") != 200:
        error = body.get("error") or line.get("error") or {}
        trial.error = f"HTTP {response.get('status_code')}: {error.get('message', 'failed')}"
    else:
        trial.answer = body["choices"][0]["message"].get("content") or ""
        usage = body.get("usage") or {}
        trial.prompt_tokens = usage.get("prompt_tokens")
        trial.completion_tokens = usage.get("completion_tokens")
        price = plan.bots[variant].price
        if price is not None and trial.prompt_tokens is not None:
            full = price.cost(trial.prompt_tokens, trial.completion_tokens or 0)
            trial.cost_usd = full * BATCH_DISCOUNT
    return trial


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
    batch = await client.batches.retrieve(batch_id) if batch_id else await _start(client, plan)
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
            batch = await client.batches.retrieve(batch.id)
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
