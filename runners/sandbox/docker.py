"""The hardened Docker sandbox: the only place submitted code runs.

Every container gets the same baseline (no network, read-only root file system, a
size-capped /tmp, no capabilities, no new privileges, Docker's default seccomp profile,
a pids limit, memory == memory + swap, a fixed CPU set, a non-root user, capped logs)
and the runner's label, so that `reap_orphans` finds what a dead runner left behind.

Meters. A container's own cgroup vanishes when it exits, so each container is started
under a cgroup parent that the sandbox owns (`/<cgroup_root>/c-<random>`); the parent
keeps the high-water mark of memory and the CPU time of everything that ran below it,
and is read after the exit, then removed. With Docker's cgroupfs driver the container
itself sits at `<hierarchy>/<cgroup_root>/c-<random>/<container id>`. The parent is
given to Docker as an absolute path: a relative one lands under dockerd's own cgroup,
which on some hosts differs per controller.

The wall-clock limit is enforced here, by a monitor thread that kills the container:
Docker's `wait(timeout=...)` only times out the HTTP request (see docs/PITFALLS).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import docker
import docker.errors
import docker.types
import requests.exceptions

from runners import image_tarball
from runners.meters import cgroup

log = logging.getLogger(__name__)

MANAGED_LABEL = "org.footprint.managed"
# Which runner started a container: runners that share a host (and a hardware class) reap
# only their own, never a job another one is measuring.
RUNNER_LABEL = "org.footprint.runner"
# Which process started a container: tells a leak of this process from another's.
PID_LABEL = "org.footprint.pid"
DEFAULT_USER = "10001:10001"
# How often the monitor looks at a running container (exit, pids events, wall clock).
# The exit itself is seen at once (Docker's wait is a long poll); this bounds how late a
# wall-clock kill can come and how often the pids counter is sampled.
MONITOR_INTERVAL_S = 0.25
# Loading a multi-GB `docker save` tarball takes minutes; the default 60 s HTTP timeout
# would abort it half-way.
IMAGE_LOAD_TIMEOUT_S = 1800
# The json-file driver keeps at most this many files of this size per container.
LOG_FILE_MIN_BYTES = 1 << 20
LOG_FILES = 2
# Non-blocking logs: a container that writes gigabytes to stdout never stalls on the
# engine; past this buffer its lines are dropped (the tail is what a researcher reads).
LOG_BUFFER = "4m"
# Open files per process and files in /tmp: far above what serving a model needs.
NOFILE = 4096
TMP_INODES = 65536
# The host's OOM killer takes a container before the runner or the engine.
OOM_SCORE_ADJ = 800
# The image's environment is not the container's: only these of its variables are kept
# (PATH finds its commands); every other one is set empty, LD_PRELOAD and friends included.
IMAGE_ENV_KEPT = ("PATH",)

_DOCKER_UNREACHABLE = (requests.exceptions.ConnectionError, docker.errors.DockerException)


class SandboxError(Exception):
    """The sandbox cannot do what was asked; `reason` says why in words."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Mount:
    host_path: str
    container_path: str
    read_only: bool = True


@dataclass
class ContainerSpec:
    image: str
    command: list[str]
    mounts: list[Mount] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cpuset: str | None = None
    memory_bytes: int = 2 << 30
    pids_limit: int = 256
    tmpfs_bytes: int = 256 << 20
    wall_limit_s: float = 900.0
    labels: dict[str, str] = field(default_factory=dict)
    log_tail_bytes: int = 8192
    user: str = DEFAULT_USER
    # None: the sandbox makes a unique parent under its cgroup_root and removes it after
    # the exit. A caller that passes one owns it: the meters then cover everything that
    # ran in it, and the caller removes it (runners.meters.cgroup.remove_cgroup).
    cgroup_parent: str | None = None
    gpus: int = 0
    # The host GPUs (indices) the container gets; empty with gpus > 0: the first `gpus`.
    gpu_ids: tuple[int, ...] = ()
    # RLIMIT_FSIZE: no single file the container writes may be larger (None: the default).
    max_file_bytes: int | None = None
    # Called by the monitor every turn: a reason string stops the container (a cancel).
    stop_requested: Callable[[], str | None] | None = None
    # How often the monitor wakes (MONITOR_INTERVAL_S): a server being timed gets a longer
    # one, since every wake-up is Python work that competes with the harness for the GIL.
    monitor_interval_s: float = 0.25


