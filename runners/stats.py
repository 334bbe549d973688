"""The arithmetic of a measurement: percentiles, early stopping, variation, bootstrap.

Pure functions of numbers, no I/O, no clock: unit-tested without Docker. The harness
collects samples; the aggregation turns them into figures with these.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

# MLPerf LoadGen's early-stopping settings for single-stream (loadgen/results.cc).
EARLY_STOPPING_CONFIDENCE = 0.99


def latency_percentile_us(sorted_us: np.ndarray | Sequence[float], percent: int) -> float:
    """MLPerf LoadGen's rule: the sample at index floor(n * p) of the sorted latencies.

    No interpolation: every figure is a latency that was observed.
    """
    n = len(sorted_us)
    return float(sorted_us[min(n - 1, n * percent // 100)])


def _binomial_cdf_terms(n: int, q: float) -> Iterator[float]:
    """P(X <= t) for t = 0, 1, ... n, X ~ Binomial(n, q), in log space (no overflow at large n)."""
    log_q, log_p = math.log(q), math.log1p(-q)
    log_n_factorial = math.lgamma(n + 1)
    total = 0.0
    for x in range(n + 1):
        log_pmf = log_n_factorial - math.lgamma(x + 1) - math.lgamma(n - x + 1) + x * log_q + (n - x) * log_p
        total += math.exp(log_pmf)
        yield total


def binomial_tolerance(n: int, rate: float, confidence: float) -> int:
    """The most of `n` independent trials that may come out "bad" at a true `rate` while
    staying inside `confidence`: the smallest t with P(X <= t) >= confidence, X ~ Binomial(n, rate).

    An audit that allows t mismatches fails an honest server whose replies flip at `rate`
    at most 1 - confidence of the time, whatever n is (a fixed fraction would fail one that
    flips a single near-tie in 128 replies).
    """
    if not 0.0 < rate < 1.0 or not 0.0 < confidence < 1.0:
        raise ValueError(f"rate and confidence must lie in (0, 1), got {rate}, {confidence}")
    if n < 1:
        return 0
    for t, cdf in enumerate(_binomial_cdf_terms(n, rate)):
        if cdf >= confidence:
            return t
    return n


def early_stopping_overlatency_count(n: int, percentile: float, confidence: float) -> int | None:
    """How many of `n` queries may lie above the early-stopping bound; None if n is too small.

    LoadGen treats each query as a Bernoulli trial that beats the true `percentile` latency
    with probability `percentile`. Allowing `t` queries above a latency bound, the bound holds
    for the true percentile at `confidence` when P(X <= t) < 1 - confidence for
    X ~ Binomial(n, 1 - percentile) (LoadGen's `odds(h = n - t, t)`). That probability grows
    with t: the largest passing t >= 1 is LoadGen's t (it stops at the first failing one).
    For p90 at 0.99 the smallest n with a passing t = 1 is 64.
    """
    if not 0.0 < percentile < 1.0 or not 0.0 < confidence < 1.0:
        raise ValueError(f"percentile and confidence must lie in (0, 1), got {percentile}, {confidence}")
    if n < 2:
        return None
    allowed = None
    for t, cdf in enumerate(_binomial_cdf_terms(n, 1.0 - percentile)):
        if t == 0:
            continue
        if cdf >= 1.0 - confidence:
            break
        allowed = t
    return allowed


def early_stopping_percentile_us(
    sorted_us: Sequence[float] | np.ndarray, percentile: float = 0.90, confidence: float = EARLY_STOPPING_CONFIDENCE
) -> float | None:
    """MLPerf LoadGen's early-stopping estimate of a latency percentile (single-stream).

    An upper bound on the true `percentile` latency, held with `confidence`: the latency at
    sorted index n - t, t from early_stopping_overlatency_count (so t - 1 highest latencies
    are discarded). `sorted_us` must be sorted ascending. None below the minimum query count
    (64 for p90 at 0.99).
    """
    n = len(sorted_us)
    t = early_stopping_overlatency_count(n, percentile, confidence)
    if t is None:
        return None
    return float(sorted_us[n - t])


def coefficient_of_variation(values: Sequence[float]) -> float | None:
    """Sample standard deviation over mean; None for fewer than two values or a zero mean."""
    if len(values) < 2:
        return None
    mean = float(np.mean(values))
    if mean == 0:
        return None
    return float(np.std(values, ddof=1)) / mean


def _observed_median(samples: np.ndarray, axis: int = -1) -> np.ndarray:
    """The p50 by `latency_percentile_us`'s rule (index floor(n / 2), no interpolation), along `axis`."""
    n = samples.shape[axis]
    k = min(n - 1, n * 50 // 100)
    return np.take(np.partition(samples, k, axis=axis), k, axis=axis)


def median_ratio(numerator: np.ndarray, denominator: np.ndarray) -> float:
    """p50(numerator) / p50(denominator) of two pooled sample arrays, p50 by
    `latency_percentile_us`'s rule: the ratio of the two published latencies."""
    return float(_observed_median(np.asarray(numerator))) / float(_observed_median(np.asarray(denominator)))


def pair_ratios(numerator_blocks: np.ndarray, denominator_blocks: np.ndarray) -> np.ndarray:
    """p50(numerator block k) / p50(denominator block k) for each block pair k.

    Both arrays have shape [pairs, queries per block]: pair k holds two blocks measured back
    to back on the same inputs (the reference's and the submission's), so whatever pace the
    host kept in that moment is in both and cancels in their ratio.
    """
    numerator_blocks, denominator_blocks = np.asarray(numerator_blocks), np.asarray(denominator_blocks)
    if numerator_blocks.ndim != 2 or numerator_blocks.shape[0] != denominator_blocks.shape[0]:
        raise ValueError(
            f"need matched block pairs, got shapes {numerator_blocks.shape} and {denominator_blocks.shape}"
        )
    if numerator_blocks.shape[0] < 1:
        raise ValueError("need at least one block pair")
    return _observed_median(numerator_blocks, axis=1) / _observed_median(denominator_blocks, axis=1)


def paired_ratio(numerator_blocks: np.ndarray, denominator_blocks: np.ndarray) -> float:
    """The speed-up's estimate: the median over block pairs of their p50 ratios (`pair_ratios`).

    Not the ratio of pooled p50s: when the host changes pace during a job (a neighbour
    starts, a VM is descheduled), the pooled samples of each side are a mixture of fast and
    slow blocks, and the p50 of a mixture jumps with a few blocks more on one side of it; a
    job of the same model on both sides measured 0.70 so. Each pair's ratio holds only the
    moment's pace, which both sides shared, and the median over pairs ignores the few pairs
    where the pace changed between their two blocks.
    """
    return float(np.median(pair_ratios(numerator_blocks, denominator_blocks)))


def bootstrap_ratio_interval(
    numerator_blocks: np.ndarray,
    denominator_blocks: np.ndarray,
    *,
    resamples: int,
    confidence: float,
    rng: np.random.Generator,
    chunk: int = 1000,
) -> tuple[float, float]:
    """A percentile bootstrap interval of `paired_ratio`, by block pair.

    Each resample draws as many pairs as were measured, with replacement, and takes the
    median of their ratios: resampling whole pairs keeps what a pair shares (the host's
    state of the moment, the inputs) together, so the interval reflects the drift that
    remains between pairs and not only the spread of single queries.
    """
    ratios = pair_ratios(numerator_blocks, denominator_blocks)
    pairs = len(ratios)
    if pairs < 2:
        raise ValueError(f"need at least two matched block pairs, got {pairs}")
    if not 0.0 < confidence < 1.0 or resamples < 1:
        raise ValueError(f"confidence must lie in (0, 1) and resamples be positive, got {confidence}, {resamples}")
    estimates = np.empty(resamples)
    done = 0
    while done < resamples:
        count = min(chunk, resamples - done)
        picks = rng.integers(0, pairs, size=(count, pairs))
        estimates[done : done + count] = np.median(ratios[picks], axis=1)
        done += count
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(estimates, [tail, 1.0 - tail])
    return float(low), float(high)
