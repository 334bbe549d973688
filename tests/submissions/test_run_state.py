"""The run state machine (submissions/state.py)."""

from __future__ import annotations

import pytest

from submissions.models import Run, RunTransition
from submissions.state import (
    MAX_ATTEMPTS,
    IllegalTransition,
    run_report_progress,
    run_transition,
)

pytestmark = pytest.mark.django_db


def _states(run: Run) -> list[tuple[str, str, int, bool]]:
    return [
        (t.from_state, t.to_state, t.attempt, t.ignored)
        for t in RunTransition.objects.filter(run=run).order_by("at", "id")
    ]


def test_it_walks_the_happy_path_recording_every_transition_with_its_reason(run):
    for state in ("staging", "compressing", "measuring"):
        run_report_progress(run=run, attempt=1, state=state, reason=f"now {state}")
    run_transition(run=run, to_state="succeeded", reason="the runner sent its result")
    run.refresh_from_db()
    assert run.state == "succeeded" and run.finished_at is not None
    assert _states(run) == [
        ("queued", "staging", 1, False),
        ("staging", "compressing", 1, False),
        ("compressing", "measuring", 1, False),
        ("measuring", "succeeded", 1, False),
    ]
    assert RunTransition.objects.filter(run=run, reason="now compressing").exists()


def test_it_refuses_to_leave_a_terminal_state(run):
    run_transition(run=run, to_state="failed", reason="broken", failure_code="x")
    with pytest.raises(IllegalTransition, match="failed -> succeeded"):
        run_transition(run=run, to_state="succeeded", reason="late")
    run.refresh_from_db()
    assert run.state == "failed"


def test_a_run_a_runner_started_may_be_cancelled_and_then_nothing_moves_it(run):
    run_transition(run=run, to_state="compressing", reason="started")
    run_transition(run=run, to_state="cancelled", reason="user")
    with pytest.raises(IllegalTransition):
        run_transition(run=run, to_state="measuring", reason="a late report")


def test_it_refuses_to_go_back_to_queued_or_to_an_unknown_state(run):
    run_transition(run=run, to_state="staging", reason="started")
    with pytest.raises(IllegalTransition):
        run_transition(run=run, to_state="queued", reason="?")
    with pytest.raises(IllegalTransition, match="unknown run state"):
        run_transition(run=run, to_state="exploded", reason="?")


def test_it_goes_back_to_queued_only_as_a_new_attempt(run):
    run_transition(run=run, to_state="measuring", reason="started")
    run_transition(run=run, to_state="queued", reason="runner lost it", attempt=2)
    assert (run.state, run.attempt) == ("queued", 2)


def test_it_refuses_back_to_staging_unless_it_is_a_new_attempt(run):
    run_transition(run=run, to_state="measuring", reason="started")
    with pytest.raises(IllegalTransition):
        run_transition(run=run, to_state="staging", reason="?")


def test_a_repeated_identical_report_changes_nothing_and_records_nothing(run):
    run_report_progress(run=run, attempt=1, state="staging", reason="loading")
    run_report_progress(run=run, attempt=1, state="compressing", reason="compress")
    assert run_report_progress(run=run, attempt=1, state="compressing", reason="compress") is None
    run.refresh_from_db()
    assert (run.state, run.attempt) == ("compressing", 1)
    assert len(_states(run)) == 2


def test_a_duplicate_seen_through_a_stale_copy_of_the_run_is_recorded_once(run):
    # Two workers handle the same report: both loaded the run while it was staging.
    run_report_progress(run=run, attempt=1, state="staging", reason="loading")
    first, second = Run.objects.get(pk=run.pk), Run.objects.get(pk=run.pk)
    assert run_report_progress(run=first, attempt=1, state="compressing", reason="compress") is not None
    # The second's conditional update matches no row; it re-reads and sees a duplicate.
    assert run_report_progress(run=second, attempt=1, state="compressing", reason="compress") is None
    assert [t[1] for t in _states(run)] == ["staging", "compressing"]


def test_a_stale_copy_cannot_move_a_finished_run(run):
    stale = Run.objects.get(pk=run.pk)
    run_transition(run=run, to_state="succeeded", reason="result")
    with pytest.raises(IllegalTransition):
        run_transition(run=stale, to_state="measuring", reason="late progress")
    run.refresh_from_db()
    assert run.state == "succeeded"


def test_an_earlier_state_reported_out_of_order_is_ignored(run):
    run_report_progress(run=run, attempt=1, state="staging", reason="loading")
    run_report_progress(run=run, attempt=1, state="measuring", reason="measure")
    assert run_report_progress(run=run, attempt=1, state="compressing", reason="late") is None
    run.refresh_from_db()
    assert run.state == "measuring"


def test_a_report_after_the_run_finished_is_recorded_as_ignored_once(run):
    run_transition(run=run, to_state="succeeded", reason="result")
    for _ in range(2):
        assert run_report_progress(run=run, attempt=1, state="measuring", reason="late") is None
    run.refresh_from_db()
    assert run.state == "succeeded"
    assert _states(run)[-1] == ("succeeded", "measuring", 1, True)
    assert RunTransition.objects.filter(run=run, ignored=True).count() == 1


def test_staging_again_while_compressing_is_a_restarted_job_with_a_new_attempt(run):
    run_report_progress(run=run, attempt=1, state="staging", reason="loading")
    run_report_progress(run=run, attempt=1, state="compressing", reason="compress")
    # The runner died; the broker redelivered the same spec (attempt 1) to another runner.
    run_report_progress(run=run, attempt=1, state="staging", reason="loading on host-b")
    run.refresh_from_db()
    assert (run.state, run.attempt) == ("staging", 2)
    restart = RunTransition.objects.filter(run=run).order_by("-id").first()
    assert (restart.from_state, restart.to_state, restart.attempt) == ("compressing", "staging", 2)
    assert restart.reason.startswith("runner restarted the job (attempt 2)")
    # The new attempt proceeds as usual.
    run_report_progress(run=run, attempt=1, state="compressing", reason="compress")
    run.refresh_from_db()
    assert (run.state, run.attempt) == ("compressing", 2)


def test_it_fails_the_run_once_the_runner_was_lost_max_attempts_times(run):
    run_report_progress(run=run, attempt=1, state="staging", reason="loading")
    for expected_attempt in range(2, MAX_ATTEMPTS + 1):
        run_report_progress(run=run, attempt=1, state="measuring", reason="measure")
        run_report_progress(run=run, attempt=1, state="staging", reason="again")
        run.refresh_from_db()
        assert (run.state, run.attempt) == ("staging", expected_attempt)
    run_report_progress(run=run, attempt=1, state="compressing", reason="compress")
    run_report_progress(run=run, attempt=1, state="staging", reason="again")
    run.refresh_from_db()
    assert run.state == "failed"
    assert run.failure_code == "runner_lost"
    assert f"the runner was lost {MAX_ATTEMPTS} times" in run.failure_reason
    assert run.finished_at is not None


def test_a_runner_cannot_report_a_final_state_as_progress(run):
    with pytest.raises(IllegalTransition):
        run_report_progress(run=run, attempt=1, state="succeeded", reason="cheating")
