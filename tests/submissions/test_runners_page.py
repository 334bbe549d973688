"""The runners page: who reported, and why no run can start when none can."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from benchmarks.models import RunnerStatus
from tests.factories.rows import make_hardware_class
from tests.factories.scenes import Demo

pytestmark = pytest.mark.django_db


def test_it_says_why_no_run_can_start_when_no_runner_reported(client: Client, db: None) -> None:
    make_hardware_class(name="cpu-lonely")
    body = client.get("/runners/").content.decode()
    assert "No run can start on cpu-lonely." in body
    assert "no runner has reported; start one with:" in body
    assert "FOOTPRINT_HARDWARE_CLASS=cpu-lonely" in body


def staff_client(django_user_model) -> Client:
    user = django_user_model.objects.create_user(username="operator", password="operator-password-1", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def test_it_lists_a_runner_that_reported_naming_its_host_to_operators_only(
    client: Client, demo: Demo, django_user_model
) -> None:
    body = client.get("/runners/").content.decode()
    assert "runner-1.test" not in body and "a runner" in body
    assert "runner-1.test" in staff_client(django_user_model).get("/runners/").content.decode()
    assert "Runs can start." in body
    assert "docker 20.10, cgroup v1" in body
    assert "No run can start" not in body


def test_it_says_why_when_the_only_runner_has_no_docker(client: Client, demo: Demo) -> None:
    RunnerStatus.objects.update(
        docker_ok=False, state=RunnerStatus.State.UNAVAILABLE, detail="cannot reach the Docker engine"
    )
    body = client.get("/runners/").content.decode()
    assert "No run can start on cpu-local." in body
    assert "its runner cannot run jobs: cannot reach the Docker engine" in body
    assert "not usable" in body


def test_it_says_when_the_runner_went_silent(client: Client, demo: Demo) -> None:
    RunnerStatus.objects.update(last_seen=timezone.now() - timedelta(hours=3))
    body = client.get("/runners/").content.decode()
    assert "No run can start on cpu-local." in body
    assert "the last one (its runner) reported 3 h ago" in body
    assert "gone (no heartbeat)" in body


def test_it_says_when_no_hardware_class_exists(client: Client, db: None) -> None:
    body = client.get("/runners/").content.decode()
    assert "No active hardware class: no run can start" in body


def test_it_lists_runners_of_an_unknown_class(client: Client, demo: Demo) -> None:
    RunnerStatus.objects.create(
        host="stray.test", hardware_class_name="gpu-typo", state=RunnerStatus.State.IDLE, docker_ok=True
    )
    body = client.get("/runners/").content.decode()
    assert "Runners serving no active hardware class" in body
    assert "stray.test" not in body and "gpu-typo" in body


def test_it_shows_the_broker_queues_length_and_the_last_job(client: Client, demo: Demo, settings) -> None:
    body = client.get("/runners/").content.decode()
    section = body[body.index('id="class-cpu-local"') :]
    # The embedded filesystem broker counts its queue; nothing was sent to it in this test.
    assert re.search(r'class="queue-length" data-length="(0|unknown)"', section)
    assert "Runners online</dt><dd>1</dd>" in section
    last = re.search(r'<dd class="last-job">(.*?)</dd>', section, re.DOTALL).group(1)
    assert "run " in last and demo.private.name not in last


def test_a_broker_that_does_not_answer_makes_the_length_unknown_and_says_why(monkeypatch, demo: Demo) -> None:
    from submissions import selectors

    class Down:
        def __enter__(self):
            raise ConnectionRefusedError("connection refused")

        def __exit__(self, *args):
            return False

    from footprint.celery import app

    monkeypatch.setattr(app, "connection_for_read", lambda: Down())
    lengths = selectors.broker_queue_lengths(queues=["runner.cpu-local"])
    assert lengths["runner.cpu-local"].length is None
    assert "the broker did not answer (connection refused)" in lengths["runner.cpu-local"].note


def test_the_last_job_of_a_class_is_never_a_private_submissions_for_others(client: Client, demo: Demo) -> None:
    from submissions.selectors import runner_overview

    [entry] = runner_overview()
    assert entry.last_run is not None and entry.last_run.submission.published
    [mine] = runner_overview(viewer=demo.owner)
    assert mine.last_run is not None