@dataclass
class ContainerOutcome:
    exit_code: int | None = None
    timed_out: bool = False
    oom_killed: bool = False
    # True when a fork was refused by the pids limit, or the container reached it (then
    # any further fork failed): a count seen in `pids.events` while it ran, or the
    # parent cgroup's `pids.peak` after it exited.
    pids_limit_hit: bool = False
    wall_s: float = 0.0
    cpu_s: float | None = None
    peak_memory_bytes: int | None = None
    log_tail: str = ""
    start_error: str | None = None
    killed_reason: str | None = None
    # Set when stop_requested() stopped it (a cancel): not the submission's doing.
    stopped: str | None = None
    container_id: str | None = None
    cgroup_path: str | None = None


class DockerSandbox:
    def __init__(
        self, client: docker.DockerClient | None = None, *, cgroup_root: str = "footprint", runner: str = ""
    ) -> None:
        self._client = client
        self.runner = runner
        self._client_error: str | None = None
        self.cgroup_root = cgroup_root.strip("/")
        self._cgroup_driver: str | None = None
        self._timeout_lock = threading.Lock()

    # -- engine ---------------------------------------------------------------------

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            try:
                self._client = docker.from_env()
            except docker.errors.DockerException as exc:
                raise SandboxError("docker_unavailable", f"cannot reach the Docker engine: {_words(exc)}") from exc
        return self._client

    @classmethod
    def probe(cls) -> tuple[bool, str]:
        """`ping()` of a fresh sandbox on the environment's engine (DOCKER_HOST or the socket)."""
        return cls().ping()

    def ping(self) -> tuple[bool, str]:
        try:
            client = self.client
            client.ping()
            version = client.version()
        except SandboxError as exc:
            return False, exc.reason
        except _DOCKER_UNREACHABLE as exc:
            return False, f"cannot reach the Docker engine: {_words(exc)}"
        return True, (
            f"Docker {version.get('Version', '?')} (API {version.get('ApiVersion', '?')}), "
            f"cgroup v{cgroup.cgroup_version()}, {self.cgroup_driver()} driver"
        )

    def cgroup_driver(self) -> str:
        if self._cgroup_driver is None:
            try:
                self._cgroup_driver = str(self.client.info().get("CgroupDriver") or "cgroupfs")
            except _DOCKER_UNREACHABLE as exc:
                raise SandboxError("docker_unavailable", f"cannot reach the Docker engine: {_words(exc)}") from exc
        return self._cgroup_driver

    @contextmanager
    def _client_timeout(self, timeout_s: float) -> Iterator[None]:
        api = self.client.api
        with self._timeout_lock:
            previous = api.timeout
            api.timeout = max(previous, timeout_s)
            try:
                yield
            finally:
                api.timeout = previous

    # -- images ---------------------------------------------------------------------

    def image_id(self, reference: str) -> str | None:
        """The id of the local image `reference` (an id or a name) names now; None if absent."""
        try:
            return self.client.images.get(reference).id
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError:
            return None  # an invalid reference
        except _DOCKER_UNREACHABLE as exc:
            raise SandboxError("docker_unavailable", f"cannot reach the Docker engine: {_words(exc)}") from exc

    def has_image(self, image_id: str) -> bool:
        try:
            self.client.images.get(image_id)
            return True
        except docker.errors.ImageNotFound:
            return False
        except _DOCKER_UNREACHABLE as exc:
            raise SandboxError("docker_unavailable", f"cannot reach the Docker engine: {_words(exc)}") from exc

    def ensure_image(
        self,
        image_id: str,
        tarball_path: str | Path,
        *,
        scratch_dir: str | Path,
        max_expanded_bytes: int = image_tarball.DEFAULT_MAX_EXPANDED_BYTES,
    ) -> str:
        """The image `image_id`, loaded from `tarball_path` (a `docker save` file) if absent.

        The tarball is never loaded as it is: a copy without its names (which `docker load`
        would apply, re-pointing any tag on this engine) and with its layers' expanded size
        checked is written under `scratch_dir` and loaded from there, then removed.
        Raises FileNotFoundError when the tarball is missing, SandboxError when it is not
        an image, is refused, or holds another image than the one recorded at upload.
        """
        expected = image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"
        if self.has_image(expected):
            return expected
        safe = Path(scratch_dir) / f"image-{uuid.uuid4().hex}.tar"
        try:
            with open(safe, "wb") as copy:
                image_tarball.copy_without_names(str(tarball_path), copy, max_expanded_bytes=max_expanded_bytes)
        except image_tarball.TarballRefused as exc:
            safe.unlink(missing_ok=True)
            raise SandboxError("image_refused", exc.reason) from exc
        except BaseException:
            safe.unlink(missing_ok=True)
            raise
        try:
            return self._load(safe, expected)
        finally:
            safe.unlink(missing_ok=True)

    def pull_image(self, reference: str, image_id: str) -> str:
        """The image `image_id`, pulled by `reference` (`host/name@sha256:<digest>`) if absent.

        A digest reference names the manifest exactly, and a pull by digest sets no tag; the
        image the pull gives must still be `image_id` (its config digest, recorded when the
        reference was checked), or it is removed and refused.
        """
        expected = image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"
        if self.has_image(expected):
            return expected
        if "@sha256:" not in reference:
            raise SandboxError("image_pull_failed", f"{reference} is not pinned by digest")
        repository, digest = reference.rsplit("@", 1)
        with self._client_timeout(IMAGE_LOAD_TIMEOUT_S):
            try:
                self.client.api.pull(repository, tag=digest)
                pulled = self.client.images.get(reference)
            except docker.errors.APIError as exc:
                raise SandboxError("image_pull_failed", f"{reference} could not be pulled: {_words(exc)}") from exc
            except _DOCKER_UNREACHABLE as exc:
                raise SandboxError("docker_unavailable", f"cannot reach the Docker engine: {_words(exc)}") from exc
        if pulled.id != expected:
            with contextlib.suppress(docker.errors.APIError):
                self.client.images.remove(pulled.id, force=True)
            raise SandboxError(
                "image_id_mismatch", f"{reference} pulled as {pulled.id}, not the {expected} recorded at submission"
            )
        return expected

    def _load(self, tarball_path: Path, expected: str) -> str:
        # An open file, not its bytes: docker-py streams it, so the tarball never sits in memory.
        with open(tarball_path, "rb") as tarball, self._client_timeout(IMAGE_LOAD_TIMEOUT_S):
            try:
                images = self.client.images.load(tarball)
            except docker.errors.ImageLoadError as exc:
                raise SandboxError("image_load_failed", _load_error(str(exc))) from exc
            except docker.errors.APIError as exc:
                raise SandboxError("image_load_failed", _load_error(_words(exc))) from exc
            except _DOCKER_UNREACHABLE as exc:
                raise SandboxError("docker_unavailable", f"cannot reach the Docker engine: {_words(exc)}") from exc
        loaded = [image.id for image in images]
        if loaded != [expected]:
            for other in set(loaded) - {expected}:  # nothing of a refused tarball stays
                with contextlib.suppress(docker.errors.APIError):
                    self.client.images.remove(other, force=True)
            raise SandboxError(
                "image_id_mismatch",
                f"the tarball loaded as {', '.join(loaded) or 'no image'}, expected {expected}",
            )
        return expected

    # -- containers -----------------------------------------------------------------

    def run(self, spec: ContainerSpec) -> ContainerOutcome:
        """Run a container to its end (or its wall-clock limit); it is always removed."""
        with self.start(spec) as running:
            return running.wait()

    def start(self, spec: ContainerSpec) -> RunningContainer:
        """Start a container (a server) and hand it back while it runs.

        A container that cannot start (no such executable, missing image...) does not
        raise: the handle is not alive and its outcome carries `start_error`. Raises
        SandboxError only when the engine itself cannot be reached.
        """
        parent, owned = self._cgroup_parent(spec)
        try:
            container = self.client.containers.create(**self._create_kwargs(spec, parent))
        except (docker.errors.ImageNotFound, docker.errors.NotFound) as exc:
            return self._not_started(
                parent, owned, None, f"the image {spec.image} is not on this runner ({_words(exc)})"
            )
        except docker.errors.APIError as exc:
            return self._not_started(parent, owned, None, readable_start_error(_words(exc)))
        except _DOCKER_UNREACHABLE as exc:
            self._remove_parent(parent, owned)
            raise SandboxError("docker_unavailable", f"cannot reach the Docker engine: {_words(exc)}") from exc
        try:
            container.start()
        except docker.errors.APIError as exc:
            self._remove_container(container)
            return self._not_started(parent, owned, container.id, readable_start_error(_words(exc)))
        except _DOCKER_UNREACHABLE as exc:
            self._remove_container(container)
            self._remove_parent(parent, owned)
            raise SandboxError("docker_unavailable", f"cannot reach the Docker engine: {_words(exc)}") from exc
        return RunningContainer(self, container, spec, parent_path=parent, owns_parent=owned)

    def reap_orphans(self, label: str = MANAGED_LABEL) -> int:
        """Remove every container carrying `label` ("key" or "key=value"); returns how many.

        Called when a runner starts: its predecessor may have died (a Celery hard time
        limit kills the worker, not its containers). Also removes the empty cgroup
        parents such runs left under the sandbox's cgroup root. A sandbox that knows its
        runner leaves alone the containers another runner started (RUNNER_LABEL).
        """
        count = 0
        if self.cgroup_driver() == "cgroupfs":
            cgroup.thaw_below(self.cgroup_root)  # a killed runner may have left a server frozen
        for container in self.client.containers.list(all=True, filters={"label": label}):
            owner = container.labels.get(RUNNER_LABEL)
            if self.runner and owner and owner != self.runner:
                continue
            try:
                container.remove(force=True, v=True)
                count += 1
            except docker.errors.NotFound:
                pass
        if self.cgroup_driver() == "cgroupfs":
            names: set[str] = set()
            for directory in cgroup.cgroup_dirs(self.cgroup_root):
                try:
                    names.update(c.name for c in directory.iterdir() if c.is_dir() and c.name.startswith("c-"))
                except OSError:
                    continue
            for name in sorted(names):
                # rmdir refuses a cgroup that still holds a process: a live container
                # (another runner's, on a shared host) keeps its parent.
                cgroup.remove_cgroup(f"{self.cgroup_root}/{name}")
        return count

    # -- internals ------------------------------------------------------------------

    def _cgroup_parent(self, spec: ContainerSpec) -> tuple[str, bool]:
        """(path relative to the hierarchy root, whether the sandbox owns it)."""
        if spec.cgroup_parent:
            return spec.cgroup_parent.strip("/"), False
        name = uuid.uuid4().hex[:16]
        if self.cgroup_driver() == "systemd":
            # systemd wants a slice; "a-b.slice" nests under "a.slice", so no dashes in the root.
            root = self.cgroup_root.replace("-", "_")
            return f"{root}.slice/{root}-c{name}.slice", True
        return f"{self.cgroup_root}/c-{name}", True

    def _docker_cgroup_parent(self, parent: str) -> str:
        if self.cgroup_driver() == "systemd":
            return parent.rsplit("/", 1)[-1]
        return f"/{parent}"

    def container_cgroup(self, parent: str, container_id: str) -> str:
        if self.cgroup_driver() == "systemd":
            return f"{parent}/docker-{container_id}.scope"
        return f"{parent}/{container_id}"

    def _image_env_names(self, image: str) -> list[str]:
        """The names of the variables the image's config sets (cached per image)."""
        cache = self.__dict__.setdefault("_image_env_cache", {})
        if image not in cache:
            try:
                env = self.client.api.inspect_image(image).get("Config", {}).get("Env") or []
            except docker.errors.APIError:
                env = []  # no such image: create() says so with the right words
            cache[image] = [str(item).split("=", 1)[0] for item in env]
        return cache[image]

    def container_environment(self, spec: ContainerSpec) -> dict[str, str]:
        """What the runner sets, and every other variable of the image's set empty but PATH."""
        environment = {name: "" for name in self._image_env_names(spec.image) if name not in IMAGE_ENV_KEPT}
        environment.update(spec.env)
        return environment

    def _create_kwargs(self, spec: ContainerSpec, parent: str) -> dict:
        log_file_bytes = max(LOG_FILE_MIN_BYTES, 2 * spec.log_tail_bytes)
        ulimits = [
            docker.types.Ulimit(name="core", soft=0, hard=0),
            docker.types.Ulimit(name="nofile", soft=NOFILE, hard=NOFILE),
        ]
        if spec.max_file_bytes is not None:
            ulimits.append(docker.types.Ulimit(name="fsize", soft=spec.max_file_bytes, hard=spec.max_file_bytes))
        kwargs: dict = {
            "image": spec.image,
            "command": list(spec.command),
            "environment": self.container_environment(spec),
            "ulimits": ulimits,
            "oom_score_adj": OOM_SCORE_ADJ,
            "labels": {
                **spec.labels,
                MANAGED_LABEL: "1",
                PID_LABEL: str(os.getpid()),
                **({RUNNER_LABEL: self.runner} if self.runner else {}),
            },
            "user": spec.user,
            "working_dir": "/tmp",
            "network_mode": "none",
            "read_only": True,
            # exec: torch.compile and friends dlopen what they build in /tmp; the code is
            # untrusted Python anyway, the boundary is the container, not noexec.
            "tmpfs": {"/tmp": f"size={int(spec.tmpfs_bytes)},nr_inodes={TMP_INODES},mode=1777,exec"},
            "cap_drop": ["ALL"],
            # Docker's default seccomp profile stays on: never "seccomp=unconfined".
            "security_opt": ["no-new-privileges"],
            "pids_limit": int(spec.pids_limit),
            "mem_limit": int(spec.memory_bytes),
            "memswap_limit": int(spec.memory_bytes),
            # A private IPC namespace keeps a /dev/shm (multiprocessing needs it); its
            # pages are charged to the container's memory.
            "ipc_mode": "private",
            "init": False,
            "auto_remove": False,
            "stdin_open": False,
            "tty": False,
            "cgroup_parent": self._docker_cgroup_parent(parent),
            "log_config": docker.types.LogConfig(
                type=docker.types.LogConfig.types.JSON,
                config={
                    "max-size": str(log_file_bytes),
                    "max-file": str(LOG_FILES),
                    "mode": "non-blocking",
                    "max-buffer-size": LOG_BUFFER,
                },
            ),
            "mounts": [
                docker.types.Mount(m.container_path, m.host_path, type="bind", read_only=m.read_only)
                for m in spec.mounts
            ],
        }
        if spec.cpuset:
            kwargs["cpuset_cpus"] = spec.cpuset
        if spec.gpus > 0:
            # By id, through the NVIDIA container toolkit: the GPUs the runner meters
            # (runners.meters.nvml) and no other, so that two GPU classes on one host, each
            # with its runner's FOOTPRINT_RUNNER_GPUS, never share one.
            ids = [str(i) for i in (spec.gpu_ids or range(spec.gpus))]
            kwargs["device_requests"] = [docker.types.DeviceRequest(device_ids=ids, capabilities=[["gpu"]])]
            # The container's environment replaces the image's: an image asking for every
            # GPU or every driver capability (graphics, display, video) gets neither.
            kwargs["environment"].update(
                NVIDIA_VISIBLE_DEVICES=",".join(ids),
                NVIDIA_DRIVER_CAPABILITIES="compute,utility",
            )
        else:
            # On a host whose default runtime is nvidia, an image's ENV NVIDIA_VISIBLE_DEVICES=all
            # would hand a CPU class's container every GPU; "void": no GPU, no driver files.
            kwargs["environment"]["NVIDIA_VISIBLE_DEVICES"] = "void"
        return kwargs

    def _not_started(self, parent: str, owned: bool, container_id: str | None, reason: str) -> RunningContainer:
        self._remove_parent(parent, owned)
        outcome = ContainerOutcome(start_error=reason, container_id=container_id, cgroup_path=parent)
        return RunningContainer.not_started(self, outcome)

    def _remove_container(self, container) -> None:
        try:
            # v=True: an anonymous volume of the image's VOLUME goes with it.
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        except (docker.errors.APIError, *_DOCKER_UNREACHABLE):
            log.exception("could not remove container %s; reap_orphans will", container.id)

    def _remove_parent(self, parent: str, owned: bool) -> None:
        if owned and self.cgroup_driver() == "cgroupfs":
            if not cgroup.remove_cgroup(parent):
                log.warning("cgroup %s is still in use; reap_orphans will remove it", parent)


