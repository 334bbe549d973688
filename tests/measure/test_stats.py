"""The statistics of a measurement: percentiles, variation and the speed-up's bootstrap interval."""

from __future__ import annotations

import numpy as np
import pytest

from runners import stats


def test_percentiles_follow_the_loadgen_rule():
    ordered = np.arange(1, 101, dtype=np.float64)
    assert stats.latency_percentile_us(ordered, 50) == 51
    assert stats.latency_percentile_us(ordered, 99) == 100


def test_the_coefficient_of_variation_needs_two_values():
    assert stats.coefficient_of_variation([5.0]) is None
    assert stats.coefficient_of_variation([1.0, 3.0]) == pytest.approx(np.std([1, 3], ddof=1) / 2)


def blocks(rng, pairs: int, per_block: int, level_us: float, drift: np.ndarray) -> np.ndarray:
    noise = rng.lognormal(0.0, 0.1, size=(pairs, per_block))
    return level_us * drift[:, None] * noise


def test_the_interval_covers_the_true_ratio_and_excludes_a_wrong_one():
    rng = np.random.default_rng(0)
    drift = np.ones(40)
    reference = blocks(rng, 40, 32, 200.0, drift)
    submission = blocks(rng, 40, 32, 100.0, drift)
    low, high = stats.bootstrap_ratio_interval(
        reference, submission, resamples=2000, confidence=0.95, rng=np.random.default_rng(1)
    )
    assert low < 2.0 < high
    assert high - low < 0.1
    assert not low < 1.5 < high


def test_drift_that_hits_both_sides_of_each_pair_alike_leaves_the_interval_tight():
    rng = np.random.default_rng(2)
    # The host alternates between fast and slow periods, as a noisy VM does.
    drift = np.where(np.arange(60) % 7 < 3, 1.0, 1.8)
    reference = blocks(rng, 60, 32, 150.0, drift)
    submission = blocks(rng, 60, 32, 150.0, drift)
    low, high = stats.bootstrap_ratio_interval(
        reference, submission, resamples=2000, confidence=0.95, rng=np.random.default_rng(3)
    )
    assert low < 1.0 < high
    assert high - low < 0.15


def test_a_host_that_changes_pace_mid_job_does_not_move_the_speedup():
    rng = np.random.default_rng(6)
    # The same model on both sides; the host is 1.8x slower for the second half of the job,
    # and the change fell between the two blocks of three pairs (only the reference's slow).
    drift = np.where(np.arange(40) < 20, 1.0, 1.8)
    reference = blocks(rng, 40, 32, 150.0, drift)
    submission = blocks(rng, 40, 32, 150.0, drift)
    submission[17:20] = blocks(rng, 3, 32, 150.0, np.ones(3))
    reference[17:20] = blocks(rng, 3, 32, 150.0, np.full(3, 1.8))
    pooled = stats.median_ratio(reference.ravel(), submission.ravel())
    assert abs(pooled - 1.0) > 0.1, pooled  # the two pooled p50s sit at different places of the gap
    assert stats.paired_ratio(reference, submission) == pytest.approx(1.0, abs=0.03)
    low, high = stats.bootstrap_ratio_interval(
        reference, submission, resamples=2000, confidence=0.95, rng=np.random.default_rng(7)
    )
    assert low < 1.0 < high and high - low < 0.1


def test_the_paired_ratio_is_the_median_of_each_pairs_p50_ratio():
    reference = np.array([[100.0, 300.0, 200.0], [10.0, 30.0, 20.0], [50.0, 50.0, 50.0]])
    submission = np.array([[100.0, 100.0, 100.0], [10.0, 10.0, 10.0], [100.0, 100.0, 100.0]])
    assert list(stats.pair_ratios(reference, submission)) == [2.0, 2.0, 0.5]
    assert stats.paired_ratio(reference, submission) == 2.0
    with pytest.raises(ValueError):
        stats.pair_ratios(np.ones((0, 4)), np.ones((0, 4)))


def test_more_pairs_give_a_narrower_interval():
    rng = np.random.default_rng(4)
    few = stats.bootstrap_ratio_interval(
        blocks(rng, 5, 32, 100, np.ones(5)),
        blocks(rng, 5, 32, 100, np.ones(5)),
        resamples=1000,
        confidence=0.95,
        rng=np.random.default_rng(5),
    )
    many = stats.bootstrap_ratio_interval(
        blocks(rng, 80, 32, 100, np.ones(80)),
        blocks(rng, 80, 32, 100, np.ones(80)),
        resamples=1000,
        confidence=0.95,
        rng=np.random.default_rng(5),
    )
    assert many[1] - many[0] < few[1] - few[0]


def test_the_interval_refuses_unmatched_or_single_pairs():
    with pytest.raises(ValueError):
        stats.bootstrap_ratio_interval(
            np.ones((3, 4)), np.ones((2, 4)), resamples=10, confidence=0.9, rng=np.random.default_rng()
        )
    with pytest.raises(ValueError):
        stats.bootstrap_ratio_interval(
            np.ones((1, 4)), np.ones((1, 4)), resamples=10, confidence=0.9, rng=np.random.default_rng()
        )


def test_the_binomial_tolerance_holds_an_honest_rate_at_its_confidence() -> None:
    from math import comb

    def cdf(t: int, n: int, q: float) -> float:
        return sum(comb(n, x) * q**x * (1 - q) ** (n - x) for x in range(t + 1))

    for n in (1, 64, 128, 1024, 5000):
        t = stats.binomial_tolerance(n, 0.001, 0.999)
        assert cdf(t, n, 0.001) >= 0.999
        assert t == 0 or cdf(t - 1, n, 0.001) < 0.999  # the smallest such count
    assert stats.binomial_tolerance(128, 0.001, 0.999) == 2
    assert stats.binomial_tolerance(1024, 0.001, 0.999) == 5
    assert stats.binomial_tolerance(0, 0.001, 0.999) == 0
    with pytest.raises(ValueError):
        stats.binomial_tolerance(10, 0.0, 0.999)
