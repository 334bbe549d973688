"""The servers of a job and their sessions: a container, its socket, the harness's connection.

Three servers are measured in every job: the null server (the harness's own cost), the
reference model and the submission, the first two always on Footprint's standard runtime.
A `Session` is one server process in a fresh container; the measuring code starts several
at once, freezes those it is not timing, and ends each with `finish()`, which turns whatever
went wrong (in the socket or in the container) into the reason a researcher reads.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runners import harness
from runners.containers import CONTAINER_USER, container_failure, container_spec, give_to_container
from runners.files import OutputVolume
from runners.meters import cgroup, nvml, runtime_stats
from runners.result import CANCELLED, JobFailure, ResultDocument, phase_record
from runners.sandbox.docker import ContainerOutcome, DockerSandbox, Mount, RunningContainer
from runners.spec import JobSpec
from runners.stage import Staged

NULL, REFERENCE, SUBMISSION = "null", "reference", "submission"
SUBJECTS = (NULL, REFERENCE, SUBMISSION)
WHO = {
    NULL: "the null server",
    REFERENCE: "the reference model's server",
    SUBMISSION: "the submission's server",
}
SERVE_STOP_GRACE_S = 5.0
RUNTIME_STATS_FILE = "stats.json"
# A server's monitor wakes this often (a compress's four times a second): its wake-ups run
# Python in the harness's process while queries are timed.
SERVE_MONITOR_INTERVAL_S = 2.0
SOCKET_FOLDER_BYTES = 1 << 20
SOCKET_FOLDER_ENTRIES = 16


@dataclass(frozen=True)
class Server:
    subject: str
    image: str
    command: tuple[str, ...]
    out_dir: Path | None  # mounted read-only at /footprint/out


def job_servers(spec: JobSpec, staged: Staged) -> dict[str, Server]:
    runtime = staged.runtime_image_id
    own = spec.submission.own_runtime
    return {
        NULL: Server(NULL, runtime, ("footprint-null-serve",), None),
        REFERENCE: Server(REFERENCE, runtime, ("footprint-serve",), staged.reference_dir),
        SUBMISSION: Server(
            SUBMISSION,
            spec.submission.image_id if own else runtime,
            ("serve",) if own else ("footprint-serve",),
            staged.out_dir,
        ),
    }


class ServerFailed(Exception):
    """A server broke the protocol or stopped answering; `finish()` says why in full."""

    def __init__(self, subject: str, error: harness.HarnessError) -> None:
        super().__init__(f"{subject}: {error}")
        self.subject, self.error = subject, error


class Session:
    """One server process in its own container (use as a context manager: it is always removed)."""

    def __init__(self, spec: JobSpec, server: Server, running: RunningContainer, sock_dir: Path, gpu_memory) -> None:
        self.spec, self.server, self.running, self.sock_dir = spec, server, running, sock_dir
        self.subject = server.subject
        self.client: harness.ServeClient | None = None
        self.error: harness.HarnessError | None = None
        self.outcome: ContainerOutcome | None = None
        self._gpu_memory = gpu_memory

    @classmethod
    def start(
        cls,
        spec: JobSpec,
        sandbox: DockerSandbox,
        staged: Staged,
        server: Server,
        *,
        tag: str,
        stop: Callable[[], str | None] | None = None,
    ) -> Session:
        # The one folder a server writes outside its /tmp: a file system of its own, a few
        # files and a MiB at most, so that it cannot fill the runner's disk through it.
        sockets = OutputVolume(
            staged.work / f"sock-{server.subject}-{tag}-{uuid.uuid4().hex[:6]}",
            max_bytes=SOCKET_FOLDER_BYTES,
            max_entries=SOCKET_FOLDER_ENTRIES,
            uid=CONTAINER_USER[0],
            gid=CONTAINER_USER[1],
        ).mount()
        sock_dir = sockets.path
        if not sockets.mounted:
            give_to_container(sock_dir)  # unmounted with the work folder (files.unmount_below)
        mounts = [Mount(str(sock_dir), "/footprint/sock", False)]
        if server.out_dir is not None:
            mounts.append(Mount(str(server.out_dir), "/footprint/out", True))
        container = container_spec(
            spec,
            image=server.image,
            command=list(server.command),
            mounts=mounts,
            phase=f"serve_{server.subject}",
            wall_s=spec.limits.serve_wall_s,
            stop=stop,
        )
        # The standard runtime reports its device and allocator peaks here when it exits; the
        # folder is ours, only the file's last component is the container's (read with O_NOFOLLOW).
        container.env["FOOTPRINT_STATS_FILE"] = f"/footprint/sock/{RUNTIME_STATS_FILE}"
        container.monitor_interval_s = SERVE_MONITOR_INTERVAL_S
        running = sandbox.start(container)
        session = cls(spec, server, running, sock_dir, _gpu_memory_sampler(spec, running))
        session._gpu_memory.__enter__()
        return session

    @property
    def who(self) -> str:
        return WHO[self.subject]

    def connect(self, ids: harness.RequestIds) -> harness.ServeClient:
        try:
            self.client = harness.ServeClient.connect(
                str(self.sock_dir / "serve.sock"),
                ready_timeout_s=self.spec.limits.serve_ready_s,
                is_alive=self.running.is_alive,
                expected_uid=CONTAINER_USER[0],
                ids=ids,
                request_timeout_s=self.spec.limits.request_timeout_s,
                page=_page_size(self.spec),
            )
        except harness.HarnessError as exc:
            self.error = exc
            raise ServerFailed(self.subject, exc) from exc
        return self.client

    def call(self, operation, *args, **kwargs):
        """Run a harness operation on this session's client; a HarnessError becomes ServerFailed."""
        assert self.client is not None
        try:
            return operation(self.client, *args, **kwargs)
        except harness.HarnessError as exc:
            self.error = exc
            raise ServerFailed(self.subject, exc) from exc

    def freeze(self) -> None:
        self.running.freeze()

    def thaw(self) -> None:
        self.running.thaw()

    def cpu_time_s(self) -> float | None:
        return self.running.cpu_time_s()

    def peak_memory_bytes(self) -> int | None:
        return self.running.peak_memory_bytes()

    def finish(self, doc: ResultDocument) -> ContainerOutcome:
        """Shut the server down (or kill it after a failure), record its runtime's statistics,
        and return its outcome; the failure, if any, is `failure()`."""
        if self.outcome is not None:
            return self.outcome
        with contextlib.suppress(Exception):
            self.running.thaw()
        if self.client is not None:
            if self.error is None:
                self.client.shutdown()
            else:
                self.client.close()
        self.outcome = self.running.stop(SERVE_STOP_GRACE_S if self.error is None else 0.0)
        self._gpu_memory.__exit__(None, None, None)
        _runtime_stats(doc, self.subject, self.sock_dir / RUNTIME_STATS_FILE, self._gpu_memory)
        return self.outcome

    def failure(self) -> JobFailure | None:
        """Why this server failed the job, or None; after finish()."""
        assert self.outcome is not None
        if self.outcome.stopped:
            return JobFailure("measuring", CANCELLED, self.outcome.stopped)
        failure = None
        if self.error is not None:
            code = "reference_failed" if self.subject == REFERENCE else self.error.code
            failure = JobFailure("measuring", code, f"{self.who}: {self.error.reason}")
        dead = container_failure("measuring", "serve", self.outcome, self.spec)
        if dead is not None:
            # The container's own fate (killed for memory or time, dead on its own) explains more
            # than what the socket saw; an exit we caused by killing it after a failure does not.
            outcome = self.outcome
            decisive = outcome.start_error or outcome.timed_out or outcome.oom_killed or outcome.pids_limit_hit
            if failure is None or decisive or failure.code in ("serve_exited", "serve_closed"):
                failure = JobFailure(
                    "measuring",
                    "reference_failed" if self.subject == REFERENCE else dead.code,
                    f"{self.who}: {dead.reason}",
                )
        return failure

    def record_phase(self, doc: ResultDocument, *, name: str | None = None) -> dict:
        assert self.outcome is not None
        record = phase_record(self.outcome)
        if name is not None:
            doc.phases[name] = record
        return record

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.outcome is None:
            with contextlib.suppress(Exception):
                self.running.thaw()
            if self.client is not None:
                self.client.close()
            self.running.__exit__(*exc_info)
            with contextlib.suppress(Exception):
                self._gpu_memory.__exit__(None, None, None)


