"""The search cost of a result: measured compress figures, declared search, totals, CO2e."""

from __future__ import annotations

import json

import pytest

from budgets.costs import co2e_for, search_cost_for_result, search_cost_from
from tests.factories.figures import compress_figures, figure, search_cost, unsaved_figures

SEARCH = {"device_type": "NVIDIA A100 40GB", "device_count": 8, "hours": 12.5, "trials": 300}


def test_it_converts_the_compress_figures_to_hours_and_kwh_on_a_cpu_class():
    c = search_cost_from(
        figures=[
            *unsaved_figures(compress_figures(wall_s=7200.0, cpu_s=5400.0, energy_j=1.8e6, peak_memory_bytes=None)),
            figure("submission", "compress_peak_memory", 3e8, "bytes"),
        ],
        gpus=0,
        method={"name": "m"},
    )
    assert c.measured_wall_hours == 2.0
    assert c.measured_cpu_hours == 1.5
    assert c.measured_gpu_hours == 0.0
    assert c.measured_device_hours == 2.0  # a CPU class counts as one device
    assert c.measured_kwh == 0.5
    assert c.compress_peak_memory_bytes == 3e8
    assert (c.total_device_hours, c.total_kwh, c.total_j) == (2.0, 0.5, 1.8e6)
    assert c.has_declared is False and c.energy_complete is True
    assert c.labels == ("measured",)


def test_it_counts_gpu_hours_and_device_hours_per_gpu():
    c = search_cost(wall_s=5400.0, gpus=4)
    assert c.measured_gpu_hours == 6.0
    assert c.measured_device_hours == 6.0


def test_it_keeps_the_label_of_an_estimated_compress_energy():
    c = search_cost(energy_j=3.6e6, label="estimated")
    assert c.compress_energy_label == "estimated"
    assert c.energy_labels == ("estimated",)
    assert c.labels == ("estimated", "measured")  # wall time is measured, energy estimated


def test_it_adds_a_declared_search_with_its_stated_energy():
    c = search_cost(wall_s=3600.0, energy_j=3.6e6, search={**SEARCH, "energy_kwh": 40.0})
    assert c.declared.device_hours == 100.0
    assert (c.declared.kwh, c.declared.kwh_basis) == (40.0, "energy_kwh")
    assert c.total_device_hours == 101.0
    assert c.total_kwh == 41.0
    assert c.total_j == 41.0 * 3.6e6
    assert c.has_declared is True
    assert c.labels == ("declared", "measured")
    assert c.trials_count == 300


def test_it_derives_the_declared_energy_from_the_power_per_device():
    c = search_cost(energy_j=0.0, search={**SEARCH, "power_w": 400.0})
    assert (c.declared.kwh, c.declared.kwh_basis) == (40.0, "power_w")  # 8 x 400 W x 12.5 h


def test_a_stated_energy_wins_over_the_power_figure():
    c = search_cost(search={**SEARCH, "energy_kwh": 3.0, "power_w": 400.0})
    assert (c.declared.kwh, c.declared.kwh_basis) == (3.0, "energy_kwh")


def test_a_declared_search_without_energy_makes_the_total_energy_unknown_not_zero():
    c = search_cost(energy_j=7.2e6, search=SEARCH)
    assert c.declared.kwh is None and c.declared.kwh_basis == "unknown"
    assert c.energy_complete is False
    assert c.total_kwh is None and c.total_j is None
    assert c.total_kwh_at_least == 2.0
    assert c.total_device_hours == 101.0  # the hours are known all the same
    assert any("neither energy_kwh nor power_w" in note for note in c.notes)


def test_a_missing_compress_energy_makes_the_total_energy_unknown():
    c = search_cost(energy_j=None)
    assert c.measured_kwh is None and c.energy_complete is False and c.total_kwh is None
    assert c.energy_labels == ()


def test_a_negative_net_compress_energy_counts_as_zero_and_says_so():
    c = search_cost(energy_j=-50.0)
    assert c.compress_energy_net_j == -50.0  # the published figure, unchanged
    assert c.measured_kwh == 0.0 and c.total_kwh == 0.0
    assert any("below zero" in note for note in c.notes)


