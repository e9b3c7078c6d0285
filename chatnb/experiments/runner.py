"""``chatnb.experiment``: every input against every variant, ``repeats`` times, scored.

::

    results = await chatnb.experiment(
        df, [{"name": "terse", "system": "Be terse."}, {"name": "kind", "system": "Be kind."}],
        template="Summarise: {text}", repeats=3, scorers=[contains("because"), judge("...")],
    )
    results                   # the summary per variant; results.to_dataframe(), .plot(), .diff()

Live mode runs the trials concurrently (at most ``concurrency`` at once) through one
:class:`~chatnb.experiments.throttle.Throttle`, so rate limits slow the run down instead of
failing it. A small grid streams into a grid of cells as :func:`chatnb.compare` does; a big
one shows a progress bar and a table that fills in. A trial that fails is kept as failed, with
its error; Stop or Ctrl-C keeps every finished trial (``results.interrupted``). With a cache,
a re-run sends only what is missing. ``mode="batch"`` sends the whole grid through the
provider's Batch API instead (:mod:`~chatnb.experiments.batch`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ..chatbot import Chatbot
from ..display import kernel_shell
from ..errors import AnswerInterrupted, ChatnbError
from ..exchange import Answer
from ..workbench import default_chatbot
from ..workbench.answer_table import Answer as Cell
from ..workbench.compare import Grid, _grid, _variant_name, checked_variants
from .batch import run_batch
from .inputs import Case, cases
from .plan import Job, Plan, scored, scorer_names
from .progress import Progress
from .results import Experiment, Trial
from .scorers import Scorer
from .throttle import Throttle
from .versions import artifact, record_versions

__all__ = ["GRID_LIMIT", "experiment"]

#: Grids of at most this many trials stream live, one cell each; bigger ones show progress.
GRID_LIMIT = 24


def _answered(case: Case, variant: str, repeat: int, answer: Answer) -> Trial:
    usage = answer.usage
    return Trial(
        case.index,
        case.prompt,
        variant,
        repeat,
        answer=str(answer),
        ttft_s=usage.ttft_s if usage else None,
        total_s=usage.total_s if usage else None,
        prompt_tokens=usage.billed_prompt_tokens if usage else None,
        completion_tokens=usage.billed_completion_tokens if usage else None,
        cost_usd=usage.cost_usd if usage else None,
        row=dict(case.row),
    )


async def _trial(plan: Plan, job: Job, output: Any) -> Trial:
    case, variant, repeat = job
    twin = plan.bots[variant].copy()  # a fresh conversation per trial
    try:
        answer = await twin.aask(case.prompt, output=output)
    except AnswerInterrupted:
        raise
    except ChatnbError as error:
        partial = str(getattr(error, "partial", ""))
        failed = Trial(case.index, case.prompt, plan.names[variant], repeat, answer=partial)
        failed.error, failed.row = f"{type(error).__name__}: {error}", dict(case.row)
        return failed
    return await scored(plan, _answered(case, plan.names[variant], repeat, answer), case)


async def _run_live(
    plan: Plan, concurrency: int, display: bool
) -> tuple[Experiment, Progress | None]:
    jobs = plan.jobs()
    live = display and kernel_shell() is not None
    grid, cells = _cells(plan) if live and len(jobs) <= GRID_LIMIT else (None, None)
    progress = None if cells is not None or not display else Progress(len(jobs), widget=live)
    done: dict[tuple[int, int, int], Trial] = {}
    gate = asyncio.Semaphore(concurrency)

    async def run(job: Job) -> None:
        key = (job[0].index, job[1], job[2])
        async with gate:
            trial = await _trial(plan, job, cells[key] if cells else None)
        done[key] = trial
        if progress is not None:
            tokens = (trial.prompt_tokens or 0) + (trial.completion_tokens or 0)
            progress.add(failed=trial.error is not None, tokens=tokens, cost=trial.cost_usd)
            if progress.table_due():
                progress.set_table(_html(_ordered(done, plan)))

    tasks = [asyncio.ensure_future(run(job)) for job in jobs]
    interrupted = False
    try:
        await asyncio.gather(*tasks)
    except (KeyboardInterrupt, asyncio.CancelledError):
        interrupted = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    results = _ordered(done, plan)
    results.interrupted = interrupted
    results.requests = sum(throttle.sent for throttle in plan.throttles)
    results.rate_limited = sum(throttle.limited for throttle in plan.throttles)
    if progress is not None:
        progress.close("interrupted" if interrupted else "finished")
    if grid is not None:
        grid.finish(_answers(done, plan))
    return results, progress


def _rows(plan: Plan) -> list[tuple[Case, int]]:
    """The grid's rows: each input, each repeat."""
    return [(case, r) for case in plan.cases for r in range(plan.repeats)]


