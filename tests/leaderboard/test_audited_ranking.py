"""Audits decide the rank: a failed audit or an invalidation keeps an entry off the ranking,
whatever its speed-up, and the honest entries keep their order."""

from __future__ import annotations

import pytest

from leaderboard.selectors import leaderboard_rows, leaderboard_track_board
from submissions.models import Result, Run
from submissions.services import result_invalidate, run_ingest_result
from submissions.standing import Standing
from tests.factories.documents import audit, failed_timed_predictions, figure, result_document
from tests.factories.rows import make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def measure(owner, benchmark, hardware_class):
    """Submit and measure through ingestion; `audits`/`flags` go into the result document."""

    def make(name: str, *, latency_p50_us: float, audits=None, flags=None, extra_figures=()) -> Run:
        run = Run.objects.create(
            submission=make_submission(owner=owner, benchmark=benchmark, name=name), hardware_class=hardware_class
        )
        document = result_document(run.pk, latency_p50_us=latency_p50_us)
        if audits is not None:
            document["audits"] = audits
        if flags is not None:
            document["flags"] = flags
        document["figures"] += list(extra_figures)
        run_ingest_result(document=document)
        run.refresh_from_db()
        assert run.state == Run.SUCCEEDED
        return run

    return make


def _board(benchmark, hardware_class):
    return leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class)


def test_a_result_whose_audit_failed_is_never_ranked_even_when_it_is_the_fastest(measure, benchmark, hardware_class):
    measure("honest slow", latency_p50_us=120.0, audits=[audit("timed_predictions", "passed")])
    measure("cheater", latency_p50_us=10.0, audits=[failed_timed_predictions(rate=0.9)])
    measure("honest fast", latency_p50_us=60.0, audits=[audit("timed_predictions", "passed")])
    board = _board(benchmark, hardware_class)
    assert [(row.rank, row.name) for row in board.rows] == [(1, "honest fast"), (2, "honest slow")]
    [withheld] = board.withheld
    assert (withheld.name, withheld.rank, withheld.standing) == ("cheater", None, Standing.AUDIT_FAILED)
    assert "audit timed_predictions" in withheld.unranked_reason
    assert "prediction_mismatch_rate 90.00 %" in withheld.unranked_reason
    assert "90% of the timed replies differ" in withheld.unranked_reason
    assert [a.name for a in withheld.failed_audits] == ["timed_predictions"]


def test_an_older_runners_flagged_results_are_never_ranked(measure, benchmark, hardware_class):
    measure("honest", latency_p50_us=100.0, flags=["unstable"])
    measure(
        "constant answer",
        latency_p50_us=15.0,
        flags=["predictions_differ"],
        extra_figures=[figure("submission", "prediction_mismatch_rate", 0.9, "fraction")],
    )
    measure(
        "reply cache",
        latency_p50_us=20.0,
        flags=["cache_suspected"],
        extra_figures=[figure("submission", "repeat_latency_ratio", 0.2, "ratio")],
    )
    board = _board(benchmark, hardware_class)
    assert [(row.rank, row.name) for row in board.rows] == [(1, "honest")]
    assert sorted(row.name for row in board.withheld) == ["constant answer", "reply cache"]
    assert all(row.standing == Standing.AUDIT_FAILED for row in board.withheld)


def test_an_invalidated_result_leaves_the_ranking_and_the_next_entries_move_up(
    measure, benchmark, hardware_class, owner
):
    first = measure("first", latency_p50_us=50.0)
    measure("second", latency_p50_us=70.0)
    measure("third", latency_p50_us=90.0)
    result_invalidate(result=Result.objects.get(run=first), by=owner, reason="precomputed replies")
    board = _board(benchmark, hardware_class)
    assert [(row.rank, row.name) for row in board.rows] == [(1, "second"), (2, "third")]
    [withheld] = board.withheld
    assert (withheld.name, withheld.standing) == ("first", Standing.INVALIDATED)
    assert withheld.unranked_reason.endswith(": precomputed replies")


def test_audits_that_passed_or_did_not_run_keep_a_result_ranked(measure, benchmark, hardware_class):
    measure("checked", latency_p50_us=50.0, audits=[audit("timed_predictions", "passed"), audit("probe", "not_run")])
    board = _board(benchmark, hardware_class)
    assert [(row.rank, row.name, row.standing) for row in board.rows] == [(1, "checked", Standing.RANKED)]
    assert board.withheld == []


def test_the_baseline_is_not_taken_from_a_job_whose_result_is_withheld(measure, benchmark, hardware_class):
    honest = measure("honest", latency_p50_us=50.0)
    measure("cheater", latency_p50_us=10.0, audits=[failed_timed_predictions()])  # the newest job
    assert _board(benchmark, hardware_class).baseline.run == honest


def test_every_track_board_keeps_a_withheld_entry_apart(measure, benchmark, hardware_class):
    measure("honest", latency_p50_us=100.0)
    measure("cheater", latency_p50_us=10.0, audits=[failed_timed_predictions()])
    tracked = leaderboard_track_board(benchmark=benchmark, hardware_class=hardware_class, track_slug="large-lab")
    assert [(row.rank, row.name) for row in tracked.board.rows] == [(1, "honest")]
    assert [row.name for row in tracked.board.withheld] == ["cheater"]
    assert tracked.entries_total == 2
