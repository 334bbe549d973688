"""The status rules of docs/claims.md: per quantity at the tolerance limits, per claim, per paper."""

from __future__ import annotations

import pytest

from papers.claims import (
    DEFAULT_TOLERANCES,
    QUANTITY_BY_KEY,
    Status,
    Tolerances,
    claim_status,
    paper_status,
    quantity_check,
    tolerances_for,
)
from papers.models import ClaimTolerance
from submissions.models import Figure


def check(
    key: str,
    claimed: float,
    value: float | None,
    *,
    unit: str | None = None,
    label: str = "measured",
    tolerances: Tolerances = DEFAULT_TOLERANCES,
):
    quantity = QUANTITY_BY_KEY[key]
    figure = None if value is None else Figure(value=value, unit=unit or quantity.figure_unit, label=label)
    return quantity_check(quantity=quantity, claimed=claimed, figure=figure, tolerances=tolerances)


# --- accuracy: absolute, 0.5 points, better counts


def test_accuracy_exactly_half_a_point_below_the_claim_is_reproduced() -> None:
    result = check("accuracy", 0.98, 0.975)
    assert result.status == Status.REPRODUCED
    assert result.gap == pytest.approx(-0.005)


def test_accuracy_just_over_half_a_point_below_the_claim_is_not_reproduced() -> None:
    assert check("accuracy", 0.98, 0.9749).status == Status.NOT_REPRODUCED


def test_a_higher_accuracy_than_claimed_is_reproduced() -> None:
    result = check("accuracy", 0.95, 0.99)
    assert result.status == Status.REPRODUCED
    assert result.gap == pytest.approx(0.04)


# --- speed-up and compression: relative, 10 %, better counts


@pytest.mark.parametrize("key", ["speedup", "compression_ratio"])
def test_a_ratio_exactly_ten_percent_below_the_claim_is_reproduced(key: str) -> None:
    result = check(key, 2.0, 1.8)
    assert result.status == Status.REPRODUCED
    assert result.gap == pytest.approx(-0.10)


@pytest.mark.parametrize("key", ["speedup", "compression_ratio"])
def test_a_ratio_just_over_ten_percent_below_the_claim_is_not_reproduced(key: str) -> None:
    assert check(key, 2.0, 1.799).status == Status.NOT_REPRODUCED


@pytest.mark.parametrize("key", ["speedup", "compression_ratio"])
def test_a_larger_ratio_than_claimed_is_reproduced(key: str) -> None:
    result = check(key, 2.0, 5.0)
    assert (result.status, result.gap) == (Status.REPRODUCED, pytest.approx(1.5))


def test_a_claimed_three_times_speedup_measured_at_one_is_not_reproduced() -> None:
    result = check("speedup", 3.0, 1.02)
    assert result.status == Status.NOT_REPRODUCED
    assert result.gap == pytest.approx(-0.66)


# --- size: relative, 10 %, either way


def test_a_size_exactly_ten_percent_off_either_way_is_reproduced() -> None:
    assert check("size", 1_000_000, 1_100_000).status == Status.REPRODUCED
    assert check("size", 1_000_000, 900_000).status == Status.REPRODUCED


def test_a_size_just_over_ten_percent_off_either_way_is_not_reproduced() -> None:
    assert check("size", 1_000_000, 1_100_001).status == Status.NOT_REPRODUCED
    assert check("size", 1_000_000, 899_999).status == Status.NOT_REPRODUCED


def test_a_much_smaller_file_than_claimed_does_not_reproduce_the_claimed_size() -> None:
    assert check("size", 1_000_000, 100_000).status == Status.NOT_REPRODUCED


# --- search energy: compress_energy_net in J, compared in kWh, 25 % either way


def test_search_energy_is_converted_from_joules_to_kwh() -> None:
    result = check("search_energy", 0.5, 0.5 * 3.6e6)
    assert result.measured == pytest.approx(0.5)
    assert result.status == Status.REPRODUCED


def test_search_energy_exactly_25_percent_off_is_reproduced_and_just_over_is_not() -> None:
    assert check("search_energy", 2.0, 2.5 * 3.6e6).status == Status.REPRODUCED
    assert check("search_energy", 2.0, 1.5 * 3.6e6).status == Status.REPRODUCED
    assert check("search_energy", 2.0, 2.501 * 3.6e6).status == Status.NOT_REPRODUCED
    assert check("search_energy", 2.0, 1.499 * 3.6e6).status == Status.NOT_REPRODUCED


