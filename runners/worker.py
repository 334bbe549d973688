"""The runner: a Celery worker for one hardware class, concurrency 1.

It consumes `runner.<hardware-class>`, claims each job from the platform over HTTP with its
runner credential (runners.platform_client: the platform answers with the job's token),
fetches the job's files with that token, runs it through runners.job, and reports progress
and its result on the platform queue by task name, each signed with the job's token
(runners.signing); its heartbeats are signed with its credential. The runner never sees the
database or the platform's storage.
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
from celery.exceptions import Reject
from celery.worker.control import control_command

from runners.broker import COMMON_CELERY_CONFIG, PLATFORM_QUEUE, celery_broker_config, runner_queue
from runners.cancel import CancelFlags
from runners.housekeeping import DEFAULT_CACHED_IMAGES, DEFAULT_MIN_FREE_BYTES, ImageCache, remove_stale_work
from runners.job import HARDWARE_CLASS_LABEL, host_fingerprint, run_job
from runners.outbox import Outbox
from runners.platform_client import DEFAULT_CACHE_BYTES, JobToken, PlatformClient, PlatformError, prune_cache
from runners.result import JobFailure
from runners.sandbox.docker import DockerSandbox
from runners.signing import progress_payload, sign

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 30.0
# A job another runner still holds (a copy delivered twice) is looked at again this often,
# until it has finished or its holder is gone (the platform decides: submissions.claims).
CLAIM_RETRY_S = 90
# The platform did not answer a claim: tried again this often, for as long as it takes.
PLATFORM_RETRY_S = 30
# The exit status of a runner whose credential the platform refused: it takes no job.
EXIT_CREDENTIAL_REFUSED = 3

app = Celery("footprint-runner")
app.conf.update(COMMON_CELERY_CONFIG)
app.conf.update(celery_broker_config())
app.conf.update(worker_concurrency=1, task_routes={"footprint.*": {"queue": PLATFORM_QUEUE}})


def hardware_class() -> str:
    return os.environ.get("FOOTPRINT_HARDWARE_CLASS", "cpu-local")


def credential() -> str:
    """The runner credential an operator made in the admin: `<runner id>.<secret>`."""
    path = os.environ.get("FOOTPRINT_RUNNER_CREDENTIAL_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get("FOOTPRINT_RUNNER_CREDENTIAL", "").strip()


def runner_id() -> str:
    """This runner's own id: the name in its credential (not the host's name)."""
    return credential().partition(".")[0] or "unnamed-runner"


def host_name() -> str:
    return os.environ.get("FOOTPRINT_RUNNER_HOST") or socket.gethostname()


def platform_client() -> PlatformClient:
    url = os.environ.get("FOOTPRINT_PLATFORM_URL", "")
    if not url or not credential():
        raise PlatformError(
            0,
            "runner_not_configured",
            "set FOOTPRINT_PLATFORM_URL (the platform as this host reaches it) and FOOTPRINT_RUNNER_CREDENTIAL "
            "(made by an operator: Admin › Runner credentials, or manage.py runner_credential create)",
        )
    return PlatformClient(url, credential())


def work_root() -> Path:
    return Path(os.environ.get("FOOTPRINT_RUNNER_WORK_DIR", Path(tempfile.gettempdir()) / "footprint-runner"))


def cgroup_root() -> str:
    """The cgroup folder under which this runner's containers get their parents (see the sandbox).

    Runners that share a host keep apart by it; a runner removes only parents under its own.
    """
    return os.environ.get("FOOTPRINT_CGROUP_ROOT", "footprint")


def sandbox() -> DockerSandbox:
    return DockerSandbox(cgroup_root=cgroup_root(), runner=runner_id() if credential() else "")


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
        "runner_id": runner_id(),
        "host": host_name(),
        "hardware_class": hardware_class(),
        "docker_ok": docker_ok,
        "detail": detail,
        "versions": versions or {},
        "state": state,
    }
    if running is not None:
        status["running"] = running
    try:
        signature = sign(status, secret=credential(), key_id=runner_id())
        app.send_task("footprint.runner_heartbeat", args=[status, signature], queue=PLATFORM_QUEUE)
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


def publish_result(kept: dict) -> None:
    """Send a kept result: {"run_id", "attempt", "document", "signature"} (runners.outbox)."""
    if "document" not in kept:
        log.error("a result kept before reports were signed cannot be sent: run %s", kept.get("run_id"))
        return
    app.send_task("footprint.run_result", args=[kept["document"], kept["signature"]], queue=PLATFORM_QUEUE)


def claim(task, client: PlatformClient, *, run_id: int, attempt: int, execution: str) -> JobToken | None:
    """The job's token, or None when this runner must not run the job (it is told why).

    Another runner holding it alive, or the platform not answering: the job comes back later
    (a retry). A credential the platform refuses: the job goes back to the queue for another
    runner, and this one stops taking jobs.
    """
    try:
        return client.claim(run_id=run_id, attempt=attempt, execution=execution)
    except PlatformError as exc:
        if exc.credential_refused:
            log.error("the platform refused this runner's credential (%s); it takes no more jobs", exc.reason)
            _refused.set()
            app.control.shutdown(destination=[task.request.hostname])
            raise Reject(f"credential refused: {exc.reason}", requeue=True) from None
        if exc.code == "held_by_another_runner" or exc.status == 0 or exc.status >= 500:
            log.warning("run %s not taken now (%s); looked at again in a while", run_id, exc)
            raise task.retry(countdown=CLAIM_RETRY_S if exc.status else PLATFORM_RETRY_S, max_retries=None) from None
        log.info("run %s is not for this runner: %s", run_id, exc)
        return None


_refused = threading.Event()


@app.task(name="runners.execute_job", bind=True, acks_late=True, reject_on_worker_lost=True)
def execute_job(self, spec: dict) -> None:
    run_id, attempt = spec.get("run_id"), spec.get("attempt")
    if not isinstance(run_id, int) or not isinstance(attempt, int):
        log.error("a job without a run id or attempt: %.500r", spec)
        return
    job_sandbox = sandbox()
    host = host_name()
    # One delivery of this job: the platform tells a late report of it from a restart's.
    execution = uuid.uuid4().hex
    client = platform_client()
    token = claim(self, client, run_id=run_id, attempt=attempt, execution=execution)
    if token is None:
        return

    def report(state: str, reason: str) -> None:
        args = progress_payload(run_id, attempt, state, reason, host, execution)
        signature = sign(args, secret=token.secret, key_id=token.token_id)
        app.send_task("footprint.run_progress", args=[*args, signature], queue=PLATFORM_QUEUE)

    cache = work_root() / "cache"

    def fetch(url: str, sha256: str) -> Path:
        try:
            return client.fetch(url, sha256=sha256, token=token, cache_dir=cache)
        except PlatformError as exc:
            raise JobFailure(
                "staging", "input_unavailable", f"the runner could not fetch the job's input: {exc.reason}"
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
            spec,
            sandbox=job_sandbox,
            report=report,
            work_root=work_root(),
            stop=stop,
            execution=execution,
            fetch=fetch,
        )
    finally:
        if isinstance(run_id, int):
            flags.clear(run_id)
    # On disk before it is sent, removed once the broker has it (runners/outbox.py).
    signature = sign(document, secret=token.secret, key_id=token.token_id)
    kept = outbox().put({"run_id": run_id, "attempt": attempt, "document": document, "signature": signature})
    outbox().send(kept, publish_result)
    keep = {
        (spec.get("submission") or {}).get("tarball_sha256"),
        *((spec.get("benchmark") or {}).get("files") or {}).values(),
    }
    max_cache = int(os.environ.get("FOOTPRINT_RUNNER_CACHE_BYTES", DEFAULT_CACHE_BYTES))
    prune_cache(cache, max_bytes=max_cache, keep={k for k in keep if isinstance(k, str)})
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
    if not _refused.is_set():
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
        f"{runner_id()}@{host_name()}",
        "--loglevel",
        os.environ.get("FOOTPRINT_RUNNER_LOGLEVEL", "INFO"),
        "--without-gossip",
        "--without-mingle",
    ]
    try:
        app.worker_main(argv + (extra_args or []))
    except SystemExit:
        pass
    if _refused.is_set():
        raise SystemExit(EXIT_CREDENTIAL_REFUSED)


__all__ = ["app", "docker_status", "execute_job", "host_fingerprint", "send_status", "start_worker"]
