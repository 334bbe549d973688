"""The Pareto fronts of a board: accuracy against latency, and against energy per inference,
with measured and estimated energies never on one front."""

from __future__ import annotations

import pytest

from leaderboard.selectors import leaderboard_track_board
from tests.factories.figures import entry_figures

pytestmark = pytest.mark.django_db


def _entry(add_entry, name: str, *, accuracy: float, speedup: float, energy: tuple[float, str] | None = None):
    figures = entry_figures(speedup=speedup, accuracy=accuracy)
    if energy is not None:
        figures[("submission", "energy_per_inference")] = (energy[0], "mJ", energy[1])
        figures[("reference", "energy_per_inference")] = (1.0, "mJ", energy[1])
    return add_entry(name=name, figures=figures)


def _fronts(benchmark, hardware_class, **kwargs):
    board = leaderboard_track_board(
        benchmark=benchmark, hardware_class=hardware_class, page=1, fronts=True, **kwargs
    ).board
    return [p.name for p in board.latency_front], [p.name for p in board.energy_front], board


def test_the_latency_front_keeps_the_entries_no_other_beats_on_both(add_entry, benchmark, hardware_class) -> None:
    # latency = 200 / speed-up: fast and sloppy, slow and accurate, and one beaten by "balanced"
    _entry(add_entry, "fast", accuracy=0.970, speedup=4.0)
    _entry(add_entry, "balanced", accuracy=0.980, speedup=2.0)
    _entry(add_entry, "beaten", accuracy=0.975, speedup=1.5)
    _entry(add_entry, "accurate", accuracy=0.990, speedup=1.1)
    latency, _, board = _fronts(benchmark, hardware_class)
    assert latency == ["fast", "balanced", "accurate"]  # in order of latency
    marked = {row.name: row.on_latency_front for row in board.rows}
    assert marked == {"fast": True, "balanced": True, "beaten": False, "accurate": True}
    assert "accuracy vs latency" in next(r for r in board.rows if r.name == "fast").pareto_marks


def test_measured_and_estimated_energies_have_fronts_of_their_own(add_entry, benchmark, hardware_class) -> None:
    _entry(add_entry, "measured frugal", accuracy=0.975, speedup=1.2, energy=(0.2, "measured"))
    _entry(add_entry, "measured beaten", accuracy=0.970, speedup=1.3, energy=(0.3, "measured"))
    # Cheaper and more accurate than every measured one, but estimated: it beats none of them.
    _entry(add_entry, "estimated star", accuracy=0.990, speedup=1.4, energy=(0.1, "estimated"))
    _, energy, _ = _fronts(benchmark, hardware_class)
    assert sorted(energy) == ["estimated star", "measured frugal"]


def test_the_fronts_follow_the_filters(add_entry, benchmark, hardware_class) -> None:
    _entry(add_entry, "fast", accuracy=0.970, speedup=4.0)
    slow = _entry(add_entry, "slow but accurate", accuracy=0.990, speedup=1.1)
    slow.submission.division = "own"
    slow.submission.save()
    from leaderboard.selectors import BoardFilters

    # Entries are read once: the division is copied when the entry is written, so write them now.
    latency, _, _ = _fronts(benchmark, hardware_class)
    assert latency == ["fast", "slow but accurate"]
    latency, _, _ = _fronts(benchmark, hardware_class, filters=BoardFilters(division="standard"))
    assert latency == ["fast"]


def test_entries_under_the_floor_or_withheld_are_on_no_front(add_entry, benchmark, hardware_class) -> None:
    _entry(add_entry, "listed", accuracy=0.975, speedup=1.5)
    add_entry(name="under the floor", figures=entry_figures(speedup=9.0, accuracy=0.5), meets_accuracy_floor=False)
    latency, _, _ = _fronts(benchmark, hardware_class)
    assert latency == ["listed"]


def test_the_walk_through_the_index_finds_the_fronts_the_window_finds(add_entry, benchmark, hardware_class) -> None:
    import random

    from django.db import connection

    from leaderboard import fronts
    from leaderboard.selectors import LISTED_ENTRIES, board_entries

    if connection.vendor != "postgresql":
        pytest.skip("the walk is PostgreSQL's (a recursive query with a lateral join)")
    rng = random.Random(3)
    # Few distinct values: ties of cost, of accuracy and of both, as many boards have.
    # Faster entries less accurate, as trade-offs go, so that each front has several points.
    speedups = [1.0, 1.25, 2.0, 2.5, 4.0, 5.0]
    for number in range(60):
        fast = rng.randrange(len(speedups))
        energy = rng.randrange(4)
        _entry(
            add_entry,
            f"entry {number}",
            accuracy=0.99 - 0.003 * (fast + energy) - rng.choice([0.0, 0.002, 0.004]),
            speedup=speedups[fast],
            energy=([0.8, 0.5, 0.3, 0.2][energy], rng.choice(["measured", "estimated"])),
        )
    leaderboard_track_board(benchmark=benchmark, hardware_class=hardware_class, page=1)  # writes the entries
    listed = board_entries(benchmark=benchmark, hardware_class=hardware_class).filter(LISTED_ENTRIES)
    views = [(listed, "latency_p50_us")] + [
        (listed.filter(energy_group=group), "energy_per_inference_mj") for group in (0, 1)
    ]
    # All three walked in one statement, as a board does.
    for (entries, cost), walk in zip(views, fronts._front_walks(views), strict=True):
        window = fronts._front_window(entries, cost)
        assert len(window) >= 2
        # Entries tied on both cost and accuracy are one point; which of them stands for it is arbitrary.
        assert [point[1:] for point in walk] == [point[1:] for point in window]