class RunningContainer:
    """A started container. Use as a context manager: leaving it always removes the container."""

    def __init__(
        self,
        sandbox: DockerSandbox,
        container,
        spec: ContainerSpec,
        *,
        parent_path: str,
        owns_parent: bool,
    ) -> None:
        self._sandbox = sandbox
        self._container = container
        self._spec = spec
        self._parent = parent_path
        self._owns_parent = owns_parent
        self._outcome: ContainerOutcome | None = None
        self._exited = threading.Event()
        self._stop_monitor = threading.Event()
        self._kill_lock = threading.Lock()
        self._killed_reason: str | None = None
        self._timed_out = False
        self._pids_events = 0
        self._monitor_error: str | None = None
        self._frozen_by: str | None = None  # "cgroup" or "engine" while frozen
        self._stopped_reason: str | None = None  # a stop_requested() answer that killed it
        self._started_monotonic = time.monotonic()
        self._deadline = self._started_monotonic + float(spec.wall_limit_s)
        self._monitor = threading.Thread(target=self._watch, name=f"footprint-watch-{container.short_id}", daemon=True)
        self._monitor.start()

    @classmethod
    def not_started(cls, sandbox: DockerSandbox, outcome: ContainerOutcome) -> RunningContainer:
        handle = cls.__new__(cls)
        handle._sandbox = sandbox
        handle._container = None
        handle._outcome = outcome
        handle._exited = threading.Event()
        handle._exited.set()
        handle._stop_monitor = threading.Event()
        handle._stop_monitor.set()
        handle._monitor = None
        handle._frozen_by = None
        return handle

    @property
    def id(self) -> str | None:
        return self._container.id if self._container is not None else None

    @property
    def start_error(self) -> str | None:
        return self._outcome.start_error if self._outcome is not None else None

    def __enter__(self) -> RunningContainer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._outcome is None:
            self._kill("the runner stopped using the container")
            self._finish()

    def is_alive(self) -> bool:
        return not self._exited.is_set()

    def peak_memory_bytes(self) -> int | None:
        """High-water mark of the container's memory so far (also after its exit)."""
        if self._outcome is not None:
            return self._outcome.peak_memory_bytes
        return cgroup.memory_peak_bytes(self._parent)

    @property
    def cgroup_path(self) -> str | None:
        """The parent cgroup the container runs under (relative to a hierarchy's root)."""
        return getattr(self, "_parent", None)

    def cpu_time_s(self) -> float | None:
        """CPU seconds the container's processes used so far (also after its exit); None
        when the cgroup cannot be read (a container that never started)."""
        if self._outcome is not None:
            return self._outcome.cpu_s
        return cgroup.cpu_time_s(self._parent)

    # -- freezing -------------------------------------------------------------------

    @property
    def frozen(self) -> bool:
        return self._frozen_by is not None

    def freeze(self) -> None:
        """Stop every process of the container from running until thaw() (no signal it can
        see: the kernel's freezer). Used to keep a server that is not being timed off the CPUs
        it shares with one that is. Falls back on the engine's pause where the cgroup files
        cannot be written (a systemd-driven engine); raises SandboxError if neither works."""
        if self._container is None or self.frozen or self._exited.is_set():
            return
        path = self._sandbox.container_cgroup(self._parent, self._container.id)
        if cgroup.set_frozen(path, True):
            self._frozen_by = "cgroup"
            return
        try:
            self._container.pause()
            self._frozen_by = "engine"
        except (docker.errors.APIError, *_DOCKER_UNREACHABLE) as exc:
            raise SandboxError("freeze_failed", f"the container could not be frozen: {_words(exc)}") from exc

    def thaw(self) -> None:
        how = self._frozen_by
        if how is None or self._container is None:
            return
        self._frozen_by = None
        if how == "cgroup":
            if not cgroup.set_frozen(self._sandbox.container_cgroup(self._parent, self._container.id), False):
                raise SandboxError("freeze_failed", "the container could not be thawed")
            return
        try:
            self._container.unpause()
        except (docker.errors.APIError, *_DOCKER_UNREACHABLE) as exc:
            raise SandboxError("freeze_failed", f"the container could not be unpaused: {_words(exc)}") from exc

    def wait(self) -> ContainerOutcome:
        """Wait for the exit (the monitor kills at the wall-clock limit), then clean up."""
        if self._outcome is None:
            self._exited.wait()
            self._finish()
        assert self._outcome is not None
        return self._outcome

    def stop(self, grace_s: float) -> ContainerOutcome:
        """After the harness asked the server to shut down: wait up to grace_s, then kill."""
        if self._outcome is None:
            if not self._exited.wait(timeout=max(0.0, grace_s)):
                self._kill(f"it did not exit within {grace_s:g} s of the shutdown request")
                self._exited.wait(timeout=30)
            self._finish()
        assert self._outcome is not None
        return self._outcome

    # -- monitor --------------------------------------------------------------------

    def _watch(self) -> None:
        try:
            self._watch_until_exit()
        except Exception:  # a bug here must not leave wait() blocked forever
            log.exception("the monitor of container %s failed", self._container.id)
            self._monitor_error = "the runner lost track of the container (see the runner's log)"
            self._kill("the runner lost track of it")
        finally:
            self._exited.set()

    def _watch_until_exit(self) -> None:
        container_cgroup = self._sandbox.container_cgroup(self._parent, self._container.id)
        quick_failures = 0
        while not self._stop_monitor.is_set():
            to_deadline_s = self._deadline - time.monotonic()
            interval = self._spec.monitor_interval_s
            timeout_s = interval if self._timed_out else max(0.01, min(interval, to_deadline_s))
            asked = time.monotonic()
            try:
                self._container.wait(timeout=timeout_s)
                return
            except docker.errors.NotFound:
                self._monitor_error = "the container was removed by someone else while it ran"
                return
            except Exception as exc:  # noqa: BLE001 - docker-py times out with several exception types
                # A timed-out long poll is the normal case; an engine that fails at once,
                # again and again, is gone.
                if time.monotonic() - asked < timeout_s / 2:
                    quick_failures += 1
                    if quick_failures >= 40:
                        self._monitor_error = f"lost the Docker engine while the container ran: {_words(exc)}"
                        return
                    time.sleep(timeout_s)
                else:
                    quick_failures = 0
            events = cgroup.pids_max_events(container_cgroup)
            if events:
                self._pids_events = max(self._pids_events, events)
            if time.monotonic() >= self._deadline:
                # Again at every turn until it is gone: a kill lost to an engine hiccup is retried.
                self._timed_out = True
                self._kill(f"it ran past the wall-clock limit of {self._spec.wall_limit_s:g} s")
            if self._spec.stop_requested is not None:
                reason = self._spec.stop_requested()
                if reason:
                    self._stopped_reason = reason
                    self._kill(reason)

    def _kill(self, reason: str) -> None:
        with self._kill_lock:
            if self._container is None or self._exited.is_set():
                return
            if self._killed_reason is None:
                self._killed_reason = reason
            try:
                # A frozen process would not die of the signal until thawed.
                self.thaw()
            except SandboxError:
                log.exception("could not thaw container %s before killing it", self._container.id)
            try:
                self._container.kill()
            except docker.errors.APIError:
                pass  # it exited between our look and the kill
            except _DOCKER_UNREACHABLE:
                log.exception("could not kill container %s", self._container.id)

    # -- end ------------------------------------------------------------------------

    def _finish(self) -> None:
        """Read the exit state, the log tail and the meters; remove container and cgroup."""
        sandbox, spec, container = self._sandbox, self._spec, self._container
        outcome = ContainerOutcome(container_id=container.id, cgroup_path=self._parent)
        try:
            if not self._exited.is_set():
                # Only reached when the kill itself failed; do not leave it running.
                self._exited.wait(timeout=10)
            try:
                container.reload()
                state = container.attrs.get("State", {})
            except (docker.errors.APIError, *_DOCKER_UNREACHABLE):
                state = {}
            running = bool(state.get("Running"))
            outcome.exit_code = None if running or "ExitCode" not in state else int(state["ExitCode"])
            outcome.oom_killed = bool(state.get("OOMKilled"))
            outcome.timed_out = self._timed_out
            outcome.stopped = self._stopped_reason
            outcome.wall_s = _wall_s(state) or (time.monotonic() - self._started_monotonic)
            outcome.log_tail = _log_tail(container, spec.log_tail_bytes)
            outcome.peak_memory_bytes = cgroup.memory_peak_bytes(self._parent)
            outcome.cpu_s = cgroup.cpu_time_s(self._parent)
            peak_pids = cgroup.pids_peak(self._parent)
            outcome.pids_limit_hit = self._pids_events > 0 or (peak_pids is not None and peak_pids >= spec.pids_limit)
            if outcome.oom_killed:
                outcome.killed_reason = f"it exceeded the memory limit of {spec.memory_bytes} bytes (memory + swap)"
            else:
                outcome.killed_reason = self._killed_reason or self._monitor_error
        finally:
            self._stop_monitor.set()
            self._exited.set()
            self._outcome = outcome
            sandbox._remove_container(container)
            if self._monitor is not None and self._monitor is not threading.current_thread():
                self._monitor.join(timeout=5)
            if self._owns_parent:
                # The container's own cgroup is gone once Docker removed it; the parent
                # must go too, or /sys/fs/cgroup fills with empty directories.
                sandbox._remove_parent(self._parent, True)


