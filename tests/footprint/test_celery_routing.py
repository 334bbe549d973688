"""The platform's Celery configuration: reliability settings and routing."""

from __future__ import annotations

import pytest
from kombu import Queue

from footprint.celery import app, route_task


def test_the_platform_app_acknowledges_late_and_reserves_one_message():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_default_queue == "platform"


def test_the_platform_tasks_are_registered_under_the_names_the_runners_use():
    app.loader.import_default_modules()
    for name in (
        "footprint.run_progress",
        "footprint.run_result",
        "footprint.runner_heartbeat",
        "footprint.sweep_stuck_runs",
        "footprint.dispatch_run",
    ):
        assert name in app.tasks, name
    assert "runners.execute_job" not in app.tasks


def test_the_sweeper_runs_every_minute():
    entry = app.conf.beat_schedule["sweep-stuck-runs"]
    assert (entry["task"], entry["schedule"]) == ("footprint.sweep_stuck_runs", 60.0)


def test_platform_tasks_are_routed_to_the_platform_queue():
    queue = app.amqp.router.route({}, "footprint.run_result", args=[{}])["queue"]
    assert queue.name == "platform"


def test_a_job_goes_to_the_runner_queue_it_is_sent_to():
    queue = app.amqp.router.route({"queue": "runner.cpu-local"}, "runners.execute_job", args=[{}])["queue"]
    assert queue.name == "runner.cpu-local"


def test_a_job_without_a_runner_queue_is_refused_rather_than_sent_to_the_platform_queue():
    with pytest.raises(ValueError, match=r"runner.<hardware class> queue"):
        app.amqp.router.route({}, "runners.execute_job", args=[{}])
    with pytest.raises(ValueError):
        route_task("runners.execute_job", [], {}, {"queue": Queue("platform")})