def test_an_estimated_energy_keeps_its_label() -> None:
    result = check("search_energy", 0.001, 3600.0, label="estimated")
    assert (result.label, result.status) == ("estimated", Status.REPRODUCED)


def test_a_claim_of_zero_energy_has_no_relative_gap_and_needs_zero() -> None:
    result = check("search_energy", 0.0, 10.0)
    assert (result.gap, result.status) == (None, Status.NOT_REPRODUCED)
    assert check("search_energy", 0.0, 0.0).status == Status.REPRODUCED


# --- figures that cannot reproduce a claim


def test_a_missing_figure_is_not_measured() -> None:
    result = check("speedup", 2.0, None)
    assert (result.status, result.measured, result.gap) == (Status.NOT_MEASURED, None, None)


def test_a_declared_figure_is_not_measured() -> None:
    result = check("compression_ratio", 10.0, 10.0, label="declared")
    assert result.status == Status.NOT_MEASURED
    assert "declared" in result.note


def test_a_figure_in_another_unit_is_not_measured() -> None:
    assert check("accuracy", 0.9, 90.0, unit="percent").status == Status.NOT_MEASURED


# --- tolerances


def test_a_benchmark_without_tolerances_gets_the_defaults(benchmark) -> None:
    assert tolerances_for(benchmark=benchmark) == Tolerances(0.005, 0.10, 0.10, 0.10, 0.25)


def test_tolerances_set_for_a_benchmark_apply(benchmark) -> None:
    ClaimTolerance.objects.create(benchmark=benchmark, accuracy_abs=0.01, speedup_rel=0.2)
    benchmark.refresh_from_db()
    tolerances = tolerances_for(benchmark=benchmark)
    assert (tolerances.accuracy_abs, tolerances.speedup_rel, tolerances.size_rel) == (0.01, 0.2, 0.10)
    assert check("speedup", 2.0, 1.6, tolerances=tolerances).status == Status.REPRODUCED
    assert check("speedup", 2.0, 1.6).status == Status.NOT_REPRODUCED
    assert check("accuracy", 0.98, 0.97, tolerances=tolerances).status == Status.REPRODUCED


# --- per claim


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], Status.PENDING),
        ([Status.NOT_MEASURED], Status.PENDING),
        ([Status.NOT_MEASURED, Status.NOT_MEASURED], Status.PENDING),
        ([Status.REPRODUCED], Status.REPRODUCED),
        ([Status.REPRODUCED, Status.NOT_MEASURED], Status.REPRODUCED),
        ([Status.REPRODUCED, Status.REPRODUCED], Status.REPRODUCED),
        ([Status.NOT_REPRODUCED], Status.NOT_REPRODUCED),
        ([Status.NOT_REPRODUCED, Status.NOT_MEASURED], Status.NOT_REPRODUCED),
        ([Status.REPRODUCED, Status.NOT_REPRODUCED], Status.PARTIALLY_REPRODUCED),
        ([Status.NOT_REPRODUCED, Status.REPRODUCED, Status.NOT_MEASURED], Status.PARTIALLY_REPRODUCED),
    ],
)
def test_a_claims_status_follows_its_measured_quantities(statuses: list[str], expected: str) -> None:
    assert claim_status(quantity_statuses=statuses) == expected


# --- per paper


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], Status.PENDING),
        ([Status.PENDING, Status.PENDING], Status.PENDING),
        ([Status.REPRODUCED, Status.REPRODUCED], Status.REPRODUCED),
        ([Status.REPRODUCED, Status.PENDING], Status.PARTIALLY_REPRODUCED),
        ([Status.NOT_REPRODUCED, Status.NOT_REPRODUCED], Status.NOT_REPRODUCED),
        ([Status.NOT_REPRODUCED, Status.PENDING], Status.NOT_REPRODUCED),
        ([Status.REPRODUCED, Status.NOT_REPRODUCED], Status.PARTIALLY_REPRODUCED),
        ([Status.PARTIALLY_REPRODUCED], Status.PARTIALLY_REPRODUCED),
        ([Status.PARTIALLY_REPRODUCED, Status.NOT_REPRODUCED], Status.PARTIALLY_REPRODUCED),
        (
            [Status.REPRODUCED, Status.NOT_REPRODUCED, Status.PARTIALLY_REPRODUCED, Status.PENDING],
            Status.PARTIALLY_REPRODUCED,
        ),
    ],
)
def test_a_papers_status_follows_its_claims(statuses: list[str], expected: str) -> None:
    assert paper_status(claim_statuses=statuses) == expected