def _cells(plan: Plan) -> tuple[Grid, dict[tuple[int, int, int], Any]]:
    """A grid of cells, a row per input (and repeat), a column per variant; each trial's cell
    by (input, variant, repeat)."""
    rows = _rows(plan)
    labels = [case.prompt if plan.repeats == 1 else f"{case.prompt} (#{r + 1})" for case, r in rows]
    grid = _grid(labels, plan.names)
    return grid, {
        (case.index, variant, r): grid.outputs[row][variant]
        for row, (case, r) in enumerate(rows)
        for variant in range(len(plan.bots))
    }


def _answers(done: Mapping[tuple[int, int, int], Trial], plan: Plan) -> list[list[Cell]]:
    """Each trial's answer, in the grid's rows and columns (a trial an interrupt stopped
    says so)."""
    stopped = Cell("", "interrupted before it ended")
    return [
        [
            Cell(trial.answer, trial.error) if trial is not None else stopped
            for trial in (done.get((case.index, v, r)) for v in range(len(plan.bots)))
        ]
        for case, r in _rows(plan)
    ]


def _ordered(done: Mapping[tuple[int, int, int], Trial], plan: Plan) -> Experiment:
    return Experiment((done[key] for key in sorted(done)), variants=plan.names)


def _html(results: Experiment) -> str:
    from markdown_it import MarkdownIt

    html: str = MarkdownIt("commonmark").enable("table").render(results._repr_markdown_())
    # A widget's HTML gets no notebook table style: the cells need their own padding.
    for tag in ("<th", "<td"):
        html = html.replace(tag, f'{tag} style="padding: 2px 10px"')
    return html


