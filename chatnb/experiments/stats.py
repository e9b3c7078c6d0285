"""The statistics of an experiment, written once and pure: the inputs are the sample.

An experiment's inputs are a sample of the inputs the prompt will meet; its repeats are
measurements nested inside each input. So every figure here first averages the repeats of each
input (one number per input), and the intervals come from the spread *between inputs*, with
``n`` = the number of inputs. More repeats make each input's number more precise; they never
make ``n`` bigger. The formulas are in docs/guide.md ("How sure is the summary?").

* :func:`clustered_mean`: the mean over inputs, with Student's t interval on ``n - 1`` degrees
  of freedom (the cluster-by-input interval when every input has as many repeats);
* :func:`wilson`: the Wilson score interval of a pass rate, ``n`` = inputs;
* :func:`stability`: the share of inputs whose repeats agree (all pass or all fail);
* :func:`paired`: B against A over the inputs both have, the mean difference with its interval,
  a verdict in plain words, and :meth:`Paired.inputs_needed` (the sample size for 80% power).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

__all__ = [
    "Estimate",
    "Paired",
    "clustered_mean",
    "inputs_needed",
    "paired",
    "per_input",
    "stability",
    "t_quantile",
    "wilson",
]

#: Scores per input: each input's number, and the scores of its repeats.
Scores = Mapping[int, Sequence[float]]


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta (modified Lentz)."""
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return result


def _beta_regularized(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(log_front + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _t_cdf(t: float, df: float) -> float:
    tail = 0.5 * _beta_regularized(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (bisection on its CDF)."""
    if not 0.0 < p < 1.0 or df <= 0:
        raise ValueError("t_quantile needs 0 < p < 1 and df > 0")
    low, high = -1.0, 1.0
    while _t_cdf(low, df) > p:
        low *= 2.0
    while _t_cdf(high, df) < p:
        high *= 2.0
    for _ in range(200):  # the bracket halves each time: far below float precision
        middle = (low + high) / 2.0
        if _t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low < 1e-12:
            break
    return (low + high) / 2.0


@dataclass(frozen=True)
class Estimate:
    """A mean and its 95% interval, ``mean ± half``, from ``n`` inputs."""

    mean: float
    half: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half

    @property
    def high(self) -> float:
        return self.mean + self.half


def per_input(scores: Scores) -> list[float]:
    """Each input's mean over its repeats (inputs without a score left out)."""
    return [statistics.fmean(values) for values in scores.values() if values]


def _t_interval(values: Sequence[float], confidence: float) -> Estimate:
    if not values:
        return Estimate(math.nan, math.nan, 0)
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Estimate(mean, math.nan, len(values))
    t = t_quantile(0.5 + confidence / 2.0, len(values) - 1)
    return Estimate(mean, t * statistics.stdev(values) / math.sqrt(len(values)), len(values))


def clustered_mean(scores: Scores, confidence: float = 0.95) -> Estimate:
    """The mean score over inputs (repeats averaged within each input first) and its interval:
    ``t(n-1) * s / sqrt(n)``, ``s`` the standard deviation of the per-input means."""
    return _t_interval(per_input(scores), confidence)


def wilson(passes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval ``(low, high)`` of a pass rate: ``passes`` of ``n`` inputs
    (a fractional count when repeats are averaged per input). NaNs when ``n`` is 0."""
    if n <= 0:
        return math.nan, math.nan
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    rate = min(max(passes / n, 0.0), 1.0)
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    spread = z / (1 + z * z / n) * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    return max(0.0, centre - spread), min(1.0, centre + spread)


def stability(verdicts: Iterable[Sequence[bool]]) -> float:
    """The share of inputs (with at least two repeats) whose repeats all pass or all fail; NaN
    when no input has two repeats."""
    repeated = [v for v in verdicts if len(v) >= 2]
    if not repeated:
        return math.nan
    return sum(all(v) or not any(v) for v in repeated) / len(repeated)


def inputs_needed(sd: float, difference: float, power: float = 0.8, alpha: float = 0.05) -> int:
    """How many paired inputs detect a true mean difference of ``difference`` with probability
    ``power`` (two-sided test at ``alpha``), when differences spread with standard deviation
    ``sd``: the smallest ``n`` with ``n >= ((t(1-alpha/2, n-1) + t(power, n-1)) * sd / d)^2``."""
    if difference == 0 or math.isnan(sd) or math.isnan(difference):
        raise ValueError("inputs_needed needs a non-zero difference and a known spread")
    normal = NormalDist()
    z = normal.inv_cdf(1 - alpha / 2) + normal.inv_cdf(power)
    n = max(2, math.ceil((z * sd / difference) ** 2))
    while True:  # the t quantiles are wider than z for small n: step up until it holds
        t = t_quantile(1 - alpha / 2, n - 1) + t_quantile(power, n - 1)
        if n >= (t * sd / difference) ** 2:
            return n
        n += 1


@dataclass(frozen=True)
class Paired:
    """``b`` against ``a`` over the inputs both scored: the differences ``b - a`` per input."""

    a: str
    b: str
    differences: tuple[float, ...]
    confidence: float = 0.95

    @property
    def estimate(self) -> Estimate:
        return _t_interval(self.differences, self.confidence)

    @property
    def significant(self) -> bool:
        """Whether the interval of the mean difference leaves out 0."""
        found = self.estimate
        return found.n >= 2 and not math.isnan(found.half) and (found.low > 0 or found.high < 0)

    def inputs_needed(self, difference: float, power: float = 0.8) -> int | None:
        """Inputs needed to detect ``difference`` at ``power``, from the spread seen here."""
        if len(self.differences) < 2:
            return None
        sd = statistics.stdev(self.differences)
        return 2 if sd == 0 else inputs_needed(sd, difference, power, 1 - self.confidence)

    def verdict(self) -> str:
        """In plain words: "B is better than A (+0.089 ± 0.009, 40 inputs)"."""
        found = self.estimate
        if found.n < 2:
            return f"too few inputs shared by {self.a} and {self.b} to compare ({found.n})"
        figures = f"{found.mean:+.3f} ± {found.half:.3f}, {found.n} inputs"
        if not any(self.differences):
            return f"no difference between {self.b} and {self.a}: the same on all {found.n} inputs"
        if self.significant:
            word = "better" if found.mean > 0 else "worse"
            return f"{self.b} is {word} than {self.a} ({figures})"
        text = f"no detectable difference between {self.b} and {self.a} ({figures}"
        needed = self.inputs_needed(found.mean) if found.mean != 0 else None
        if needed is not None and needed > found.n:
            text += f"; about {needed:,} inputs would detect a {abs(found.mean):.3f} difference"
        return text + ")"


def paired(a: str, b: str, scores_a: Scores, scores_b: Scores, confidence: float = 0.95) -> Paired:
    """``b`` against ``a``: per input both scored, the mean of ``b``'s repeats minus ``a``'s."""
    shared = [key for key in scores_a if scores_a[key] and scores_b.get(key)]
    differences = tuple(
        statistics.fmean(scores_b[key]) - statistics.fmean(scores_a[key]) for key in shared
    )
    return Paired(a, b, differences, confidence)