def _log_tail(container, tail_bytes: int) -> str:
    """The last `tail_bytes` of stdout+stderr, without holding the whole log in memory."""
    if tail_bytes <= 0:
        return ""
    kept = bytearray()
    try:
        # Every line is at least one byte, so the last `tail_bytes` lines hold the last
        # `tail_bytes` bytes; the json-file cap bounds what is streamed.
        for chunk in container.logs(stdout=True, stderr=True, stream=True, follow=False, tail=tail_bytes):
            kept += chunk
            if len(kept) > 2 * tail_bytes:
                del kept[: len(kept) - tail_bytes]
    except (docker.errors.APIError, *_DOCKER_UNREACHABLE) as exc:
        return f"(the log could not be read: {_words(exc)})"
    return bytes(kept[-tail_bytes:]).decode("utf-8", errors="replace")


def parse_docker_time(text: str | None) -> datetime | None:
    if not text or text.startswith("0001-"):
        return None
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not match:
        return None
    fraction = (match.group(2) or "0")[:6].ljust(6, "0")
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    try:
        return datetime.fromisoformat(f"{match.group(1)}.{fraction}{zone}")
    except ValueError:
        return None


def _wall_s(state: dict) -> float | None:
    """Start to exit as the engine recorded them (more exact than our API round trips)."""
    started, finished = parse_docker_time(state.get("StartedAt")), parse_docker_time(state.get("FinishedAt"))
    if started is None or finished is None or finished < started:
        return None
    return (finished - started).total_seconds()


