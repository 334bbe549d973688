"""Submissions enqueue runs; dispatch turns a run into a footprint.job/1 sent to its queue."""

from __future__ import annotations

import pytest

from benchmarks.models import HardwareClass
from runners.schema import validate_job
from submissions import services
from submissions.models import Run
from submissions.services import (
    job_spec_for_run,
    run_cancel,
    run_dispatch,
    run_enqueue,
    submission_create,
)
from submissions.state import IllegalTransition

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    """What the platform hands to the broker, instead of a broker."""
    from footprint.celery import app

    calls: list[dict] = []
    monkeypatch.setattr(
        app,
        "send_task",
        lambda name, args=None, queue=None, **kw: calls.append({"name": name, "args": args, "queue": queue}),
    )
    return calls


def test_a_new_submission_queues_one_run_per_active_hardware_class_after_commit(
    owner, benchmark, hardware_class, django_capture_on_commit_callbacks, monkeypatch
):
    HardwareClass.objects.create(name="cpu-retired", cores=1, cpuset="0", active=False)
    dispatched: list[int] = []
    from submissions import tasks

    monkeypatch.setattr(tasks.dispatch_run, "delay", lambda run_id: dispatched.append(run_id))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submission = submission_create(
            owner=owner,
            benchmark=benchmark,
            name="int8",
            description="",
            division="standard",
            tarball_path="submissions/" + "c" * 32 + ".tar",
            tarball_sha256="c" * 64,
            size_bytes=2048,
            image_id="sha256:" + "d" * 64,
        )
    runs = list(submission.runs.all())
    assert [(r.hardware_class.name, r.state) for r in runs] == [("cpu-test", "queued")]
    assert dispatched == []  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()
    assert dispatched == [runs[0].pk]


def test_enqueueing_twice_returns_the_run_already_in_flight(submission, hardware_class):
    first = run_enqueue(submission=submission, hardware_class=hardware_class)
    second = run_enqueue(submission=submission, hardware_class=hardware_class)
    assert first.pk == second.pk
    assert Run.objects.filter(submission=submission).count() == 1


def test_a_finished_run_does_not_block_a_new_one(submission, hardware_class):
    first = run_enqueue(submission=submission, hardware_class=hardware_class)
    Run.objects.filter(pk=first.pk).update(state="failed")
    second = run_enqueue(submission=submission, hardware_class=hardware_class)
    assert second.pk != first.pk


def test_the_job_spec_follows_the_runner_schema_with_file_urls_under_the_storage_root(run, storage_root):
    spec = job_spec_for_run(run)
    validate_job(spec)
    assert spec["run_id"] == run.pk and spec["attempt"] == 1
    assert spec["submission"]["image_location"] == (storage_root / run.submission.tarball_path).as_uri()
    assert spec["benchmark"]["data_location"] == (storage_root / "benchmarks/tiny/1").as_uri() + "/"
    assert spec["benchmark"]["task"]["accuracy_floor"] == pytest.approx(0.98 * 0.98)
    assert spec["benchmark"]["task"]["threads"] == 1
    assert spec["hardware_class"] == {
        "name": "cpu-test",
        "cpuset": "1",
        "cores": 1,
        "gpus": 0,
        "cpu_watts_per_core": None,
    }
    assert spec["limits"]["pids"] == 256 and spec["limits"]["log_tail_bytes"] == 8192
    assert spec["runtime_image"] == "footprint/runtime:1"


def test_dispatch_sends_the_job_to_the_runner_queue_once(run, storage_root, sent):
    assert run_dispatch(run=run) is True
    assert run_dispatch(run=run) is False  # a second dispatch of the same run sends nothing
    assert len(sent) == 1
    assert sent[0]["name"] == "runners.execute_job"
    assert sent[0]["queue"] == "runner.cpu-test"
    assert sent[0]["args"][0]["run_id"] == run.pk
    run.refresh_from_db()
    assert run.dispatched_at is not None and run.state == "queued"


def test_dispatch_leaves_the_run_undispatched_when_the_broker_fails(run, storage_root, monkeypatch):
    from footprint.celery import app

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(app, "send_task", refuse)
    with pytest.raises(ConnectionError):
        run_dispatch(run=run)
    run.refresh_from_db()
    assert run.dispatched_at is None and run.state == "queued"


def test_dispatch_fails_a_run_whose_job_spec_is_invalid(run, storage_root, sent):
    run.hardware_class.cpuset = "the last one"
    run.hardware_class.save()
    assert run_dispatch(run=run) is False
    run.refresh_from_db()
    assert run.state == "failed" and run.failure_code == "invalid_job_spec"
    assert "hardware_class/cpuset" in run.failure_reason
    assert sent == []


def test_dispatch_skips_a_cancelled_run(run, owner, sent):
    run_cancel(run=run, by=owner)
    assert run_dispatch(run=run) is False
    assert sent == []


def test_cancelling_a_queued_run_records_who_did(run, owner):
    run_cancel(run=run, by=owner)
    run.refresh_from_db()
    assert run.state == "cancelled"
    assert run.transitions.get().reason == "cancelled by ada"


def test_a_started_run_is_cancelled_and_every_runner_is_told_to_stop_it(
    run, owner, monkeypatch, django_capture_on_commit_callbacks
):
    from footprint.celery import app

    told: list[tuple] = []
    monkeypatch.setattr(app.control, "broadcast", lambda command, arguments: told.append((command, arguments)))
    services.run_progress_receive(run_id=run.pk, attempt=1, state="staging", reason="loading")
    run.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        run_cancel(run=run, by=owner)
    run.refresh_from_db()
    assert run.state == "cancelled"
    assert told == [("footprint_cancel", {"run_id": run.pk, "reason": run.transitions.last().reason})]
    assert "its runner was told to stop it" in run.transitions.last().reason
    # Its runner's report of the stopped job comes for a finished run: recorded, ignored.
    services.run_progress_receive(run_id=run.pk, attempt=1, state="measuring", reason="late")
    run.refresh_from_db()
    assert run.state == "cancelled"
    with pytest.raises(IllegalTransition, match="nothing to cancel"):
        run_cancel(run=run, by=owner)


def test_a_finished_run_is_queued_again_as_a_new_run_and_one_in_flight_is_returned_as_it_is(run, owner, no_dispatch):
    from submissions.services import run_rerun

    assert run_rerun(run=run, by=owner) == (run, False)  # still queued: nothing new, nothing charged
    run_cancel(run=run, by=owner)
    run.refresh_from_db()
    again, created = run_rerun(run=run, by=owner)
    assert created and again.pk != run.pk and again.state == "queued"
    assert (again.submission_id, again.hardware_class_id) == (run.submission_id, run.hardware_class_id)
    # A second click while the new run is in flight returns the same run.
    assert run_rerun(run=run, by=owner) == (again, False)
