"""The leaderboard's track boards: small-lab ranks small-lab entries only, large-lab all."""

from __future__ import annotations

import pytest

from budgets.selectors import leaderboard_track_filter, track_from_slug, tracks_for_benchmark
from leaderboard.selectors import leaderboard_rows

from .conftest import compress_figures

HOUR_S = 3600.0
BIG_SEARCH = {"device_type": "GPU", "device_count": 10, "hours": 10.0, "energy_kwh": 50.0}  # 100 device-hours
UNKNOWN_ENERGY = {"device_type": "GPU", "device_count": 1, "hours": 1.0}


@pytest.fixture
def board(make_result, benchmark, hardware_class):
    # Ranked by measured speed-up: large (3x), medium (2x), small (1.5x).
    make_result(speedup=1.5, figures=compress_figures(wall_s=HOUR_S, energy_j=3.6e6))
    make_result(speedup=2.0, method={"name": "m", "search": BIG_SEARCH})
    make_result(speedup=3.0, method={"name": "m", "search": UNKNOWN_ENERGY})
    return leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class)


def names_and_ranks(entries) -> list[tuple[int | None, str, str]]:
    return [(e.row.rank, e.row.name, e.budget.track.slug) for e in entries]


def test_the_small_lab_board_ranks_small_lab_entries_only(board, benchmark):
    tracks = tracks_for_benchmark(benchmark=benchmark)
    entries = leaderboard_track_filter(
        rows=board.rows, track=track_from_slug(tracks=tracks, slug="small-lab"), tracks=tracks
    )
    assert names_and_ranks(entries) == [(1, "method 1", "small-lab")]
    assert entries[0].budget.has_declared is False


def test_the_medium_board_holds_what_fits_its_limits_renumbered(board, benchmark):
    tracks = tracks_for_benchmark(benchmark=benchmark)
    entries = leaderboard_track_filter(
        rows=board.rows, track=track_from_slug(tracks=tracks, slug="medium"), tracks=tracks
    )
    assert names_and_ranks(entries) == [(1, "method 2", "medium"), (2, "method 1", "small-lab")]
    assert [e.budget.has_declared for e in entries] == [True, False]


def test_the_large_lab_board_shows_everything_with_its_track_and_declared_mark(board, benchmark):
    tracks = tracks_for_benchmark(benchmark=benchmark)
    entries = leaderboard_track_filter(
        rows=board.rows, track=track_from_slug(tracks=tracks, slug="large-lab"), tracks=tracks
    )
    assert names_and_ranks(entries) == [
        (1, "method 3", "large-lab"),
        (2, "method 2", "medium"),
        (3, "method 1", "small-lab"),
    ]
    assert entries[0].budget.as_dict()["search_cost"]["declared"]["label"] == "declared"
    assert entries[0].budget.as_dict()["track"] == "large-lab"


def test_no_track_keeps_every_row_and_its_rank(board, benchmark):
    entries = leaderboard_track_filter(rows=board.rows, track=None, tracks=tracks_for_benchmark(benchmark=benchmark))
    assert [e.row for e in entries] == board.rows


def test_it_copies_the_rows_and_leaves_the_board_unchanged(board, benchmark):
    tracks = tracks_for_benchmark(benchmark=benchmark)
    leaderboard_track_filter(rows=board.rows, track=track_from_slug(tracks=tracks, slug="small-lab"), tracks=tracks)
    assert [(r.rank, r.name) for r in board.rows] == [(1, "method 3"), (2, "method 2"), (3, "method 1")]


def test_it_takes_row_dicts_that_carry_the_result(make_result, benchmark):
    small = make_result(figures=compress_figures(wall_s=HOUR_S, energy_j=1.0))
    big = make_result(method={"name": "m", "search": BIG_SEARCH})
    rows = [{"name": "big", "rank": 1, "result": big}, {"name": "small", "rank": 2, "result": small}]
    tracks = tracks_for_benchmark(benchmark=benchmark)
    entries = leaderboard_track_filter(rows=rows, track=tracks[0], tracks=tracks)
    assert [(e.row["name"], e.row["rank"]) for e in entries] == [("small", 1)]
    assert rows[1]["rank"] == 2


def test_its_queries_do_not_grow_with_the_rows(make_result, benchmark, hardware_class, django_assert_num_queries):
    tracks = tracks_for_benchmark(benchmark=benchmark)
    make_result()
    one = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class).rows
    with django_assert_num_queries(1):  # the runs' hardware classes; figures are prefetched
        leaderboard_track_filter(rows=one, track=tracks[0], tracks=tracks)
    for _ in range(4):
        make_result()
    five = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class).rows
    with django_assert_num_queries(1):
        entries = leaderboard_track_filter(rows=five, track=tracks[0], tracks=tracks)
    assert len(entries) == 5
