"""The whole loop on the deployment's services: PostgreSQL, a real broker, Docker.

The test process plays the web side (it creates the submission and commits); a platform
Celery worker and a runner run as separate processes, as in a deployment, and nothing
but the broker connects them to each other. The runner has no database settings at all.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from django.conf import settings as django_settings
from django.db import connection

from benchmarks.credentials import runner_credential_create
from benchmarks.models import HardwareClass
from benchmarks.services import benchmark_import
from footprint.celery import app as platform_app
from leaderboard.selectors import leaderboard_rows
from runners.broker import PLATFORM_QUEUE
from runners.sandbox.docker import DockerSandbox
from submissions.models import Run, Submission
from submissions.services import submission_create
from submissions.uploads import inspect_image_tarball
from tests.fixtures.benchmark import FAST_MEASUREMENT
from tests.fixtures.leftovers import subprocess_env

pytestmark = [pytest.mark.docker, pytest.mark.services, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 420
IDENTITY = """#!/usr/bin/env python3
import shutil, footprint_sdk
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("identity", description="the reference, unchanged")
"""


def reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port), 2).close()
        return True
    except OSError:
        return False


BROKERS = {
    "rabbitmq": ("FOOTPRINT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    "redis": ("FOOTPRINT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
}


def broker(name: str) -> str:
    variable, default = BROKERS[name]
    url = os.environ.get(variable, default)
    if not reachable(url):
        pytest.fail(f"{name} does not answer at {url}; as root, run: bash .ci/services.sh")
    return url


@pytest.fixture(params=sorted(BROKERS))
def broker_url(request) -> str:
    return broker(request.param)


@pytest.fixture
def rabbitmq_url() -> str:
    return broker("rabbitmq")


@pytest.fixture
def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.fail("the integration tests run on PostgreSQL: set DATABASE_URL (make test does)")
    user, password = quote(db["USER"] or "", safe=""), quote(db["PASSWORD"] or "", safe="")
    return f"postgresql://{user}:{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def reset_connections(app) -> None:
    """Drop the app's connection and producer pools so the next send uses the new broker.

    Celery has no public call for this (app.close() keeps the producer pool, which stays
    bound to the old broker's connections).
    """
    # Not force_close_all(): kombu keeps pools per broker URL and hands the same pool
    # out again when a later test uses that URL.
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def use_broker():
    """use_broker(url) -> a list to append runner queues to (deleted afterwards).

    Points this process's Celery app (which dispatches on commit) at the test broker.
    """
    from runners.broker import celery_broker_config

    saved = {key: platform_app.conf[key] for key in ("broker_url", "broker_transport_options")}
    queues: list[str] = []
    before: dict[str, object] = {}

    def use(url: str) -> list[str]:
        platform_app.conf.update(celery_broker_config(url))
        reset_connections(platform_app)
        with platform_app.connection_for_write() as conn:
            before.update(broker_state(conn))
        return queues

    yield use
    # Leave the broker as we found it: the runner queues are named per test; the platform
    # queue, and on Redis kombu's binding keys, are removed when this test made them.
    if before:
        with platform_app.connection_for_write() as conn:
            restore_broker(conn, before, queues)
    platform_app.conf.update(saved)
    reset_connections(platform_app)


def broker_state(conn) -> dict[str, object]:
    """What a test's restore_broker() compares with: Redis keys, or whether the platform queue exists."""
    channel = conn.default_channel
    if conn.transport.driver_type == "redis":
        return {"redis_keys": set(channel.client.keys("*"))}
    try:
        conn.channel().queue_declare(PLATFORM_QUEUE, passive=True)
        return {"platform_queue": True}
    except Exception:  # noqa: BLE001 - NOT_FOUND closes that channel; the connection lives on
        return {"platform_queue": False}


def restore_broker(conn, before: dict[str, object], queues: list[str]) -> None:
    channel = conn.default_channel
    if "redis_keys" in before:
        new = set(channel.client.keys("*")) - before["redis_keys"]  # type: ignore[operator]
        if new:
            channel.client.delete(*new)
        return
    for queue in [*queues, *([] if before.get("platform_queue") else [PLATFORM_QUEUE])]:
        channel.queue_delete(queue)
        channel.exchange_delete(queue)


@pytest.fixture
def platform_broker(broker_url: str, use_broker) -> list[str]:
    return use_broker(broker_url)


@pytest.fixture
def processes(tmp_path: Path):
    started: list[subprocess.Popen] = []

    def start(name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(tmp_path / f"{name}.log", "wb")
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        process.log_path = tmp_path / f"{name}.log"
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def platform_worker_command(*, concurrency: int) -> list[str]:
    name = f"platform-it-{uuid.uuid4().hex[:6]}@%h"
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "footprint",
        "worker",
        "-Q",
        "platform",
        "-c",
        str(concurrency),
        "-n",
        name,
        "--without-gossip",
        "--without-mingle",
    ]


def base_env(**settings: str) -> dict[str, str]:
    """A runner's whole environment (platform_env() adds the platform's): nothing inherited."""
    return subprocess_env(
        PYTHONPATH=f"{REPO}{os.pathsep}{REPO / 'platform'}",
        PYTHONUNBUFFERED="1",
        # A cgroup root per process set: the leftover check finds what a runner left.
        FOOTPRINT_CGROUP_ROOT=f"footprint-it-{uuid.uuid4().hex[:8]}",
        **settings,
    )


def platform_env(env: dict[str, str], database_url: str) -> dict[str, str]:
    """A platform worker's environment: the runner's plus the database and the settings."""
    return {
        **env,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "footprint.settings",
        "DJANGO_SECRET_KEY": django_settings.SECRET_KEY,
    }


def wait_for_terminal(run: Run, watched: list[subprocess.Popen], timeout_s: float = RUN_TIMEOUT_S) -> Run:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.state in Run.TERMINAL_STATES:
            return run
        for process in watched:
            if process.poll() is not None:
                pytest.fail(f"{process.args[:4]} exited early:\n{process.log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    logs = "\n".join(p.log_path.read_text()[-3000:] for p in watched)
    pytest.fail(f"run {run.pk} still {run.state} after {timeout_s} s\n{logs}")


class Deployment:
    """A benchmark, a hardware class of its own, and the platform worker and runner processes
    on one broker, as a deployment runs them; the test process plays the web side."""

    def __init__(
        self,
        *,
        live_server,
        broker_url,
        queues,
        database_url,
        processes,
        settings,
        tmp_path,
        benchmark_dir,
        runtime_image,
        build_test_image,
        docker_client,
        owner,
        name: str,
    ) -> None:
        self.storage = tmp_path / "storage"
        settings.FOOTPRINT_STORAGE_ROOT = self.storage
        settings.FOOTPRINT_RUNTIME_IMAGE = runtime_image
        self.benchmark = benchmark_import(
            slug=f"digits-{name}",
            name=f"digits ({name})",
            train_path=benchmark_dir / "train.npz",
            test_path=benchmark_dir / "test.npz",
            reference_path=benchmark_dir / "reference" / "model.pt",
            num_classes=10,
            # One serve repeat: these tests are about the loop, tests/jobs about repeats.
            fields={**FAST_MEASUREMENT, "accuracy_floor_fraction": 0.5, "serve_repeats": 1},
        ).benchmark
        self.hardware = HardwareClass.objects.create(name=f"cpu-{name}-{uuid.uuid4().hex[:8]}", cores=1, cpuset="0")
        HardwareClass.objects.exclude(pk=self.hardware.pk).update(active=False)
        queues.append(self.hardware.queue)
        self._build, self._docker, self.owner = build_test_image, docker_client, owner
        # The platform worker builds the job specs: it must name the runtime this test built.
        env = base_env(
            CELERY_BROKER_URL=broker_url,
            FOOTPRINT_STORAGE_ROOT=str(self.storage),
            FOOTPRINT_RUNTIME_IMAGE=runtime_image,
        )
        self.worker = processes(
            "platform-worker",
            platform_worker_command(concurrency=2),
            platform_env(env, database_url),
        )
        self.cgroup_root = env["FOOTPRINT_CGROUP_ROOT"]
        # The runner claims its jobs from the web side (this test's live server) with a
        # credential of its own, as any runner host does.
        self.credential = runner_credential_create(name=f"runner-{name}", hardware_class=self.hardware)
        self._processes, self._runner_env = (
            processes,
            {
                **env,
                "FOOTPRINT_RUNNER_WORK_DIR": str(tmp_path / "runner-work"),
                "FOOTPRINT_PLATFORM_URL": live_server.url,
                "FOOTPRINT_RUNNER_CREDENTIAL": self.credential.secret,
            },
        )
        self.start_runner()

    def start_runner(self) -> None:
        # The runner gets the broker and nothing of the database.
        self.runner = self._processes(
            "runner",
            [sys.executable, "-m", "runners", "--hardware-class", self.hardware.name],
            self._runner_env,
        )

    def submit(self, name: str, compress: str) -> Submission:
        """Build an image whose compress is `compress`, save it as an upload would, submit it."""
        tag = self._build("COPY compress /usr/local/bin/compress\n", {"compress": compress})
        relative = f"submissions/{uuid.uuid4().hex}.tar"
        tarball = self.storage / relative
        tarball.parent.mkdir(parents=True, exist_ok=True)
        with open(tarball, "wb") as f:
            for chunk in self._docker.images.get(tag).save(named=True):
                f.write(chunk)
        info = inspect_image_tarball(tarball)
        return submission_create(
            owner=self.owner,
            benchmark=self.benchmark,
            name=name,
            description="",
            division="standard",
            tarball_path=relative,
            tarball_sha256=info.sha256,
            size_bytes=info.size_bytes,
            image_id=info.image_id,
            published=True,
        )

    def finished(self, run: Run) -> Run:
        return wait_for_terminal(run, [self.worker, self.runner])


@pytest.fixture
def deployment(
    live_server,
    database_url,
    processes,
    settings,
    tmp_path,
    benchmark_dir,
    runtime_image,
    build_test_image,
    docker_client,
    django_user_model,
):
    owner = django_user_model.objects.create_user(username="ada", password="unused-password-1")

    def start(broker_url: str, queues: list[str], name: str, platform_database_url: str | None = None) -> Deployment:
        return Deployment(
            live_server=live_server,
            broker_url=broker_url,
            queues=queues,
            database_url=platform_database_url or database_url,
            processes=processes,
            settings=settings,
            tmp_path=tmp_path,
            benchmark_dir=benchmark_dir,
            runtime_image=runtime_image,
            build_test_image=build_test_image,
            docker_client=docker_client,
            owner=owner,
            name=name,
        )

    started: list[Deployment] = []

    def start_and_remember(broker_url: str, queues: list[str], name: str, **kwargs: str) -> Deployment:
        started.append(start(broker_url, queues, name, **kwargs))
        return started[-1]

    yield start_and_remember
    # The runners stop first: one still working would start a container after the sweep below.
    # A pool process killed between creating and starting a container can leave it behind
    # in "created" state; the runner of a later job of this class would remove it, but test
    # classes are not used again.
    for site in started:
        for process in (site.runner, site.worker):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in (site.runner, site.worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    # What a runner does when it starts (reap_orphans): its containers, then the empty
    # cgroup parents a runner stopped mid-job left under its root.
    for site in started:
        sandbox = DockerSandbox(docker_client, cgroup_root=site.cgroup_root)
        sandbox.reap_orphans(f"org.footprint.hardware-class={site.hardware.name}")


def test_a_submission_is_dispatched_measured_ingested_and_ranked(broker_url, platform_broker, deployment):
    site = deployment(broker_url, platform_broker, "it")
    run = site.finished(site.submit("identity", IDENTITY).runs.get())

    assert run.state == Run.SUCCEEDED, f"{run.failure_code}: {run.failure_reason}"
    transitions = list(run.transitions.order_by("at", "id").values_list("to_state", "ignored"))
    applied = [state for state, ignored in transitions if not ignored]
    # The platform worker runs two tasks at once: "staging" and "compressing", sent a few ms
    # apart, can be handled in either order; a "staging" handled second is refused (a run
    # never goes back) and logged, never applied out of order.
    assert applied[-3:] == ["compressing", "measuring", "succeeded"]
    if "staging" in applied:
        assert applied[-4] == "staging"
    # The runner's own id (its credential's name), not its host's name.
    assert run.runner_host == site.credential.credential.name
    assert run.tokens.get().credential == site.credential.credential
    figures = {(f.subject, f.name): f for f in run.result.figures.all()}
    assert figures[("submission", "accuracy")].value == figures[("reference", "accuracy")].value
    assert figures[("submission", "latency_p50")].unit == "us"
    board = leaderboard_rows(benchmark=site.benchmark, hardware_class=site.hardware)
    apart = [(row.name, row.unranked_reason) for row in (*board.under_floor, *board.withheld)]
    assert [row.name for row in board.rows] == ["identity"], f"listed apart instead (name, reason): {apart}"
    assert board.rows[0].speedup == pytest.approx(figures[("submission", "speedup")].value)
    # The runner said it was there.
    assert site.hardware.runners.filter(docker_ok=True).exists()


def test_a_runner_without_docker_takes_no_job_and_says_why(
    broker_url, platform_broker, database_url, processes, settings, tmp_path
):
    hardware = HardwareClass.objects.create(name=f"cpu-nodocker-{uuid.uuid4().hex[:8]}", cores=1, cpuset="0")
    platform_broker.append(hardware.queue)
    env = base_env(
        CELERY_BROKER_URL=broker_url,
        FOOTPRINT_STORAGE_ROOT=str(tmp_path / "storage"),
        FOOTPRINT_RUNTIME_IMAGE="footprint-test/never-used:1",
    )
    worker = processes(
        "platform-worker",
        platform_worker_command(concurrency=1),
        platform_env(env, database_url),
    )
    credential = runner_credential_create(name="runner-nodocker", hardware_class=hardware)
    runner = processes(
        "runner",
        [sys.executable, "-m", "runners", "--hardware-class", hardware.name],
        {
            **env,
            "DOCKER_HOST": f"unix://{tmp_path}/no-docker-here.sock",
            "FOOTPRINT_RUNNER_CREDENTIAL": credential.secret,
        },
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not hardware.runners.exists():
        assert worker.poll() is None and runner.poll() is None, runner.log_path.read_text()[-2000:]
        time.sleep(0.5)
    status = hardware.runners.get()
    assert (status.state, status.docker_ok) == ("unavailable", False)
    assert "no Docker engine answers" in status.detail
    assert "no-docker-here.sock" in status.detail

    from submissions.selectors import runner_overview

    overview = next(o for o in runner_overview() if o.hardware_class == hardware)
    assert not overview.can_start
    assert "no Docker engine answers" in overview.reason
    # It still runs, waiting for the engine, and consumes nothing meanwhile.
    assert runner.poll() is None


def test_a_job_whose_runner_process_is_killed_is_delivered_again_and_finishes(
    rabbitmq_url, use_broker, deployment, docker_client
):
    # RabbitMQ hands an unacknowledged job back as soon as the consumer's channel closes;
    # Redis would only after its visibility timeout (hours), the platform's recovery first.
    site = deployment(rabbitmq_url, use_broker(rabbitmq_url), "kill")
    # compress takes a few seconds, so that the kill lands mid-job.
    slow = IDENTITY.replace("import shutil, footprint_sdk", "import shutil, time, footprint_sdk\ntime.sleep(6)")
    run = site.submit("slow identity", slow).runs.get()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.state == Run.COMPRESSING:
            break
        time.sleep(0.2)
    assert run.state == Run.COMPRESSING, run.state
    # Kill the pool process that runs the job (as the OOM killer or a hard time limit would).
    children = subprocess.run(["pgrep", "-P", str(site.runner.pid)], capture_output=True, text=True).stdout.split()
    assert children, "the runner has no pool process"
    for child in children:
        os.kill(int(child), signal.SIGKILL)

    run = site.finished(run)
    assert run.state == Run.SUCCEEDED, f"{run.failure_code}: {run.failure_reason}"
    assert run.attempt == 2
    assert run.transitions.filter(reason__contains="runner restarted the job (attempt 2)").exists()
    # The killed attempt's container was removed by the next job, not left running on the CPU set.
    label = f"org.footprint.hardware-class={site.hardware.name}"
    assert docker_client.containers.list(filters={"label": label, "status": "running"}) == []
