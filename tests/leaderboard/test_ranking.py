"""leaderboard_rows: ranking by measured speed-up above the accuracy floor."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from benchmarks.models import HardwareClass
from leaderboard.entries import speedup_falls_short
from leaderboard.rows import STORED_CACHE_ALIAS
from leaderboard.selectors import leaderboard_rows
from submissions.models import Run
from submissions.services import run_ingest_result
from tests.factories.documents import result_document
from tests.factories.rows import make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def measure(owner, benchmark, hardware_class):
    """Submit and measure: a published submission with one ingested succeeded run."""

    def make(name: str, *, hardware=None, published: bool = True, **figures) -> Run:
        submission = make_submission(owner=owner, benchmark=benchmark, name=name, published=published)
        run = Run.objects.create(submission=submission, hardware_class=hardware or hardware_class)
        run_ingest_result(document=result_document(run.pk, **figures))
        run.refresh_from_db()
        assert run.state == "succeeded"
        return run

    return make


def _names(rows) -> list[str]:
    return [row.name for row in rows]


def test_rows_are_ranked_by_measured_speedup(benchmark, hardware_class, measure):
    measure("slow", latency_p50_us=140.0)  # 150/140 = 1.07x
    measure("fast", latency_p50_us=50.0)  # 3x
    measure("mid", latency_p50_us=100.0)  # 1.5x
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class)
    assert _names(board.rows) == ["fast", "mid", "slow"]
    assert [row.rank for row in board.rows] == [1, 2, 3]
    assert board.rows[0].speedup == pytest.approx(3.0)
    assert board.rows[0].labels["speedup"] == "measured"
    assert board.sort == "rank"


def test_rows_carry_the_pivoted_figures_and_their_labels(benchmark, hardware_class, measure):
    measure(
        "int8",
        accuracy=0.97,
        reference_accuracy=0.98,
        latency_p50_us=80.0,
        serve_peak_memory_bytes=40_000_000,
        compress_wall_s=33.0,
    )
    [row] = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class).rows
    assert row.accuracy == 0.97
    assert row.accuracy_delta == pytest.approx(-0.01)
    assert (row.latency_p50_us, row.latency_p90_us) == (80.0, pytest.approx(96.0))
    assert row.serve_peak_memory_bytes == 40_000_000
    assert row.compress_wall_s == 33.0
    assert row.owner_name == "ada"
    assert set(row.labels) >= {
        "accuracy",
        "accuracy_delta",
        "latency_p50_us",
        "speedup",
        "serve_peak_memory_bytes",
        "compress_wall_s",
    }


def test_rows_under_the_accuracy_floor_are_listed_apart_without_rank(benchmark, hardware_class, measure):
    measure("honest", accuracy=0.975, latency_p50_us=100.0)
    measure("broken-but-fast", accuracy=0.50, latency_p50_us=10.0)
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class)
    assert _names(board.rows) == ["honest"]
    assert _names(board.under_floor) == ["broken-but-fast"]
    assert board.under_floor[0].rank is None
    assert board.accuracy_floor_fraction == 0.98


def test_an_estimated_speedup_is_not_ranked_against_measured_ones(benchmark, hardware_class, measure):
    measure("estimated", latency_p50_us=10.0, speedup_label="estimated")
    measure("measured", latency_p50_us=100.0)
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class)
    assert [(row.name, row.rank) for row in board.rows] == [("measured", 1), ("estimated", None)]


def test_the_baseline_is_the_reference_of_the_most_recent_job(benchmark, hardware_class, measure):
    measure("older", reference_latency_p50_us=150.0, reference_accuracy=0.98)
    newest = measure("newer", reference_latency_p50_us=155.0, reference_accuracy=0.979)
    baseline = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class).baseline
    assert baseline.run.pk == newest.pk
    assert (baseline.accuracy, baseline.latency_p50_us) == (0.979, 155.0)
    assert baseline.stored_accuracy == benchmark.reference_accuracy
    assert baseline.labels["latency_p50_us"] == "measured"


def test_only_published_submissions_on_this_hardware_class_appear(benchmark, hardware_class, measure):
    other_class = HardwareClass.objects.create(name="cpu-other", cores=1, cpuset="0")
    measure("public")
    measure("private", published=False)
    measure("elsewhere", hardware=other_class)
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class)
    assert _names(board.rows) == ["public"]


def test_a_submission_shows_its_latest_succeeded_run_only(benchmark, hardware_class, measure):
    first = measure("method", latency_p50_us=100.0)
    rerun = Run.objects.create(submission=first.submission, hardware_class=hardware_class)
    run_ingest_result(document=result_document(rerun.pk, latency_p50_us=75.0))
    failed = Run.objects.create(submission=first.submission, hardware_class=hardware_class)
    failed.state = "failed"
    failed.save()
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class)
    assert [(row.name, row.run.pk) for row in board.rows] == [("method", rerun.pk)]
    assert board.rows[0].speedup == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("latency_p50_us", ["fast", "mid", "slow"]),
        ("-latency_p50_us", ["slow", "mid", "fast"]),
        ("accuracy", ["slow", "mid", "fast"]),
        ("serve_peak_memory_bytes", ["mid", "slow", "fast"]),
        ("name", ["fast", "mid", "slow"]),
    ],
)
def test_it_sorts_by_an_allowed_key(benchmark, hardware_class, measure, sort, expected):
    measure("slow", latency_p50_us=140.0, accuracy=0.99, serve_peak_memory_bytes=20)
    measure("fast", latency_p50_us=50.0, accuracy=0.97, serve_peak_memory_bytes=30)
    measure("mid", latency_p50_us=100.0, accuracy=0.98, serve_peak_memory_bytes=10)
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class, sort=sort)
    assert board.sort == sort
    assert _names(board.rows) == expected
    # Sorting reorders; the rank stays the speed-up ranking.
    assert {row.name: row.rank for row in board.rows} == {"fast": 1, "mid": 2, "slow": 3}


def test_a_page_in_another_order_shows_each_entrys_rank_on_the_whole_board(benchmark, hardware_class, measure) -> None:
    # e1 fastest, e5 slowest (ranks 1-5); by accuracy the order is the reverse.
    for number, name in enumerate(["e1", "e2", "e3", "e4", "e5"]):
        measure(name, latency_p50_us=20.0 * (number + 1), accuracy=0.97 + 0.004 * number)
    assert [row.rank for row in leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class).rows] == [
        1,
        2,
        3,
        4,
        5,
    ]
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class, sort="accuracy", page=2, page_size=2)
    # Ranks counted over every entry of the view, not over the page's entries.
    assert [(row.name, row.rank) for row in board.rows] == [("e3", 3), ("e2", 2)]


@pytest.mark.parametrize("sort", ["submission__owner__password", "--speedup", "", None, "rank; DROP"])
def test_an_unknown_sort_key_falls_back_to_the_ranking(benchmark, hardware_class, measure, sort):
    measure("slow", latency_p50_us=140.0)
    measure("fast", latency_p50_us=50.0)
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class, sort=sort)
    assert board.sort == "rank"
    assert _names(board.rows) == ["fast", "slow"]


def test_an_empty_board_has_no_rows_and_no_baseline(benchmark, hardware_class):
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class)
    assert board.is_empty and board.baseline is None


@pytest.mark.parametrize("count", [2, 6])
def test_its_queries_do_not_grow_with_the_number_of_rows(
    benchmark, hardware_class, measure, django_assert_num_queries, count
):
    for n in range(count):
        measure(
            f"method {n}",
            latency_p50_us=50.0 + n,
            accuracy=0.99 if n % 2 else 0.5,
            compression_ratio=10.0,
            theoretical_speedup=10.0,  # measured ~3x: flagged
        )
    leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class)  # writes the new results' entries
    caches[STORED_CACHE_ALIAS].clear()
    # tracks, the results since the newest entry, the board stamp (none inside this test's
    # transaction, which wrote), the three tables' counts, the baseline's key, the three tables'
    # keys, the rows of all three at once, figures, audits, the baseline's run and its figures
    with django_assert_num_queries(15):
        board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class)
        # Everything a page reads from the rows is already loaded.
        for row in board.rows + board.under_floor:
            assert row.owner_name and row.submission.owner.get_username() and row.run.result.pk
            assert row.compression_ratio == 10.0 and row.speedup_falls_short
    assert len(board.rows) + len(board.under_floor) == count
    # Built again: what never changes once stored (figures, audits, the baseline) is kept.
    with django_assert_num_queries(11):
        again = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class)
    assert [(row.name, row.figures, row.audits) for row in again.rows + again.under_floor] == [
        (row.name, row.figures, row.audits) for row in board.rows + board.under_floor
    ]
    assert again.baseline is not None and again.baseline.latency_p50_us == board.baseline.latency_p50_us


def test_rows_carry_the_footprint_ratios_next_to_the_measured_speedup(benchmark, hardware_class, measure):
    measure("unstructured", latency_p50_us=150.0, compression_ratio=9.86, theoretical_speedup=2.58)
    measure("declares", latency_p50_us=75.0, compression_ratio=4.0, theoretical_speedup=2.0, footprint_label="declared")
    measure("no footprint", latency_p50_us=100.0)
    rows = {row.name: row for row in leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class).rows}
    unstructured = rows["unstructured"]
    assert (unstructured.compression_ratio, unstructured.theoretical_speedup) == (9.86, 2.58)
    assert unstructured.speedup == pytest.approx(1.0)
    assert unstructured.labels["compression_ratio"] == unstructured.labels["theoretical_speedup"] == "measured"
    assert unstructured.speedup_falls_short
    assert rows["declares"].labels["theoretical_speedup"] == "declared"
    assert not rows["declares"].speedup_falls_short  # 2.0x measured, 2.0x promised
    assert rows["no footprint"].compression_ratio is None and not rows["no footprint"].speedup_falls_short


@pytest.mark.parametrize(
    ("measured", "theoretical", "flagged"),
    [
        (1.0, 2.58, True),  # unstructured pruning: zeros a dense kernel still multiplies
        (1.28, 2.58, True),
        (1.30, 2.58, False),  # at least half the promise is realised
        (0.5, 1.5, False),  # a promise of 1.5x or less is not worth a flag
        (0.7, 1.6, True),
        (1.8, 1.0, False),  # structured pruning: faster than its (dense) count suggests
        (None, 3.0, False),
        (1.0, None, False),
    ],
)
def test_the_smaller_not_faster_rule(measured, theoretical, flagged):
    assert speedup_falls_short(measured=measured, theoretical=theoretical) is flagged


def test_it_sorts_by_the_footprint_ratios(benchmark, hardware_class, measure):
    measure("a", compression_ratio=2.0, theoretical_speedup=5.0)
    measure("b", compression_ratio=8.0, theoretical_speedup=1.0)
    measure("c")
    by_ratio = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class, sort="compression_ratio")
    assert _names(by_ratio.rows) == ["b", "a", "c"]
    by_theory = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class, sort="theoretical_speedup")
    assert _names(by_theory.rows) == ["a", "b", "c"]
