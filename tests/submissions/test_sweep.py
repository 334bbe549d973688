"""footprint.sweep_stuck_runs: silent runs fail, queued runs wait, lost dispatches are resent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from submissions import services, tasks
from submissions.models import Run
from submissions.services import runs_redispatch_lost, runs_sweep_stuck
from submissions.state import run_report_progress

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatched(monkeypatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(tasks.dispatch_run, "delay", lambda run_id: calls.append(run_id))
    return calls


def _silence(run: Run, seconds: float) -> None:
    Run.objects.filter(pk=run.pk).update(updated=timezone.now() - timedelta(seconds=seconds))


def test_a_run_silent_longer_than_its_limits_fails_saying_the_runner_stopped_reporting(run, settings, dispatched):
    run_report_progress(run=run, attempt=1, state="compressing", reason="compress")
    limit_s = run.submission.benchmark.longest_silence_s(margin_s=settings.FOOTPRINT_STUCK_RUN_MARGIN_S)
    _silence(run, limit_s + 5)
    assert runs_sweep_stuck() == {"failed": 1, "redispatched": 0, "lost_dispatches": 0}
    run.refresh_from_db()
    assert run.state == "failed" and run.failure_code == "runner_silent"
    assert run.failure_reason.startswith("the runner stopped reporting")


def test_a_run_within_its_limits_is_left_alone(run, settings, dispatched):
    run_report_progress(run=run, attempt=1, state="measuring", reason="measure")
    limit_s = run.submission.benchmark.longest_silence_s(margin_s=settings.FOOTPRINT_STUCK_RUN_MARGIN_S)
    _silence(run, limit_s - 60)
    assert runs_sweep_stuck()["failed"] == 0
    run.refresh_from_db()
    assert run.state == "measuring"


def test_the_limit_covers_compress_every_serve_container_and_the_margin(benchmark):
    benchmark.compress_wall_s, benchmark.serve_ready_s, benchmark.serve_wall_s = 100, 10, 50
    benchmark.serve_repeats = 2
    # Three servers twice each, then up to 8 declared batch sizes and the reference offline.
    assert benchmark.longest_silence_s(margin_s=7) == 100 + (3 * 2 + 9) * (10 + 50) + 7


def test_an_old_queued_run_whose_message_waits_stays_queued(run, dispatched, monkeypatch):
    # No runner for its class yet: its message waits in the queue, however long.
    monkeypatch.setattr(services, "broker_queue_length", lambda queue: 1)
    Run.objects.filter(pk=run.pk).update(
        created=timezone.now() - timedelta(days=3),
        updated=timezone.now() - timedelta(days=3),
        dispatched_at=timezone.now() - timedelta(days=3),
    )
    assert runs_sweep_stuck() == {"failed": 0, "redispatched": 0, "lost_dispatches": 0}
    run.refresh_from_db()
    assert run.state == "queued"
    assert dispatched == []


def test_a_queued_run_that_never_reached_the_broker_is_dispatched_again(run, settings, dispatched):
    Run.objects.filter(pk=run.pk).update(
        created=timezone.now() - timedelta(seconds=settings.FOOTPRINT_REDISPATCH_AFTER_S + 1)
    )
    assert runs_sweep_stuck()["redispatched"] == 1
    assert dispatched == [run.pk]


def _dispatched_long_ago(run: Run, settings) -> None:
    Run.objects.filter(pk=run.pk).update(
        dispatched_at=timezone.now() - timedelta(seconds=settings.FOOTPRINT_REDISPATCH_AFTER_S + 1)
    )


def test_a_dispatched_run_whose_message_is_gone_from_an_empty_queue_is_dispatched_again(run, settings, dispatched):
    _dispatched_long_ago(run, settings)
    asked: list[str] = []
    assert runs_redispatch_lost(queue_length=lambda queue: asked.append(queue) or 0) == 1
    assert asked == [run.hardware_class.queue] and dispatched == [run.pk]
    run.refresh_from_db()
    assert run.state == "queued" and run.dispatched_at is None  # the new dispatch claims it again


@pytest.mark.parametrize("waiting", [3, None], ids=["messages-wait", "broker-cannot-say"])
def test_nothing_is_resent_while_the_queue_holds_messages_or_cannot_be_read(run, settings, dispatched, waiting):
    _dispatched_long_ago(run, settings)
    assert runs_redispatch_lost(queue_length=lambda queue: waiting) == 0
    assert dispatched == []


def test_a_run_dispatched_a_moment_ago_is_not_taken_for_lost(run, dispatched):
    Run.objects.filter(pk=run.pk).update(dispatched_at=timezone.now())
    assert runs_redispatch_lost(queue_length=lambda queue: 0) == 0
