"""leaderboard_track_board: one board per budget track, ranks renumbered, budgets on every row."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import Track
from leaderboard.rows import STORED_CACHE_ALIAS
from leaderboard.selectors import UnknownTrack, leaderboard_track_board, track_limits_text
from tests.factories.figures import search

pytestmark = pytest.mark.django_db

# Measured: 1 device-hour and 1 kWh each (a CPU class is one device).
AT_LIMIT = search(device_count=23, hours=1.0, energy_kwh=9.0)  # totals 24 device-hours, 10 kWh
ENERGY_ABOVE = search(device_count=23, hours=1.0, energy_kwh=9.001)  # 10.001 kWh
HOURS_ABOVE = search(device_count=23, hours=1.0001, energy_kwh=1.0)  # 24.0023 device-hours


@pytest.fixture
def add(add_entry):
    return lambda name, **fields: add_entry(name=name, **fields)


@pytest.fixture
def board(add):
    add("at the limit", speedup=1.5, search=AT_LIMIT)
    add("energy above", speedup=3.0, search=ENERGY_ABOVE)
    add("hours above", speedup=2.5, search=HOURS_ABOVE)
    add("measured only", speedup=2.0)
    add("energy unknown", speedup=4.0, compress_energy_j=None)
    add("too inaccurate", speedup=9.0, accuracy=0.5, meets_accuracy_floor=False)


def _board(benchmark, hardware_class, **kwargs):
    return leaderboard_track_board(benchmark=benchmark, hardware_class=hardware_class, **kwargs)


def _ranked(tracked) -> list[tuple[int | None, str, str, bool]]:
    return [(r.rank, r.name, r.budget.track.slug, r.budget.has_declared) for r in tracked.board.rows]


def test_the_default_board_is_the_track_without_limits_and_shows_everything(board, benchmark, hardware_class):
    tracked = _board(benchmark, hardware_class)
    assert tracked.track.slug == "large-lab" and tracked.is_default and tracked.track_slug is None
    assert _ranked(tracked) == [
        (1, "energy unknown", "large-lab", False),
        (2, "energy above", "medium", True),
        (3, "hours above", "medium", True),
        (4, "measured only", "small-lab", False),
        (5, "at the limit", "small-lab", True),
    ]
    assert [r.name for r in tracked.board.under_floor] == ["too inaccurate"]
    assert tracked.entries_total == 6


def test_the_small_lab_board_keeps_an_entry_exactly_at_its_limits_and_none_above(board, benchmark, hardware_class):
    tracked = _board(benchmark, hardware_class, track_slug="small-lab")
    assert (tracked.track.slug, tracked.track_slug, tracked.is_default) == ("small-lab", "small-lab", False)
    assert _ranked(tracked) == [(1, "measured only", "small-lab", False), (2, "at the limit", "small-lab", True)]
    at_limit = tracked.board.rows[1].budget.cost
    assert (at_limit.total_device_hours, at_limit.total_kwh) == (24.0, 10.0)
    assert [r.name for r in tracked.board.under_floor] == ["too inaccurate"]


def test_the_medium_board_holds_the_entries_within_its_limits_renumbered(board, benchmark, hardware_class):
    tracked = _board(benchmark, hardware_class, track_slug="medium")
    assert [(rank, name) for rank, name, *_ in _ranked(tracked)] == [
        (1, "energy above"),
        (2, "hours above"),
        (3, "measured only"),
        (4, "at the limit"),
    ]


def test_the_sort_applies_within_the_board(board, benchmark, hardware_class):
    tracked = _board(benchmark, hardware_class, track_slug="small-lab", sort="name")
    assert tracked.board.sort == "name"
    assert [r.name for r in tracked.board.rows] == ["at the limit", "measured only"]
    assert [r.rank for r in tracked.board.rows] == [2, 1]  # ranks stay those of the board's ranking


def test_an_energy_sort_recomputes_its_captions_among_the_boards_entries(add, benchmark, hardware_class):
    add("measured small", per_inference_mj=(0.5, 0.3, "measured"))
    # The lowest estimated energy, but on the large-lab board only (its compress energy is unknown).
    add("estimated large", per_inference_mj=(0.5, 0.1, "estimated"), compress_energy_j=None)
    add("estimated small", per_inference_mj=(0.5, 0.2, "estimated"), compress_energy_label="estimated")
    everything = _board(benchmark, hardware_class, sort="energy_per_inference_mj")
    assert [(r.name, r.sort_caption) for r in everything.board.rows] == [
        ("measured small", ""),
        ("estimated large", "estimated \u2014 not ranked against measured"),
        ("estimated small", ""),
    ]
    small = _board(benchmark, hardware_class, sort="energy_per_inference_mj", track_slug="small-lab")
    assert [(r.name, r.sort_caption) for r in small.board.rows] == [
        ("measured small", ""),
        ("estimated small", "estimated \u2014 not ranked against measured"),
    ]


def test_an_unknown_track_is_refused_with_the_known_ones(board, benchmark, hardware_class):
    with pytest.raises(UnknownTrack) as raised:
        _board(benchmark, hardware_class, track_slug="tiny-lab")
    assert raised.value.slug == "tiny-lab"
    assert str(raised.value) == (
        "this benchmark has no budget track 'tiny-lab'; its tracks are: small-lab, medium, large-lab"
    )


def test_a_benchmark_without_tracks_shows_every_entry_without_a_track(add, benchmark, hardware_class):
    add("alone", search=AT_LIMIT)
    Track.objects.filter(benchmark=benchmark).delete()
    tracked = _board(benchmark, hardware_class)
    assert (tracked.track, tracked.tracks) == (None, [])
    assert [(r.rank, r.name, r.budget.track, r.budget.has_declared) for r in tracked.board.rows] == [
        (1, "alone", None, True)
    ]
    with pytest.raises(UnknownTrack, match="its tracks are: none"):
        _board(benchmark, hardware_class, track_slug="small-lab")


def test_without_a_track_free_of_limits_the_default_board_shows_every_entry(board, benchmark, hardware_class):
    Track.objects.filter(benchmark=benchmark, slug="large-lab").update(max_kwh=1000.0)
    tracked = _board(benchmark, hardware_class)
    assert (tracked.track, tracked.default_track, tracked.track_slug) == (None, None, None)
    assert len(tracked.board.rows) == 5
    unknown = next(r for r in tracked.board.rows if r.name == "energy unknown")
    assert unknown.budget.track is None  # fits no track: every one has a kWh limit


def test_its_queries_do_not_grow_with_the_entries(add, benchmark, hardware_class):
    def count() -> int:
        caches[STORED_CACHE_ALIAS].clear()  # figures, audits and the baseline read every time
        with CaptureQueriesContext(connection) as queries:
            _board(benchmark, hardware_class, track_slug="small-lab")
        return len(queries)

    add("one", search=AT_LIMIT)
    count()  # the first read writes the new results' board entries
    once = count()
    for number in range(4):
        add(f"more {number}", search=ENERGY_ABOVE)
    count()
    # tracks, the results since the newest entry, the board stamp (none: this test's transaction
    # wrote), the three tables' counts, the baseline's key, the three tables' keys, the rows,
    # figures, audits, the baseline's run and its figures
    assert count() == once == 15


def test_track_limits_in_words(benchmark):
    assert [track_limits_text(t) for t in Track.objects.filter(benchmark=benchmark)] == [
        "\u2264 24 device-hours and \u2264 10 kWh",
        "\u2264 500 device-hours and \u2264 200 kWh",
        "no limit",
    ]
