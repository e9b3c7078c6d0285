"""The statistics of an experiment, checked against references computed here, by other means:
Student's t from its closed form for whole degrees of freedom (Abramowitz & Stegun 26.7.3-4),
the Wilson interval as the set of rates its score test does not reject (found by bisection),
the normal distribution of the standard library for large samples. Then the two cases of
issue 27: repeats must not narrow an interval, and a paired difference is seen when the
per-variant intervals overlap."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from chatnb.experiments import Experiment, Trial
from chatnb.experiments.stats import (
    clustered_mean,
    inputs_needed,
    paired,
    stability,
    t_quantile,
    wilson,
)


def reference_t_cdf(t: float, df: int) -> float:
    """P(T <= t) for whole ``df``, from the closed forms of A(t|df) = P(|T| <= t)."""
    theta = math.atan(abs(t) / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    if df % 2:  # odd: 2/pi (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ...))
        term, total = 1.0, 1.0 if df > 1 else 0.0
        for k in range(1, (df - 1) // 2):
            term *= (2 * k) / (2 * k + 1) * cos2
            total += term
        inside = 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)
    else:  # even: sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...)
        term, total = 1.0, 1.0
        for k in range(1, df // 2):
            term *= (2 * k - 1) / (2 * k) * cos2
            total += term
        inside = math.sin(theta) * total
    return 0.5 + inside / 2 if t >= 0 else 0.5 - inside / 2


def reference_t_quantile(p: float, df: int) -> float:
    low, high = -1000.0, 1000.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if reference_t_cdf(middle, df) < p else (low, middle)
    return (low + high) / 2


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 9, 10, 19, 29, 39, 60, 120])
@pytest.mark.parametrize("p", [0.6, 0.8, 0.9, 0.975, 0.995])
def test_t_quantiles_match_the_closed_form(df: int, p: float) -> None:
    assert t_quantile(p, df) == pytest.approx(reference_t_quantile(p, df), rel=1e-7)
    assert t_quantile(1 - p, df) == pytest.approx(-reference_t_quantile(p, df), rel=1e-7)


def test_t_tends_to_the_normal_distribution() -> None:
    for p in (0.8, 0.975):
        assert t_quantile(p, 100_000) == pytest.approx(NormalDist().inv_cdf(p), abs=1e-4)


def reference_wilson(passes: float, n: int) -> tuple[float, float]:
    """The rates p whose score test |rate - p| <= z sqrt(p (1 - p) / n) holds: its two ends."""
    z, rate = NormalDist().inv_cdf(0.975), passes / n

    def inside(p: float) -> bool:
        return abs(rate - p) <= z * math.sqrt(p * (1 - p) / n)

    def edge(outside: float, within: float) -> float:
        for _ in range(200):
            middle = (outside + within) / 2
            outside, within = (outside, middle) if inside(middle) else (middle, within)
        return within

    return edge(0.0, rate) if rate > 0 else 0.0, edge(1.0, rate) if rate < 1 else 1.0


@pytest.mark.parametrize(("passes", "n"), [(5, 10), (0, 10), (10, 10), (1, 40), (37, 40), (3.5, 7)])
def test_wilson_intervals_are_the_score_tests_acceptance_region(passes: float, n: int) -> None:
    low, high = wilson(passes, n)
    ref_low, ref_high = reference_wilson(passes, n)
    assert low == pytest.approx(ref_low, abs=1e-9) and high == pytest.approx(ref_high, abs=1e-9)


def test_a_clustered_mean_averages_repeats_within_each_input_first() -> None:
    scores = {0: [1.0, 1.0, 0.0], 1: [0.0], 2: [0.5, 0.5]}
    means = [2 / 3, 0.0, 0.5]
    found = clustered_mean(scores)
    mean = sum(means) / 3
    sd = math.sqrt(sum((m - mean) ** 2 for m in means) / 2)
    assert found.n == 3 and found.mean == pytest.approx(mean)
    assert found.half == pytest.approx(reference_t_quantile(0.975, 2) * sd / math.sqrt(3))


def test_stability_is_the_share_of_inputs_whose_repeats_agree() -> None:
    assert stability([[True, True], [False, False], [True, False], [True]]) == pytest.approx(2 / 3)
    assert math.isnan(stability([[True], [False]]))


def test_inputs_needed_is_the_smallest_sample_with_80_percent_power() -> None:
    def holds(n: int, sd: float, d: float) -> bool:
        t = reference_t_quantile(0.975, n - 1) + reference_t_quantile(0.8, n - 1)
        return n >= (t * sd / d) ** 2

    for sd, d in [(0.1, 0.05), (0.3, 0.1), (0.05, 0.01)]:
        n = inputs_needed(sd, d)
        assert holds(n, sd, d) and not holds(n - 1, sd, d)
        z = NormalDist().inv_cdf(0.975) + NormalDist().inv_cdf(0.8)
        assert n >= (z * sd / d) ** 2  # never fewer than the normal approximation asks


def _experiment(scores: dict[str, list[list[float]]]) -> Experiment:
    """Trials with the given scores: per variant, per input, one score per repeat."""
    trials = [
        Trial(i, f"q{i}", variant, r, answer="a", scores={"ok": value})
        for variant, inputs in scores.items()
        for i, repeats in enumerate(inputs)
        for r, value in enumerate(repeats)
    ]
    return Experiment(sorted(trials, key=lambda t: t.key), variants=list(scores))


def test_repeats_of_deterministic_answers_do_not_narrow_the_interval() -> None:
    # 10 inputs, the same answer on every repeat, half of them pass (issue 27's first case).
    once = _experiment({"v": [[float(i % 2)] for i in range(10)]}).summary()[0]
    thrice = _experiment({"v": [[float(i % 2)] * 3 for i in range(10)]}).summary()[0]
    assert once["ok"] == thrice["ok"] == 0.5
    assert once["ok ±"] == pytest.approx(
        reference_t_quantile(0.975, 9) * math.sqrt(5 / 18) / 10**0.5
    )
    assert thrice["ok ±"] >= once["ok ±"] - 1e-12  # not 0.000: 10 inputs are 10 inputs
    assert (thrice["ok pass low"], thrice["ok pass high"]) == pytest.approx(reference_wilson(5, 10))
    assert thrice["ok stable"] == 1.0 and math.isnan(once["ok stable"])
    assert (
        "0.50 ± 0.38"
        in _experiment({"v": [[float(i % 2)] * 3 for i in range(10)]})._repr_markdown_()
    )


def test_a_paired_difference_is_seen_where_the_intervals_overlap() -> None:
    # 40 shared inputs; B is A plus 0.1 on every input (capped at 1): issue 27's second case.
    a = [((i * 7) % 40) / 40 for i in range(40)]
    b = [min(1.0, x + 0.1) for x in a]
    results = _experiment({"A": [[x] for x in a], "B": [[x] for x in b]})
    rows = {row["variant"]: row for row in results.summary()}
    low_b = rows["B"]["ok"] - rows["B"]["ok ±"]
    assert low_b < rows["A"]["ok"] + rows["A"]["ok ±"]  # the intervals overlap
    comparison = results.paired("A", "B")
    differences = [y - x for x, y in zip(a, b, strict=True)]
    mean = sum(differences) / 40
    sd = math.sqrt(sum((d - mean) ** 2 for d in differences) / 39)
    assert comparison.estimate.mean == pytest.approx(mean)
    assert comparison.estimate.half == pytest.approx(reference_t_quantile(0.975, 39) * sd / 40**0.5)
    assert comparison.significant
    verdict = comparison.verdict()
    assert (
        verdict == f"B is better than A ({mean:+.3f} ± {comparison.estimate.half:.3f}, 40 inputs)"
    )
    assert verdict in [p.verdict() for _, p in results.verdicts()]
    assert "B is better than A" in results._repr_markdown_()


def test_no_detectable_difference_says_how_many_inputs_would_tell() -> None:
    a = {i: [0.5] for i in range(10)}
    b = {i: [0.5 + (0.1 if i % 2 else -0.08)] for i in range(10)}
    comparison = paired("A", "B", a, b)
    assert not comparison.significant
    needed = comparison.inputs_needed(0.01)
    assert needed is not None and needed > 10
    text = comparison.verdict()
    assert text.startswith("no detectable difference between B and A (+0.010 ± ")
    assert "inputs would detect a 0.010 difference" in text
    assert "too few inputs" in paired("A", "B", {0: [1.0]}, {0: [0.0]}).verdict()


def test_identical_scores_read_as_no_difference() -> None:
    same = {i: [1.0, 0.0] for i in range(5)}
    assert paired("A", "B", same, same).verdict() == (
        "no difference between B and A: the same on all 5 inputs"
    )
