"""Track assignment at the limits: exactly at a limit fits, just above does not."""

from __future__ import annotations

import pytest

from budgets.models import Track
from budgets.tracks import track_for, track_misfit_reasons
from tests.factories.figures import default_tracks, search_cost

HOUR_S = 3600.0
KWH_J = 3.6e6


def assigned(c) -> str | None:
    track = track_for(cost=c, tracks=default_tracks())
    return track.slug if track is not None else None


@pytest.mark.parametrize(
    ("device_hours", "kwh", "slug"),
    [
        (24.0, 10.0, "small-lab"),  # exactly at both limits
        (24.0 + 1 / HOUR_S, 10.0, "medium"),  # one second above 24 device-hours
        (24.0, 10.0 + 1 / KWH_J, "medium"),  # one joule above 10 kWh
        (500.0, 200.0, "medium"),
        (500.0 + 1 / HOUR_S, 200.0, "large-lab"),
        (500.0, 200.0 + 1 / KWH_J, "large-lab"),
        (0.0, 0.0, "small-lab"),
        (10_000.0, 9_000.0, "large-lab"),
    ],
)
def test_it_assigns_the_smallest_track_the_measured_totals_fit(device_hours, kwh, slug):
    assert assigned(search_cost(wall_s=device_hours * HOUR_S, energy_j=kwh * KWH_J)) == slug


def test_a_gpu_class_counts_each_gpu_as_a_device():
    # 6 h wall on 4 GPUs = 24 device-hours: at the small-lab limit; one second more is not.
    assert assigned(search_cost(wall_s=6 * HOUR_S, gpus=4, energy_j=0.0)) == "small-lab"
    assert assigned(search_cost(wall_s=6 * HOUR_S + 1, gpus=4, energy_j=0.0)) == "medium"


def test_the_declared_search_counts_towards_the_limits():
    search = {"device_type": "GPU", "device_count": 2, "hours": 11.5, "energy_kwh": 9.0}
    # 1 h measured + 2 x 11.5 h declared = 24 device-hours; 1 kWh + 9 kWh = 10 kWh.
    assert assigned(search_cost(wall_s=HOUR_S, energy_j=KWH_J, search=search)) == "small-lab"
    assert assigned(search_cost(wall_s=HOUR_S + 1, energy_j=KWH_J, search=search)) == "medium"
    assert assigned(search_cost(wall_s=HOUR_S, energy_j=KWH_J + 1, search=search)) == "medium"


def test_a_sum_at_a_limit_is_at_the_limit_despite_float_rounding():
    # 7.8 h measured + 3 x 5.4 h declared: 24 in decimal, 24.000000000000004 in floats.
    search = {"device_type": "GPU", "device_count": 3, "hours": 5.4, "energy_kwh": 0.0}
    c = search_cost(wall_s=28080.0, energy_j=0.0, search=search)
    assert c.total_device_hours > 24.0
    assert assigned(c) == "small-lab"


def test_an_unknown_energy_fits_no_track_with_a_kwh_limit():
    c = search_cost(wall_s=60.0, energy_j=None)
    assert assigned(c) == "large-lab"
    reasons = track_misfit_reasons(cost=c, track=default_tracks()[0])
    assert reasons and "energy is unknown" in reasons[0]


def test_an_unknown_declared_energy_puts_a_tiny_search_on_the_unlimited_track():
    search = {"device_type": "GPU", "device_count": 1, "hours": 0.5}
    assert assigned(search_cost(wall_s=60.0, energy_j=10.0, search=search)) == "large-lab"


def test_unknown_device_hours_fit_no_track_with_an_hours_limit():
    c = search_cost(wall_s=None, energy_j=0.0)
    assert assigned(c) == "large-lab"


def test_a_track_with_only_an_energy_limit_ignores_the_hours():
    tracks = [Track(slug="green", name="Green", order=1, max_device_hours=None, max_kwh=1.0), *default_tracks()]
    assert assigned_in(tracks, search_cost(wall_s=1000 * HOUR_S, energy_j=KWH_J)) == "green"
    assert assigned_in(tracks, search_cost(wall_s=1000 * HOUR_S, energy_j=KWH_J + 1)) == "large-lab"


def assigned_in(tracks, c) -> str | None:
    track = track_for(cost=c, tracks=tracks)
    return track.slug if track is not None else None


def test_tracks_are_tried_by_order_not_by_list_position():
    assert assigned_in(list(reversed(default_tracks())), search_cost(wall_s=HOUR_S, energy_j=0.0)) == "small-lab"


def test_without_an_unlimited_track_a_large_result_fits_none():
    limited = default_tracks()[:2]
    assert track_for(cost=search_cost(wall_s=10_000 * HOUR_S, energy_j=0.0), tracks=limited) is None
    assert track_for(cost=search_cost(wall_s=HOUR_S, energy_j=0.0), tracks=[]) is None


def test_the_misfit_reasons_name_the_figures_and_the_limits():
    reasons = track_misfit_reasons(cost=search_cost(wall_s=30 * HOUR_S, energy_j=12 * KWH_J), track=default_tracks()[0])
    assert reasons == ["Small lab: 30 device-hours > 24", "Small lab: 12 kWh > 10 kWh"]