def finish_all(sessions: list[Session], doc: ResultDocument, *, failed: ServerFailed | None = None) -> None:
    """End every session of a group; raise the JobFailure that explains the group's end, if any.

    After a failure the failing server decides the reason (its container's fate or what its
    socket saw); the others are stopped at once.
    """
    first: JobFailure | None = None
    culprit: Session | None = None
    if failed is not None:
        culprit = next(s for s in sessions if s.subject == failed.subject)
        culprit.finish(doc)
        first = culprit.failure()
    for session in sessions:
        if session is culprit:
            continue
        if failed is not None and session.error is None:
            session.error = harness.HarnessError("serve_stopped", "stopped after another server failed")
            session.finish(doc)
            continue
        session.finish(doc)
        failure = session.failure()
        if failure is not None and first is None:
            first, culprit = failure, session
    if first is not None:
        assert culprit is not None
        culprit.record_phase(doc, name=f"serve_{culprit.subject}")  # its log tail is the evidence
        raise first


def _page_size(spec: JobSpec) -> harness.PageSize | None:
    """A shared page for the largest request of a latency round: an accuracy batch."""
    task = spec.benchmark.task
    return harness.page_size_for(
        task.input_shape,
        task.input_dtype,
        batch_size=spec.measurement.accuracy_batch_size,
        num_classes=task.num_classes,
    )


def _gpu_memory_sampler(spec: JobSpec, running: RunningContainer) -> contextlib.AbstractContextManager:
    """NVML per-process memory of the container's host pids, on GPU classes only."""
    gpus = spec.hardware_class.gpu_indices
    parent = running.cgroup_path
    if not gpus or parent is None:
        return contextlib.nullcontext()

    def pids() -> set[int]:
        found: set[int] = set()
        for directory in cgroup.cgroup_dirs(parent):
            found |= nvml.cgroup_pids(directory)
        return found

    return nvml.GpuProcessMemorySampler(gpus, pids)


def _runtime_stats(doc: ResultDocument, subject: str, path: Path, gpu_memory: object) -> None:
    """What the runtime reported about itself at exit, and the GPU memory NVML saw, per process."""
    stats, reason = runtime_stats.read_runtime_stats(path)
    doc.provenance.setdefault("runtime_stats", {}).setdefault(subject, []).append(
        stats if stats is not None else {"unavailable": reason}
    )
    if isinstance(gpu_memory, nvml.GpuProcessMemorySampler):
        entry = doc.provenance.setdefault("gpu_memory", {}).setdefault(subject, {"peak_process_bytes": None})
        if gpu_memory.peak_bytes is not None:
            entry["peak_process_bytes"] = max(entry["peak_process_bytes"] or 0, gpu_memory.peak_bytes)
        if gpu_memory.notes:
            entry["notes"] = sorted(set(entry.get("notes", [])) | set(gpu_memory.notes))
