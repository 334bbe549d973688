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
    runner_heartbeat(_status())
    runner_heartbeat(_status(state="busy", detail="measuring run 3"))
    status = RunnerStatus.objects.get()
    assert (status.host, status.hardware_class, status.state, status.detail) == (
        "host-a",
        hardware_class,
        "busy",
        "measuring run 3",
    )
    assert status.versions == {"docker": "26.1"}


def test_a_malformed_heartbeat_is_refused_and_logged(hardware_class, caplog):
    runner_heartbeat(_status(state="dancing"))
    runner_heartbeat("not a status")
    assert not RunnerStatus.objects.exists()
    assert "unknown state 'dancing'" in caplog.text
    assert "must be an object" in caplog.text


def test_a_class_with_a_recent_ready_runner_can_start_runs(hardware_class):
    runner_heartbeat(_status())
    [entry] = runner_overview()
    assert entry.can_start and entry.reason is None
    assert [s.host for s in entry.recent] == ["host-a"]


def test_a_class_whose_runner_cannot_reach_docker_says_why(hardware_class):
    runner_heartbeat(_status(state="unavailable", docker_ok=False, detail="DockerException: socket missing"))
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
    runner_heartbeat(_status())
    RunnerStatus.objects.update(last_seen=timezone.now() - timedelta(seconds=91))
    [entry] = runner_overview()
    assert not entry.can_start and entry.recent == []
    assert [s.host for s in entry.gone] == ["host-a"]
    assert "the last one (its runner) reported 91 s ago" in entry.reason


def test_the_overview_takes_three_queries_whatever_the_number_of_runners(hardware_class, django_assert_num_queries):
    for n in range(5):
        runner_heartbeat(_status(host=f"host-{n}"))
    with django_assert_num_queries(3):  # classes with their queued runs, runners, each class's last run
        runner_overview()


def test_a_runner_for_a_class_that_does_not_exist_is_listed_apart(hardware_class):
    runner_heartbeat(_status(hardware_class="gpu-missing"))
    assert [s.hardware_class_name for s in runners_for_unknown_classes()] == ["gpu-missing"]
    assert runner_overview()[0].recent == []


def test_queued_runs_are_counted_per_class(hardware_class, owner, benchmark):
    for _ in range(3):
        Run.objects.create(submission=make_submission(owner=owner, benchmark=benchmark), hardware_class=hardware_class)
    assert runner_overview()[0].queued_runs == 3
