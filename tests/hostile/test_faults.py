"""Faults of the platform's own parts while a real submission runs: a broker restart, a
database restart while the result arrives, the same job delivered twice, a dispatch whose
message is lost. One result per run, nothing lost."""

from __future__ import annotations

import time
from urllib.parse import urlparse, urlunparse

import pytest
from django.db import connection

from footprint.celery import app as platform_app
from submissions.models import Result, Run
from submissions.services import JOB_TASK, job_spec_for_run, runs_redispatch_lost
from tests.fixtures.proxy import FlakyProxy
from tests.integration.test_platform_and_runner import IDENTITY, RUN_TIMEOUT_S, broker

pytestmark = [pytest.mark.docker, pytest.mark.services, pytest.mark.hostile, pytest.mark.django_db(transaction=True)]

SLOW_IDENTITY = IDENTITY.replace("import shutil, footprint_sdk", "import shutil, time, footprint_sdk\ntime.sleep(8)")


def through(url: str, proxy: FlakyProxy) -> str:
    parsed = urlparse(url)
    netloc = parsed.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return urlunparse(parsed._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


def wait_for(run: Run, states: tuple[str, ...], timeout_s: float = RUN_TIMEOUT_S) -> Run:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.state in states:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run.pk} still {run.state}, waited for {states}")


@pytest.fixture
def rabbitmq_proxy():
    url = broker("rabbitmq")
    parsed = urlparse(url)
    proxy = FlakyProxy(parsed.hostname, parsed.port or 5672)
    yield url, proxy
    proxy.close()


def test_a_broker_restart_in_the_middle_of_a_run_loses_nothing(rabbitmq_proxy, use_broker, deployment):
    url, proxy = rabbitmq_proxy
    proxied = through(url, proxy)
    site = deployment(proxied, use_broker(proxied), "broker-restart")
    run = site.submit("slow identity", SLOW_IDENTITY).runs.get()
    wait_for(run, (Run.COMPRESSING,))
    proxy.down()  # every connection of the worker, the runner and this process is dropped
    time.sleep(5)
    proxy.up()
    run = site.finished(run)
    assert run.state == Run.SUCCEEDED, f"{run.failure_code}: {run.failure_reason}"
    assert Result.objects.filter(run=run).count() == 1


def test_a_database_restart_while_the_result_arrives_loses_nothing(rabbitmq_proxy, use_broker, deployment):
    url, _ = rabbitmq_proxy
    db = connection.settings_dict
    proxy = FlakyProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    try:
        platform_db = f"postgresql://{db['USER']}:{db['PASSWORD']}@127.0.0.1:{proxy.port}/{db['NAME']}"
        site = deployment(url, use_broker(url), "db-restart", platform_database_url=platform_db)
        run = site.submit("slow identity", SLOW_IDENTITY).runs.get()
        wait_for(run, (Run.MEASURING,))
        proxy.down()  # the platform worker loses PostgreSQL while the runner finishes the job
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while time.monotonic() < deadline and "runners.execute_job" not in _succeeded(site.runner.log_path):
            time.sleep(0.5)
        time.sleep(3)  # the result task meets the dead database and retries with back-off
        proxy.up()
        run = site.finished(run)
        assert run.state == Run.SUCCEEDED, f"{run.failure_code}: {run.failure_reason}"
        assert Result.objects.filter(run=run).count() == 1
    finally:
        proxy.close()


def _succeeded(log_path) -> str:
    text = log_path.read_text(errors="replace")
    return "runners.execute_job" if "execute_job" in text and "succeeded in" in text else ""


def test_the_same_job_delivered_twice_gives_one_result(rabbitmq_proxy, use_broker, deployment):
    url, _ = rabbitmq_proxy
    site = deployment(url, use_broker(url), "twice")
    run = site.submit("identity", IDENTITY).runs.get()
    wait_for(run, (Run.STAGING, Run.COMPRESSING, Run.MEASURING, Run.SUCCEEDED))
    platform_app.send_task(JOB_TASK, args=[job_spec_for_run(run)], queue=run.hardware_class.queue)
    run = site.finished(run)
    assert run.state == Run.SUCCEEDED
    # The second delivery runs the whole job again; its result comes for a finished run.
    late_result = run.transitions.filter(ignored=True, reason__contains="a result document arrived after")
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline and not late_result.exists():
        time.sleep(1)
    assert late_result.exists()
    assert Result.objects.filter(run=run).count() == 1


def test_a_dispatch_whose_message_was_lost_is_sent_again(rabbitmq_proxy, use_broker, deployment, settings):
    url, _ = rabbitmq_proxy
    queues = use_broker(url)
    site = deployment(url, queues, "lost-dispatch")
    site.runner.terminate()  # no runner takes the first message
    site.runner.wait(timeout=30)
    run = site.submit("identity", IDENTITY).runs.get()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.dispatched_at is not None:
            break
        time.sleep(0.2)
    # Purged only once the message was sent: else there is nothing yet for the broker to lose.
    assert run.dispatched_at is not None, "the platform did not dispatch the run within 60 s"
    with platform_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(run.hardware_class.queue)  # the broker lost it
    settings.FOOTPRINT_REDISPATCH_AFTER_S = 0
    assert runs_redispatch_lost() == 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # dispatched again by the platform worker
        run.refresh_from_db()
        if run.dispatched_at is not None:
            break
        time.sleep(0.2)
    assert run.dispatched_at is not None
    site.start_runner()
    run = site.finished(run)
    assert run.state == Run.SUCCEEDED, f"{run.failure_code}: {run.failure_reason}"


def test_a_cancel_stops_a_running_job_on_its_runner(rabbitmq_proxy, use_broker, deployment, docker_client):
    from django.contrib.auth import get_user_model

    from submissions.services import run_cancel

    url, _ = rabbitmq_proxy
    site = deployment(url, use_broker(url), "cancel")
    slow = IDENTITY.replace("import shutil, footprint_sdk", "import shutil, time, footprint_sdk\ntime.sleep(300)")
    run = site.submit("slow identity", slow).runs.get()
    wait_for(run, (Run.COMPRESSING,))
    run_cancel(run=run, by=get_user_model().objects.get(username="ada"))
    run.refresh_from_db()
    assert run.state == Run.CANCELLED
    label = f"org.footprint.hardware-class={site.hardware.name}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and docker_client.containers.list(filters={"label": label}):
        time.sleep(0.5)
    # The runner killed the compress that would have slept five minutes, and said so.
    assert docker_client.containers.list(filters={"label": label}) == []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not run.transitions.filter(ignored=True).exists():
        time.sleep(0.5)
    assert run.transitions.filter(ignored=True, reason__contains="after the run had cancelled").exists()
    assert not Result.objects.filter(run=run).exists()
