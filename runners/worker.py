"""The runner: a Celery worker for one hardware class, concurrency 1.

It consumes `runner.<hardware-class>`, runs each job through runners.job, and reports
progress, its result and its own health back on the platform queue by task name: the
runner never sees the database.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import uuid
from pathlib import Path

from celery import Celery, signals
from celery.worker.control import control_command

from runners.broker import COMMON_CELERY_CONFIG, PLATFORM_QUEUE, celery_broker_config, runner_queue
from runners.cancel import CancelFlags
from runners.housekeeping import DEFAULT_CACHED_IMAGES, DEFAULT_MIN_FREE_BYTES, ImageCache, remove_stale_work
from runners.job import HARDWARE_CLASS_LABEL, host_fingerprint, run_job
from runners.outbox import Outbox
from runners.sandbox.docker import DockerSandbox

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 30.0

app = Celery("footprint-runner")
app.conf.update(COMMON_CELERY_CONFIG)
app.conf.update(celery_broker_config())
app.conf.update(worker_concurrency=1, task_routes={"footprint.*": {"queue": PLATFORM_QUEUE}})


def hardware_class() -> str:
    return os.environ.get("FOOTPRINT_HARDWARE_CLASS", "cpu-local")


def work_root() -> Path:
    return Path(os.environ.get("FOOTPRINT_RUNNER_WORK_DIR", Path(tempfile.gettempdir()) / "footprint-runner"))


def cgroup_root() -> str:
    """The cgroup folder under which this runner's containers get their parents (see the sandbox).

    Runners that share a host keep apart by it; a runner removes only parents under its own.
    """
    return os.environ.get("FOOTPRINT_CGROUP_ROOT", "footprint")


def sandbox() -> DockerSandbox:
    return DockerSandbox(cgroup_root=cgroup_root())


def docker_status() -> tuple[bool, str]:
    """(engine answers, version or the reason it does not), without raising."""
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        ok, detail = sandbox().ping()
    except Exception as exc:  # no socket, permission denied, engine down...
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return ok, detail if ok else f"{detail} (DOCKER_HOST {where})"


def held_run_ids() -> list[int] | None:
    """The runs this worker holds (reserved or running), read in the worker's main process.

    The platform sends again a run that this runner took but no longer lists (its worker
    was killed, or the runner restarted, and the broker did not hand the job back).
    None outside a worker, where nothing is known.
    """
    from celery.worker import state as worker_state

    ids: list[int] = []
    for request in [*worker_state.reserved_requests, *worker_state.active_requests]:
        args = request.args if request.task_name == "runners.execute_job" else None
        if args and isinstance(args[0], dict) and isinstance(args[0].get("run_id"), int):
            ids.append(args[0]["run_id"])
    return sorted(set(ids))


def send_status(
    state: str, *, docker_ok: bool, detail: str, versions: dict | None = None, running: list[int] | None = None
) -> None:
    status = {
        "host": socket.gethostname(),
        "hardware_class": hardware_class(),
        "docker_ok": docker_ok,
        "detail": detail,
        "versions": versions or {},
        "state": state,
    }
    if running is not None:
        status["running"] = running
    try:
        app.send_task("footprint.runner_heartbeat", args=[status], queue=PLATFORM_QUEUE)
    except Exception:  # a missing heartbeat must never break a job
        log.exception("could not send the runner heartbeat")


def outbox() -> Outbox:
    return Outbox(work_root() / "outbox")


def cancel_flags() -> CancelFlags:
    return CancelFlags(work_root() / "cancel")


def image_cache() -> ImageCache:
    return ImageCache(
        work_root() / "images.json",
        max_images=int(os.environ.get("FOOTPRINT_RUNNER_CACHED_IMAGES", DEFAULT_CACHED_IMAGES)),
        min_free_bytes=int(os.environ.get("FOOTPRINT_RUNNER_MIN_FREE_BYTES", DEFAULT_MIN_FREE_BYTES)),
    )


def publish_result(document: dict) -> None:
    app.send_task("footprint.run_result", args=[document], queue=PLATFORM_QUEUE)


@app.task(name="runners.execute_job", bind=True, acks_late=True, reject_on_worker_lost=True)
def execute_job(self, spec: dict) -> None:
    run_id, attempt = spec.get("run_id"), spec.get("attempt")
    job_sandbox = sandbox()
    host = socket.gethostname()
    # One delivery of this job: the platform tells a late report of it from a restart's.
    execution = uuid.uuid4().hex

    def report(state: str, reason: str) -> None:
        app.send_task(
            "footprint.run_progress", args=[run_id, attempt, state, reason, host, execution], queue=PLATFORM_QUEUE
        )

    # Concurrency 1: any container of this class still here belongs to a job whose pool
    # process was killed (the OOM killer, a hard time limit); it would hold the CPU set.
    # So does any work folder under the work root.
    reaped = job_sandbox.reap_orphans(f"{HARDWARE_CLASS_LABEL}={hardware_class()}")
    stale = remove_stale_work(work_root())
    if reaped or stale:
        log.warning("removed %d containers and %d work folders left by a killed job", reaped, stale)
    flags = cancel_flags()
    stop = flags.watcher(run_id) if isinstance(run_id, int) else None
    try:
        document = run_job(
            spec, sandbox=job_sandbox, report=report, work_root=work_root(), stop=stop, execution=execution
        )
    finally:
        if isinstance(run_id, int):
            flags.clear(run_id)
    # On disk before it is sent, removed once the broker has it (runners/outbox.py).
    kept = outbox().put(document)
    outbox().send(kept, publish_result)
    image_id = (spec.get("submission") or {}).get("image_id")
    if isinstance(image_id, str):
        cache = image_cache()
        cache.used(image_id)
        runtime = spec.get("runtime_image")
        evicted = cache.evict(job_sandbox, keep={image_id, *([runtime] if isinstance(runtime, str) else [])})
        if evicted:
            log.info("evicted %d submission images: %s", len(evicted), ", ".join(evicted))


@control_command(args=[("run_id", int), ("reason", str)], signature="<run_id> <reason>")
def footprint_cancel(state, run_id: int, reason: str = "the run was cancelled") -> dict:
    """The platform asks this runner to stop a job it holds (runners/cancel.py); runners that
    do not hold it leave a flag nobody reads, cleared when such a job would start."""
    cancel_flags().request(run_id, reason)
    return {"ok": f"cancel of run {run_id} noted"}


_stop_heartbeat = threading.Event()


@signals.worker_ready.connect
def _start_heartbeat(**_: object) -> None:
    reaped = sandbox().reap_orphans(f"{HARDWARE_CLASS_LABEL}={hardware_class()}")
    if reaped:
        log.warning("removed %d containers left by an earlier runner", reaped)

    def beat() -> None:
        while not _stop_heartbeat.is_set():
            ok, detail = docker_status()
            running = held_run_ids()
            if not ok:
                state, words = "unavailable", detail
            elif running:
                # The ids go in `running` (the platform's orphan check), not in the words, which a
                # public page shows: a private run's id is nobody else's business.
                state, words = "busy", "measuring a job"
            else:
                state, words = "idle", "waiting for jobs"
            send_status(state, docker_ok=ok, detail=words, versions={"docker": detail} if ok else {}, running=running)
            # Results a broker outage kept on disk go out as soon as it answers again.
            outbox().flush(publish_result)
            _stop_heartbeat.wait(HEARTBEAT_INTERVAL_S)

    threading.Thread(target=beat, name="footprint-heartbeat", daemon=True).start()


@signals.worker_shutdown.connect
def _stop(**_: object) -> None:
    _stop_heartbeat.set()
    send_status("unavailable", docker_ok=False, detail="the runner was stopped")


def start_worker(extra_args: list[str] | None = None) -> None:
    queue = runner_queue(hardware_class())
    argv = [
        "worker",
        "--queues",
        queue,
        "--concurrency",
        "1",
        "--prefetch-multiplier",
        "1",
        "--hostname",
        f"runner-{hardware_class()}@{socket.gethostname()}",
        "--loglevel",
        os.environ.get("FOOTPRINT_RUNNER_LOGLEVEL", "INFO"),
        "--without-gossip",
        "--without-mingle",
    ]
    app.worker_main(argv + (extra_args or []))


__all__ = ["app", "docker_status", "execute_job", "host_fingerprint", "send_status", "start_worker"]
