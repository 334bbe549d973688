"""A run's budget block and its JSON export (stored result document + budget)."""

from __future__ import annotations

import pytest

from pages.presenters import run_budget, run_result_document
from submissions.selectors import run_detail
from tests.factories.figures import search

pytestmark = pytest.mark.django_db


@pytest.fixture
def add(add_entry):
    return lambda **fields: run_detail(run_id=add_entry(name="m", **fields).pk)


def test_a_run_without_a_result_has_no_budget(run):
    loaded = run_detail(run_id=run.pk)
    assert run_budget(run=loaded) is None
    document = run_result_document(run=loaded, budget=None)
    assert (document["result"], document["budget"], document["state"]) == (None, None, "queued")


def test_an_old_result_gets_a_budget_with_its_unknowns_said(add):
    run = add(method={}, compress_wall_s=None, compress_cpu_s=None, compress_energy_j=None)
    budget = run_budget(run=run)
    assert budget.cost.total_device_hours is None and budget.cost.total_kwh is None
    assert budget.track.slug == "large-lab"
    assert budget.track_reasons[0].startswith("Small lab: the total device-hours are unknown")
    assert "method.json has no trial log" in budget.curve_notes["trials"]
    assert budget.co2e.grams is None


def test_the_export_holds_the_stored_document_and_the_budget(add, hardware_class):
    hardware_class.grid_intensity_g_per_kwh = 100.0
    hardware_class.save()
    run = add(search=search(device_count=100, hours=1.0, energy_kwh=5.0), per_inference_mj=(0.2, 0.4, "measured"))
    document = run_result_document(run=run, budget=run_budget(run=run))
    assert document["schema"] == "footprint.run-result/1"
    assert (document["run_id"], document["benchmark"], document["hardware_class"]) == (run.pk, "tiny", "cpu-test")
    assert document["result"]["method"]["search"]["device_count"] == 100
    budget = document["budget"]
    assert budget["track"] == "medium"
    assert budget["track_reasons"] == ["Small lab: 101 device-hours > 24"]
    assert budget["search_cost"]["measured"]["device_hours"] == 1.0
    assert budget["search_cost"]["declared"]["device_hours"] == 100.0
    assert budget["search_cost"]["total"]["has_declared"] is True
    assert budget["co2e"]["grams"] == pytest.approx(600.0)
    assert budget["energy_break_even"]["inferences"] == "never"
    assert any("Declared by the submitter, not measured" in note for note in budget["notes"])