_NOISE = re.compile(
    r"^(?:OCI runtime (?:create|start|exec) failed: )?(?:runc (?:create|start) failed: )?"
    r"(?:container_linux\.go:\d+: )?(?:starting container process caused:? )?"
    r"(?:unable to start container process: )?"
)


def readable_start_error(explanation: str) -> str:
    """Docker's start error in words a submitter can act on."""
    match = re.search(r'exec: "([^"]*)": executable file not found in \$PATH', explanation)
    if match:
        return f"the image has no `{match.group(1)}` command on its PATH"
    match = re.search(r'exec: "([^"]*)": stat [^:]*: no such file or directory', explanation)
    if match:
        return f"`{match.group(1)}` does not exist in the image"
    match = re.search(r'exec:? "?([^":]*)"?: permission denied', explanation)
    if match:
        return f"`{match.group(1)}` is not executable by the container's user"
    match = re.search(r"exec (\S+): no such file or directory", explanation)
    if match:
        return f"`{match.group(1)}` cannot be executed: its interpreter (the #! line) or a library it needs is missing"
    text = _NOISE.sub("", explanation.strip())
    return re.sub(r": unknown$", "", text) or explanation


def _load_error(message: str) -> str:
    if re.search(r"(repositories|manifest\.json): no such file or directory", message):
        hint = "the file is not a `docker save` tarball (it has neither manifest.json nor repositories)"
    elif "invalid tar header" in message or "unexpected EOF" in message:
        hint = "the file is not a complete tar archive"
    else:
        hint = "docker refused it"
    return f"docker could not load the tarball: {hint} ({message})"


def _words(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return str(explanation)
    return str(exc) or type(exc).__name__
