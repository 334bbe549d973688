"""MLPerf LoadGen's early-stopping percentile estimate (binomial test), on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from runners.stats import early_stopping_overlatency_count, early_stopping_percentile_us


def test_it_gives_no_estimate_below_64_queries_for_p90() -> None:
    # t = 1 needs P(X <= 1) < 0.01 for X ~ B(n, 0.1): at n = 63 it is
    # 0.9^63 + 63 * 0.1 * 0.9^62 = 0.00131 + 0.00918 = 0.0105.
    assert early_stopping_percentile_us(np.arange(63.0)) is None
    assert early_stopping_overlatency_count(63, 0.90, 0.99) is None


def test_at_64_queries_the_bound_is_the_highest_latency() -> None:
    # n = 64: P(X <= 1) = 0.00118 + 0.00839 = 0.00957 < 0.01, but
    # P(X <= 2) adds C(64, 2) * 0.01 * 0.9^62 = 0.0294: t = 1, nothing discarded.
    latencies = np.arange(1.0, 65.0)
    assert early_stopping_overlatency_count(64, 0.90, 0.99) == 1
    assert early_stopping_percentile_us(latencies) == 64.0


def test_at_100_queries_it_discards_the_two_highest() -> None:
    # n = 100, X ~ B(100, 0.1): P(X <= 3) = 2.66e-5 + 2.95e-4 + 1.62e-3 + 5.89e-3 = 0.0078 < 0.01,
    # P(X <= 4) = 0.0078 + 0.0159 = 0.0237: t = 3, the estimate is sorted[100 - 3].
    latencies = np.arange(100.0)
    assert early_stopping_overlatency_count(100, 0.90, 0.99) == 3
    assert early_stopping_percentile_us(latencies) == 97.0


def test_it_agrees_with_scipys_binomial_and_bounds_the_plain_p90() -> None:
    n = 1024
    expected_t = max(t for t in range(1, n) if binom.cdf(t, n, 0.10) < 0.01)
    assert early_stopping_overlatency_count(n, 0.90, 0.99) == expected_t == 80
    latencies = np.sort(np.random.default_rng(0).exponential(100.0, n))
    estimate = early_stopping_percentile_us(latencies)
    assert estimate == latencies[n - 80]
    assert estimate >= latencies[n * 90 // 100]  # an upper bound: never below the observed p90


def test_it_stays_fast_and_exact_for_long_runs() -> None:
    # 100 000 queries: pmf terms far below float range in plain arithmetic, fine in log space.
    t = early_stopping_overlatency_count(100_000, 0.90, 0.99)
    assert t == max(k for k in range(9_500, 10_000) if binom.cdf(k, 100_000, 0.10) < 0.01)


def test_it_refuses_a_percentile_outside_0_1() -> None:
    with pytest.raises(ValueError):
        early_stopping_percentile_us(np.arange(100.0), percentile=1.0)