def test_a_figure_in_another_unit_is_left_out_with_a_note():
    c = search_cost_from(figures=[figure("submission", "compress_wall", 2.0, "h")], gpus=0, method={})
    assert c.compress_wall_s is None and c.total_device_hours is None
    assert any("compress_wall is in 'h'" in note for note in c.notes)


def test_an_invalid_declared_block_is_unknown_never_dropped():
    c = search_cost(search={"device_type": "TPU", "device_count": 0, "hours": 5.0, "energy_kwh": 1.0})
    assert c.has_declared is True
    assert c.declared.device_hours is None
    assert c.total_device_hours is None
    assert "declared" in c.labels
    assert any("device_count" in note for note in c.notes)
    c = search_cost(search=["not", "an", "object"])
    assert c.has_declared is True and c.total_device_hours is None and c.total_kwh is None


def test_the_trials_count_falls_back_to_the_trial_log():
    method = {"trials": [{"config": {}, "score": 0.9, "duration_s": 1.0, "failed": False}] * 3}
    spec = compress_figures(wall_s=1.0, cpu_s=None, energy_j=1.0, peak_memory_bytes=None)
    c = search_cost_from(figures=unsaved_figures(spec), gpus=0, method=method)
    assert c.trial_log_count == 3 and c.trials_count == 3
    assert search_cost().trials_count is None


def test_the_export_keeps_measured_and_declared_apart():
    exported = search_cost(wall_s=3600.0, energy_j=3.6e6, search={**SEARCH, "energy_kwh": 40.0}).as_dict()
    json.dumps(exported)  # JSON-able as it is
    assert exported["measured"]["label"] == "measured"
    assert exported["measured"]["device_hours"] == 1.0 and exported["measured"]["kwh"] == 1.0
    assert exported["declared"]["label"] == "declared"
    assert exported["declared"]["device_hours"] == 100.0 and exported["declared"]["kwh"] == 40.0
    assert exported["total"] == {
        "device_hours": 101.0,
        "kwh": 41.0,
        "j": 41.0 * 3.6e6,
        "kwh_at_least": 41.0,
        "has_declared": True,
        "energy_complete": True,
        "labels": ["declared", "measured"],
        "energy_labels": ["declared", "measured"],
    }
    assert search_cost().as_dict()["declared"] is None


def test_co2e_is_the_total_energy_times_the_grid_intensity():
    c = search_cost(energy_j=3.6e6, search={**SEARCH, "energy_kwh": 4.0})
    co2e = co2e_for(cost=c, grid_intensity_g_per_kwh=250.0)
    assert co2e.grams == 1250.0 and co2e.reason == ""
    assert co2e.labels == ("declared", "measured")
    assert co2e_for(cost=c, grid_intensity_g_per_kwh=0.0).grams == 0.0


@pytest.mark.parametrize(
    ("energy_j", "intensity", "reason"),
    [(3.6e6, None, "no grid carbon intensity"), (None, 300.0, "total energy is unknown")],
)
def test_co2e_is_unknown_without_an_intensity_or_an_energy(energy_j, intensity, reason):
    co2e = co2e_for(cost=search_cost(energy_j=energy_j), grid_intensity_g_per_kwh=intensity)
    assert co2e.grams is None
    assert reason in co2e.reason


def test_it_reads_a_stored_result_with_its_hardware_class(add_entry, hardware_class):
    hardware_class.gpus = 2
    hardware_class.save()
    result = add_entry(
        figures={
            ("submission", "compress_wall"): (1800.0, "s", "measured"),
            ("submission", "compress_energy_net"): (7.2e6, "J", "measured"),
            ("reference", "compress_wall"): (99999.0, "s", "measured"),  # not the submission's
        },
        search={**SEARCH, "power_w": 100.0},
    ).result
    c = search_cost_for_result(result=result)
    assert c.gpus == 2
    assert c.measured_gpu_hours == 1.0 and c.measured_device_hours == 1.0
    assert c.total_device_hours == 101.0
    assert c.total_kwh == 12.0  # 2 measured + 8 x 100 W x 12.5 h
