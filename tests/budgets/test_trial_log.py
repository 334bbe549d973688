"""The trial log: expected maximum (Dodge et al. 2019), best-so-far, the energy axis."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

from budgets.trials import (
    ENERGY_BASIS_SPLIT,
    ENERGY_BASIS_TRIALS,
    best_so_far,
    expected_max_at,
    expected_max_curve,
    trial_energy_axis,
    trial_log_from,
)


def brute_force_expected_max(scores: list[float], n: int) -> Fraction:
    """Mean of max over every ordered n-tuple of draws with replacement (N^n of them)."""
    draws = list(itertools.product(scores, repeat=n))
    return sum((Fraction(max(d)) for d in draws), Fraction(0)) / len(draws)


def test_the_expected_max_of_one_two_three_is_exact():
    assert expected_max_curve([3.0, 1.0, 2.0]) == pytest.approx([2.0, 22 / 9, 8 / 3], abs=1e-12)


@pytest.mark.parametrize("scores", [[0.91, 0.95, 0.93, 0.90, 0.97], [0.5, 0.5, 0.8, 0.5, 0.8, 0.1]])
def test_the_expected_max_matches_enumerating_every_draw(scores):
    curve = expected_max_curve(scores)
    assert len(curve) == len(scores)
    for n, value in enumerate(curve, start=1):
        assert value == pytest.approx(float(brute_force_expected_max(scores, n)), abs=1e-12)


def test_the_expected_max_starts_at_the_mean_and_rises_towards_the_best():
    scores = [0.2, 0.9, 0.4, 0.7, 0.6, 0.3, 0.8]
    curve = expected_max_curve(scores)
    assert curve[0] == pytest.approx(sum(scores) / len(scores))
    assert all(a <= b + 1e-15 for a, b in zip(curve, curve[1:], strict=False))
    assert curve[-1] < max(scores)
    assert expected_max_curve([]) == []


def test_failed_trials_keep_their_place_but_give_no_score():
    log = trial_log_from(
        [
            {"config": {}, "failed": True, "duration_s": 5.0},
            {"config": {}, "score": 0.8, "duration_s": 5.0, "failed": False},
            {"config": {}, "score": 0.7, "duration_s": 5.0, "failed": False},
            {"config": {}, "score": 0.99, "duration_s": 5.0, "failed": True},  # a failed run's score is no score
            {"config": {}, "score": 0.9, "duration_s": 5.0, "failed": False},
        ]
    )
    assert log.scores == [0.8, 0.7, 0.9]
    assert log.failed_count == 2
    assert best_so_far(log.trials) == [None, 0.8, 0.8, 0.8, 0.9]


def test_an_unmarked_trial_without_a_score_counts_as_failed_with_a_problem():
    log = trial_log_from([{"config": {}, "duration_s": 1.0}, "junk"])
    assert [t.failed for t in log.trials] == [True, True]
    assert len(log.problems) == 2
    assert trial_log_from(None).trials == ()
    assert trial_log_from({"not": "a list"}).problems


def test_the_energy_axis_sums_each_trials_energy_failed_ones_included():
    log = trial_log_from(
        [
            {"config": {}, "score": 0.5, "duration_s": 1.0, "failed": False, "energy_kwh": 0.25},
            {"config": {}, "duration_s": 1.0, "failed": True, "energy_kwh": 0.5},
            {"config": {}, "score": 0.6, "duration_s": 1.0, "failed": False, "energy_kwh": 0.25},
        ]
    )
    axis = trial_energy_axis(trials=log.trials, declared_kwh=100.0)
    assert axis.cumulative_kwh == (0.25, 0.75, 1.0)
    assert axis.basis == ENERGY_BASIS_TRIALS


def test_without_per_trial_energy_the_declared_energy_is_split_by_duration():
    log = trial_log_from(
        [
            {"config": {}, "score": 0.5, "duration_s": 10.0, "failed": False, "energy_kwh": 1.0},
            {"config": {}, "duration_s": 30.0, "failed": True},
            {"config": {}, "score": 0.6, "duration_s": 60.0, "failed": False},
        ]
    )
    axis = trial_energy_axis(trials=log.trials, declared_kwh=50.0)
    assert axis.cumulative_kwh == pytest.approx((5.0, 20.0, 50.0))
    assert axis.basis == ENERGY_BASIS_SPLIT


def test_there_is_no_energy_axis_without_energy_or_durations():
    no_energy = trial_log_from([{"config": {}, "score": 0.5, "duration_s": 10.0, "failed": False}])
    axis = trial_energy_axis(trials=no_energy.trials, declared_kwh=None)
    assert axis.cumulative_kwh is None and "declared search energy is unknown" in axis.reason
    no_duration = trial_log_from([{"config": {}, "score": 0.5, "failed": False}])
    axis = trial_energy_axis(trials=no_duration.trials, declared_kwh=3.0)
    assert axis.cumulative_kwh is None and "duration_s" in axis.reason


def test_the_expected_max_at_chosen_points_equals_the_full_curve():
    scores = [((i * 37) % 101) / 100 for i in range(400)]
    full = expected_max_curve(scores)
    ns = [1, 2, 50, 399, 400]
    assert expected_max_at(scores=scores, ns=ns) == pytest.approx([full[n - 1] for n in ns], abs=1e-12)
    with pytest.raises(ValueError):
        expected_max_at(scores=scores, ns=[0])
