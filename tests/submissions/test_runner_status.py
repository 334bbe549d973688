"""footprint.runner_heartbeat and what the runners page says per hardware class."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from benchmarks.models import RunnerStatus
from benchmarks.selectors import runners_for_unknown_classes
from submissions.models import Run
from submissions.selectors import runner_overview
from submissions.tasks import runner_heartbeat
from tests.factories.rows import make_submission
from tests.factories.signing import signed_heartbeat

pytestmark = pytest.mark.django_db


def _status(**fields) -> dict:
    status = {
        "host": "host-a",
        "hardware_class": "cpu-test",
        "docker_ok": True,
        "detail": "waiting for jobs",
        "versions": {"docker": "26.1"},
        "state": "idle",
    }
    status.update(fields)
    return status


def test_a_heartbeat_creates_then_updates_one_status_per_runner(hardware_class):
    runner_heartbeat(*signed_heartbeat(_status()))
    runner_heartbeat(*signed_heartbeat(_status(state="busy", detail="measuring run 3")))
    status = RunnerStatus.objects.get()
    assert (status.host, status.hardware_class, status.state, status.detail) == (
        "host-a",
        hardware_class,
        "busy",
        "measuring run 3",
    )
    assert status.versions == {"docker": "26.1"}


def test_a_malformed_heartbeat_is_refused_and_logged(hardware_class, caplog):
    runner_heartbeat(*signed_heartbeat(_status(state="dancing")))
    runner_heartbeat("not a status")
    assert not RunnerStatus.objects.exists()
    assert "unknown state 'dancing'" in caplog.text
    assert "must be an object" in caplog.text


def test_a_class_with_a_recent_ready_runner_can_start_runs(hardware_class):
    runner_heartbeat(*signed_heartbeat(_status()))
    [entry] = runner_overview()
    assert entry.can_start and entry.reason is None
    assert [s.host for s in entry.recent] == ["host-a"]


def test_a_class_whose_runner_cannot_reach_docker_says_why(hardware_class):
    runner_heartbeat(
        *signed_heartbeat(_status(state="unavailable", docker_ok=False, detail="DockerException: socket missing"))
    )
    [entry] = runner_overview()
    assert not entry.can_start
    assert entry.reason == "its runner cannot run jobs: DockerException: socket missing"


def test_a_class_without_any_runner_says_how_to_start_one(hardware_class, run):
    [entry] = runner_overview()
    assert not entry.can_start
    assert entry.queued_runs == 1
    assert entry.reason.startswith("no runner has reported; start one with: ")
    assert "cpu-test" in entry.reason


def test_a_runner_that_missed_three_heartbeats_is_gone(hardware_class):
    runner_heartbeat(*signed_heartbeat(_status()))
    RunnerStatus.objects.update(last_seen=timezone.now() - timedelta(seconds=91))
    [entry] = runner_overview()
    assert not entry.can_start and entry.recent == []
    assert [s.host for s in entry.gone] == ["host-a"]
    assert "the last one (its runner) reported 91 s ago" in entry.reason


def test_the_overview_takes_three_queries_whatever_the_number_of_runners(hardware_class, django_assert_num_queries):
    for n in range(5):
        runner_heartbeat(*signed_heartbeat(_status(host=f"host-{n}")))
    with django_assert_num_queries(3):  # classes with their queued runs, runners, each class's last run
        runner_overview()


def test_the_overview_takes_four_queries_whatever_the_number_of_runners_and_jobs(
    hardware_class, owner, benchmark, django_assert_num_queries
):
    from tests.factories.rows import make_run, make_submission
    from tests.factories.signing import job_token

    for n in range(5):
        runner_heartbeat(*signed_heartbeat(_status(host=f"host-{n}")))
        run = make_run(submission=make_submission(owner=owner, benchmark=benchmark), hardware_class=hardware_class)
        job_token(run, runner=f"host-{n}")
    with django_assert_num_queries(4):  # ... and the runs the runners took last
        [entry] = runner_overview()
        assert all(status.last_run is not None for status in entry.recent)


def test_each_runner_shows_its_last_job_and_a_private_one_unnamed(hardware_class, owner, benchmark, stranger):
    from tests.factories.rows import make_run, make_submission
    from tests.factories.signing import job_token

    public = make_run(submission=make_submission(owner=owner, benchmark=benchmark), hardware_class=hardware_class)
    private = make_run(
        submission=make_submission(owner=owner, benchmark=benchmark, published=False), hardware_class=hardware_class
    )
    runner_heartbeat(*signed_heartbeat(_status(host="host-a")))
    runner_heartbeat(*signed_heartbeat(_status(host="host-b")))
    job_token(public, runner="host-a")
    job_token(private, runner="host-b")
    [entry] = runner_overview(viewer=stranger)
    by_runner = {status.runner_id: status for status in entry.recent}
    assert by_runner["host-a"].last_run == public and not by_runner["host-a"].last_run_hidden
    assert by_runner["host-b"].last_run is None and by_runner["host-b"].last_run_hidden
    [owners_view] = runner_overview(viewer=owner)
    assert {s.runner_id: s.last_run for s in owners_view.recent}["host-b"] == private


def test_the_runners_page_shows_queue_lengths_and_runners_naming_them_to_operators_only(
    hardware_class, client, monkeypatch, django_user_model
):
    from submissions import selectors

    monkeypatch.setattr(
        selectors,
        "broker_queue_lengths",
        lambda *, queues: {
            queue: selectors.QueueLength(7 if queue == hardware_class.queue else None, "") for queue in queues
        },
    )
    runner_heartbeat(*signed_heartbeat(_status()))
    page = client.get("/runners/").content.decode()
    assert "7 jobs waiting" in page
    assert "host-a" not in page and "a runner" in page and "none yet" in page
    operator = django_user_model.objects.create_user(username="operator", password="operator-password-1", is_staff=True)
    client.force_login(operator)
    assert "host-a" in client.get("/runners/").content.decode()


def test_a_heartbeat_not_signed_by_the_runners_credential_is_refused(hardware_class, caplog):
    status, signature = signed_heartbeat(_status())
    runner_heartbeat({**status, "state": "busy"}, signature)
    runner_heartbeat(status, None)
    assert not RunnerStatus.objects.exists()
    assert "refused a runner heartbeat (signature_invalid)" in caplog.text


def test_a_runner_for_a_class_that_does_not_exist_is_listed_apart(hardware_class):
    runner_heartbeat(*signed_heartbeat(_status(hardware_class="gpu-missing")))
    assert [s.hardware_class_name for s in runners_for_unknown_classes()] == ["gpu-missing"]
    assert runner_overview()[0].recent == []


def test_queued_runs_are_counted_per_class(hardware_class, owner, benchmark):
    for _ in range(3):
        Run.objects.create(submission=make_submission(owner=owner, benchmark=benchmark), hardware_class=hardware_class)
    assert runner_overview()[0].queued_runs == 3