async def experiment(
    inputs: Any,
    variants: Sequence[Mapping[str, Any] | Chatbot] = ({},),
    *,
    template: str | None = None,
    repeats: int = 1,
    scorers: Sequence[Scorer] = (),
    bot: Chatbot | None = None,
    concurrency: int = 16,
    display: bool = True,
    baseline: Experiment | str | None = None,
    mode: Literal["live", "batch"] = "live",
    batch_id: str | None = None,
    poll_s: float = 30.0,
) -> Experiment:
    """Run every input against every variant ``repeats`` times, score the answers, summarise.

    In a notebook, ``await`` it in a cell; in a script, ``asyncio.run(experiment(...))``.

    Args:
        inputs: Prompts (strings), rows (dicts) or a pandas DataFrame.
        variants: What each variant changes: mappings (``name``, ``system``, ``model``,
            sampling options, ``tools``, ...), or Chatbots of their own (another provider,
            say). Default: one variant, the ``bot`` as it is.
        template: The prompt made of each row, with ``{column}`` fields filled in (default:
            the row's ``prompt``, or the input itself when it is a string).
        repeats: How many times each input is asked of each variant.
        scorers: Functions of the answer (and the input row) that return a score from 0 to 1
            (or a :class:`~chatnb.experiments.Score` with a reason); ``contains``,
            ``matches``, ``equals``, ``valid_json`` and ``judge`` make common ones.
        bot: The client, cache and settings every variant starts from (default: the
            workbench's Chatbot: OpenAI with a key, else the embedded mock).
        concurrency: Requests in flight at once (the provider's rate limits are kept too).
        display: Show the progress while it runs and the summary when it ends.
        baseline: An earlier :class:`~chatnb.experiments.Experiment` (or the file it was
            saved to) to compare with: what moved since.
        mode: ``"live"`` asks request by request; ``"batch"`` sends the whole grid through
            the provider's Batch API (cheaper, slower).
        batch_id: A batch already submitted (``mode="batch"``), to resume it from any kernel.
        poll_s: Seconds between two looks at a batch's status.

    Returns:
        The :class:`~chatnb.experiments.Experiment`: trials, scores, summary, checks.
    """
    if repeats < 1 or concurrency < 1:
        raise ValueError("repeats and concurrency must be at least 1")
    checked_variants(variants)
    base = bot if bot is not None else default_chatbot()
    names = [_name(i, v) for i, v in enumerate(variants)]
    if len(set(names)) != len(names):
        raise ChatnbError("Two variants have the same name: give each a different 'name'.")
    if base.clients.cache is not None:
        base.clients.cache.rewind()  # trial k of a request is its k-th recording, every run
    plan = _plan(base, cases(inputs, template), variants, names, repeats, scorers, mode)
    prompts = {name: artifact(bot, template) for name, bot in zip(names, plan.bots, strict=True)}
    if base.clients.cache is not None:
        record_versions(base.clients.cache.store, uuid.uuid4().hex[:12], prompts)
    progress: Progress | None
    if mode == "batch":
        results, progress = await run_batch(plan, batch_id=batch_id, poll_s=poll_s, display=display)
    else:
        results, progress = await _run_live(plan, concurrency, display)
    results.prompts = prompts
    if isinstance(baseline, str):
        baseline = Experiment.load(baseline)
    results.baseline = baseline if baseline is not None else results.baseline
    if display:
        _show(results, progress)
    return results


def _name(index: int, variant: Mapping[str, Any] | Chatbot) -> str:
    if isinstance(variant, Chatbot):
        return f"variant {index + 1} ({variant.model})"
    return _variant_name(index, variant)


def _plan(
    base: Chatbot,
    found: list[Case],
    variants: Sequence[Mapping[str, Any] | Chatbot],
    names: list[str],
    repeats: int,
    scorers: Sequence[Scorer],
    mode: str,
) -> Plan:
    """One bot per variant: a copy of ``base`` with the variant's changes, or the variant's
    own Chatbot; in live mode each client's requests go through a throttle of its own (one
    provider's rate limits are not another's)."""
    throttles: dict[int, Throttle] = {}

    def throttled(bot: Chatbot) -> dict[str, Any]:
        if mode != "live":
            return {}
        client = bot.clients.asynchronous_uncached
        throttle = throttles.setdefault(id(client), Throttle())
        return {"async_client": throttle.wrap(client)}

    bots = []
    for variant in variants:
        if isinstance(variant, Chatbot):
            bots.append(variant.copy(display=False, **throttled(variant)))
            continue
        changes = {k: v for k, v in variant.items() if k != "name"}
        bots.append(base.copy(display=False, **{**throttled(base), **changes}))
    return Plan(found, names, bots, repeats, scorer_names(scorers), list(throttles.values()))


def _show(results: Experiment, progress: Progress | None) -> None:
    """The final summary (and the diff against the baseline): in place of the progress bar
    and its table when there is one, so the cell ends with one table, and a saved notebook
    shows the summary rather than a widget's fallback text."""
    parts = [results._repr_markdown_()]
    if results.baseline is not None:
        parts.append(
            "**Against the baseline**\n\n" + results.diff(results.baseline)._repr_markdown_()
        )
    text = "\n\n".join(parts)
    shell = kernel_shell()
    if shell is None:
        print(text)
        return
    results.shown_in = getattr(shell, "execution_count", None)  # not shown twice in this cell
    if progress is not None and progress.replace(text):
        return
    from IPython.display import display

    display({"text/markdown": text, "text/plain": text}, raw=True)  # type: ignore[no-untyped-call]
