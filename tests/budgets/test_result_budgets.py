"""Each leaderboard row's search cost and track, read for many results at once."""

from __future__ import annotations

import pytest

from budgets.selectors import result_budgets, track_from_slug, tracks_for_benchmark
from submissions.models import Result

HOUR_S = 3600.0
BIG_SEARCH = {"device_type": "GPU", "device_count": 10, "hours": 10.0, "energy_kwh": 50.0}  # 100 device-hours
UNKNOWN_ENERGY = {"device_type": "GPU", "device_count": 1, "hours": 1.0}


@pytest.fixture
def results(add_entry):
    return {
        "small": add_entry(compress_wall_s=HOUR_S, compress_energy_j=3.6e6).result,
        "medium": add_entry(search=BIG_SEARCH).result,
        "unknown energy": add_entry(search=UNKNOWN_ENERGY).result,
    }


def test_each_result_gets_the_smallest_track_its_totals_fit(results, benchmark):
    budgets = result_budgets(results=list(results.values()), tracks=tracks_for_benchmark(benchmark=benchmark))
    tracks = {name: budgets[result.pk].track.slug for name, result in results.items()}
    assert tracks == {"small": "small-lab", "medium": "medium", "unknown energy": "large-lab"}
    assert [budgets[result.pk].has_declared for result in results.values()] == [False, True, True]


def test_a_budget_fits_a_track_only_within_its_limits(results, benchmark):
    tracks = tracks_for_benchmark(benchmark=benchmark)
    budgets = result_budgets(results=list(results.values()), tracks=tracks)
    small_lab, medium = track_from_slug(tracks=tracks, slug="small-lab"), track_from_slug(tracks=tracks, slug="medium")
    assert [budgets[r.pk].fits(small_lab) for r in results.values()] == [True, False, False]
    # An unknown energy fits no limit on energy, whatever its known part.
    assert [budgets[r.pk].fits(medium) for r in results.values()] == [True, True, False]


def test_a_budget_exports_its_track_and_its_declared_part(results, benchmark):
    budgets = result_budgets(results=[results["medium"]], tracks=tracks_for_benchmark(benchmark=benchmark))
    exported = budgets[results["medium"].pk].as_dict()
    assert exported["track"] == "medium" and exported["has_declared"] is True
    assert exported["search_cost"]["declared"]["label"] == "declared"


def test_its_queries_do_not_grow_with_the_results(add_entry, benchmark, hardware_class, django_assert_max_num_queries):
    tracks = tracks_for_benchmark(benchmark=benchmark)
    add_entry()
    one = list(Result.objects.all())
    with django_assert_max_num_queries(4):  # the results' figures, runs, hardware classes and submissions
        result_budgets(results=one, tracks=tracks)
    for _ in range(4):
        add_entry()
    five = list(Result.objects.all())
    with django_assert_max_num_queries(4):
        budgets = result_budgets(results=five, tracks=tracks)
    assert len(budgets) == 5
