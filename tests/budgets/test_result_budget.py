"""The result page's budget block: cost, track, CO2e, break-even, curves, declared marks."""

from __future__ import annotations

import json

import pytest

from budgets.selectors import result_budget
from tests.factories.figures import trial_log

SEARCH = {"device_type": "NVIDIA A100 40GB", "device_count": 2, "hours": 5.0, "energy_kwh": 4.0, "trials": 12}


@pytest.fixture
def make_result(add_entry, hardware_class):
    """A stored result (tests.factories.rows.make_entry) on a class with a grid intensity of 400 g/kWh."""
    hardware_class.grid_intensity_g_per_kwh = 400.0
    hardware_class.save()
    return lambda **fields: add_entry(**fields).result


def test_it_gathers_the_price_of_a_result_with_a_declared_search(make_result):
    scores = [0.90, None, 0.93, 0.91, 0.95, 0.94, None, 0.96]
    result = make_result(
        compress_wall_s=3600.0,
        compress_energy_j=3.6e6,
        per_inference_mj=(6.0, 2.0, "measured"),
        search=SEARCH,
        trials=trial_log(scores),
    )
    budget = result_budget(result=result)

    cost = budget.cost
    assert (cost.total_device_hours, cost.total_kwh) == (11.0, 5.0)
    assert budget.track.slug == "small-lab" and budget.track_reasons == []
    assert [t.slug for t in budget.tracks] == ["small-lab", "medium", "large-lab"]
    assert budget.co2e.grams == 2000.0  # 5 kWh x 400 g/kWh
    assert budget.break_even.inferences == 4_500_000_000  # 1.8e7 J / 4 mJ
    assert any("Declared by the submitter, not measured" in note for note in budget.notes)

    exported = budget.as_export()
    assert exported["track"] == "small-lab"
    assert exported["search_cost"]["declared"]["label"] == "declared"
    assert exported["search_cost"]["measured"]["kwh"] == 1.0
    assert exported["search_cost"]["total"]["labels"] == ["declared", "measured"]
    assert exported["energy_break_even"]["search_labels"] == ["declared", "measured"]

    curves = budget.curves
    for name in ("trials", "energy", "expected_max"):
        assert curves[name].series and all(one.points for one in curves[name].series)
    assert "declared" in curves["trials"].y_label and "declared" in curves["trials"].title
    assert budget.curve_notes == {}


def test_it_says_why_each_smaller_track_did_not_fit(make_result):
    search = {**SEARCH, "hours": 100.0}  # 200 declared device-hours
    budget = result_budget(result=make_result(search=search))
    assert budget.track.slug == "medium"
    assert budget.track_reasons == ["Small lab: 201 device-hours > 24"]


def test_without_a_trial_log_there_are_no_curves_and_the_reason_is_given(make_result):
    budget = result_budget(result=make_result())
    assert budget.curves == {"trials": None, "energy": None, "expected_max": None}
    assert budget.curve_notes["trials"] == "method.json has no trial log"
    assert budget.cost.has_declared is False
    assert not any("declared" in note.lower() for note in budget.notes)


def test_the_expected_max_waits_for_five_successful_trials(make_result):
    budget = result_budget(result=make_result(trials=trial_log([0.9, None, 0.91, None, 0.92, 0.93], energy_kwh=0.5)))
    assert budget.curves["trials"] is not None and budget.curves["energy"] is not None
    assert budget.curves["expected_max"] is None
    assert "4 successful trials" in budget.curve_notes["expected_max"]


def test_an_energy_axis_needs_trial_energy_or_a_declared_energy(make_result):
    search = {"device_type": "GPU", "device_count": 1, "hours": 1.0}
    budget = result_budget(result=make_result(search=search, trials=trial_log([0.9] * 5)))
    assert budget.curves["energy"] is None
    assert "declared search energy is unknown" in budget.curve_notes["energy"]
    assert budget.track.slug == "large-lab"  # the declared energy is unknown
    assert budget.co2e.grams is None


def test_a_class_without_grid_intensity_gives_no_co2e(make_result, hardware_class):
    hardware_class.grid_intensity_g_per_kwh = None
    hardware_class.save()
    budget = result_budget(result=make_result())
    assert budget.co2e.grams is None and "no grid carbon intensity" in budget.co2e.reason


def test_a_benchmark_without_tracks_is_said_so(make_result, benchmark):
    benchmark.tracks.all().delete()
    budget = result_budget(result=make_result())
    assert budget.track is None
    assert "This benchmark defines no budget tracks." in budget.notes


def test_a_long_trial_log_gives_a_small_chart(make_result):
    scores = [0.5 + (i % 97) / 1000 for i in range(2000)]
    budget = result_budget(result=make_result(trials=trial_log(scores, energy_kwh=0.001)))
    for chart in budget.curves.values():
        assert all(len(one.points) <= 300 for one in chart.series)
    assert len(json.dumps(budget.curves["expected_max"].as_dict())) < 60_000
