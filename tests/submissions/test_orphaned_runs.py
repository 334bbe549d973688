"""A runner's heartbeat lists the runs it holds; runs it took and no longer holds are sent again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from submissions.models import Run
from submissions.services import ORPHAN_GRACE_S, runs_recover_orphaned
from submissions.state import MAX_ATTEMPTS, run_transition
from submissions.tasks import runner_heartbeat
from tests.factories.signing import signed_heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr("submissions.services._send_dispatch", lambda task, run_id: calls.append(run_id))
    return calls


def started(run: Run, *, host: str = "runner-1", ago_s: int = ORPHAN_GRACE_S + 5) -> Run:
    run_transition(run=run, to_state="compressing", reason="started", runner_host=host)
    Run.objects.filter(pk=run.pk).update(updated=timezone.now() - timedelta(seconds=ago_s))
    run.refresh_from_db()
    return run


def recover(run: Run, running: list[int], host: str = "runner-1") -> dict[str, int]:
    return runs_recover_orphaned(host=host, hardware_class_name=run.hardware_class.name, running_run_ids=running)


def test_it_queues_again_a_run_its_runner_no_longer_holds(run, sent, django_capture_on_commit_callbacks):
    started(run)
    with django_capture_on_commit_callbacks(execute=True):
        assert recover(run, running=[]) == {"requeued": 1, "failed": 0}
    run.refresh_from_db()
    assert (run.state, run.attempt, run.dispatched_at) == ("queued", 2, None)
    assert "stopped working on this run" in run.transitions.latest("at").reason
    assert sent == [run.pk]


def test_it_leaves_a_run_the_runner_still_holds(run, sent):
    started(run)
    assert recover(run, running=[run.pk]) == {"requeued": 0, "failed": 0}
    assert Run.objects.get(pk=run.pk).state == "compressing"


def test_it_leaves_a_run_that_moved_recently(run, sent):
    started(run, ago_s=10)
    assert recover(run, running=[]) == {"requeued": 0, "failed": 0}


def test_it_leaves_a_run_of_another_runner(run, sent):
    started(run, host="runner-2")
    assert recover(run, running=[], host="runner-1") == {"requeued": 0, "failed": 0}


def test_it_fails_a_run_lost_too_often(run, sent):
    Run.objects.filter(pk=run.pk).update(attempt=MAX_ATTEMPTS)
    run.refresh_from_db()
    started(run)
    assert recover(run, running=[]) == {"requeued": 0, "failed": 1}
    run.refresh_from_db()
    assert (run.state, run.failure_code) == ("failed", "runner_lost")
    assert f"lost {MAX_ATTEMPTS} times" in run.failure_reason


def test_the_heartbeat_task_recovers_orphans(run, sent, django_capture_on_commit_callbacks):
    started(run)
    status = {
        "host": "runner-1",
        "hardware_class": run.hardware_class.name,
        "docker_ok": True,
        "detail": "waiting for jobs",
        "versions": {},
        "state": "idle",
        "running": [],
    }
    with django_capture_on_commit_callbacks(execute=True):
        runner_heartbeat(*signed_heartbeat(status))
    assert Run.objects.get(pk=run.pk).state == "queued"
    assert sent == [run.pk]


def test_progress_reports_record_the_runner_host(run):
    from submissions.services import run_progress_receive

    run_progress_receive(run_id=run.pk, attempt=1, state="staging", reason="go", runner_host="runner-9")
    assert Run.objects.get(pk=run.pk).runner_host == "runner-9"
