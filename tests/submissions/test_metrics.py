"""/metrics: queue lengths from the broker, runs by state, runner heartbeats; a bearer token."""

from __future__ import annotations

import pytest

from benchmarks.models import RunnerStatus
from submissions.metrics import metrics_text
from submissions.models import Run
from tests.factories.rows import make_run, make_submission

pytestmark = pytest.mark.django_db


def test_the_metrics_count_what_waits_what_ran_and_who_reported(hardware_class, owner, benchmark):
    make_run(submission=make_submission(owner=owner, benchmark=benchmark), hardware_class=hardware_class)
    Run.objects.create(submission=make_submission(owner=owner, benchmark=benchmark), hardware_class=hardware_class)
    RunnerStatus.objects.create(
        runner_id="lab-a-1", host="h", hardware_class=hardware_class, hardware_class_name=hardware_class.name,
        state="idle", docker_ok=True,
    )  # fmt: skip
    text = metrics_text(queue_length=lambda queue: 3).decode()
    assert f'footprint_queue_jobs{{hardware_class="{hardware_class.name}",queue="{hardware_class.queue}"}} 3.0' in text
    assert f'footprint_runs{{hardware_class="{hardware_class.name}",state="succeeded"}} 1.0' in text
    assert f'footprint_runs{{hardware_class="{hardware_class.name}",state="queued"}} 1.0' in text
    assert f'footprint_runs{{hardware_class="{hardware_class.name}",state="failed"}} 0.0' in text
    assert (
        'footprint_runner_last_heartbeat_timestamp_seconds{hardware_class="cpu-test",runner="lab-a-1",state="idle"}'
        in text
    )
    assert "footprint_broker_up 1.0" in text


def test_a_broker_that_cannot_say_is_reported_down(hardware_class):
    text = metrics_text(queue_length=lambda queue: None).decode()
    assert "footprint_broker_up 0.0" in text and "footprint_queue_jobs{" not in text


def test_metrics_want_the_bearer_token(client, settings):
    settings.FOOTPRINT_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 403
    settings.FOOTPRINT_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_healthz_answers_when_the_database_does(client):
    assert client.get("/healthz").content == b"ok\n"
