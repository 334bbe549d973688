"""NVIDIA GPUs through NVML: the runner host's GPUs, their energy counters, per-process memory.

Read on the runner host, never inside the untrusted container. NVML comes from the
`nvidia-ml-py` package (module `pynvml`), imported lazily: a CPU-only runner neither needs
the package nor a driver, and every function here then answers "nothing" with a reason
in words instead of raising.

- `gpu_fingerprint()`: what the result's provenance records about the host's GPUs.
- `available_counters(indices)`: NVML total-energy counters (`nvmlDeviceGetTotalEnergyConsumption`,
  millijoules since the driver was loaded; Volta and newer) for runners.meters.energy.
- `GpuProcessMemorySampler`: the GPU memory held by a container's processes, sampled in
  the background (`nvmlDeviceGetComputeRunningProcesses` / `...GraphicsRunningProcesses`).
  NVML on the host reports host pids, so the container's processes are found through its
  cgroup's `cgroup.procs` (`cgroup_pids`).

GPU indices are NVML's (PCI bus order), which is also what Docker's device requests and
the NVIDIA container toolkit mean by an index (not CUDA's default "fastest first" order).
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE_PIN = "nvidia-ml-py==13.615.71"
SAMPLE_INTERVAL_S = 0.05
# cgroup.procs of a container: a few hundred pids at most (the pids limit); bounded anyway.
MAX_CGROUP_PROCS_BYTES = 1 << 20


class NvmlReadError(OSError):
    """A counter that worked when it was found cannot be read any more (the GPU fell off the bus...)."""


def _load() -> tuple[ModuleType | None, str]:
    """(pynvml initialised, "") or (None, why not). A success must be paired with _shutdown."""
    try:
        import pynvml
    except ImportError:
        return None, f"NVML bindings not installed (pip install {PACKAGE_PIN})"
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        return None, _init_failure(pynvml, exc)
    except Exception as exc:  # noqa: BLE001 - a broken libnvidia-ml.so, bindings of another era
        return None, f"NVML could not be initialised: {type(exc).__name__}: {exc}"
    return pynvml, ""


def _init_failure(pynvml: ModuleType, exc: Exception) -> str:
    code = getattr(exc, "value", None)
    if code == getattr(pynvml, "NVML_ERROR_LIBRARY_NOT_FOUND", object()):
        return "NVML library not found (no NVIDIA driver)"
    if code == getattr(pynvml, "NVML_ERROR_DRIVER_NOT_LOADED", object()):
        return "NVIDIA driver not loaded (NVML: Driver Not Loaded)"
    if code == getattr(pynvml, "NVML_ERROR_NO_PERMISSION", object()):
        return "NVML refused this user (Insufficient Permissions)"
    return f"NVML could not be initialised: {_text(exc)}"


def _shutdown(pynvml: ModuleType) -> None:
    try:
        pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001 - a failed shutdown changes nothing for the caller
        pass


def _text(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - pynvml's __str__ itself calls into the library
        text = ""
    return text or type(exc).__name__


def _is(pynvml: ModuleType, exc: Exception, name: str) -> bool:
    return getattr(exc, "value", None) == getattr(pynvml, name, object())


def _str(value: Any) -> str:
    # nvidia-ml-py decodes to str on Python 3; older bindings handed back bytes.
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# -- fingerprint -------------------------------------------------------------------------


def gpu_fingerprint() -> tuple[list[dict[str, Any]], str]:
    """Every GPU NVML sees: [{"index", "name", "uuid", "driver_version", "memory_total_bytes"}], note.

    The note is "" when every GPU was described in full, else why there are none or which
    field could not be read (that field is then None). Never raises.
    """
    pynvml, reason = _load()
    if pynvml is None:
        return [], reason
    try:
        return _fingerprint(pynvml)
    except Exception as exc:  # noqa: BLE001 - bindings that misbehave must not fail a job
        return [], f"NVML failed while describing the GPUs: {type(exc).__name__}: {exc}"
    finally:
        _shutdown(pynvml)


def _fingerprint(pynvml: ModuleType) -> tuple[list[dict[str, Any]], str]:
    gpus: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        driver_version: str | None = _str(pynvml.nvmlSystemGetDriverVersion())
    except pynvml.NVMLError as exc:
        driver_version = None
        problems.append(f"driver version unreadable ({_text(exc)})")
    try:
        count = int(pynvml.nvmlDeviceGetCount())
    except pynvml.NVMLError as exc:
        return [], f"NVML could not count the GPUs: {_text(exc)}"
    for index in range(count):
        gpu: dict[str, Any] = {
            "index": index,
            "name": None,
            "uuid": None,
            "driver_version": driver_version,
            "memory_total_bytes": None,
        }
        gpus.append(gpu)
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        except pynvml.NVMLError as exc:
            problems.append(f"GPU {index}: {_text(exc)}")
            continue
        for key, read in (
            ("name", lambda h: _str(pynvml.nvmlDeviceGetName(h))),
            ("uuid", lambda h: _str(pynvml.nvmlDeviceGetUUID(h))),
            ("memory_total_bytes", lambda h: int(pynvml.nvmlDeviceGetMemoryInfo(h).total)),
        ):
            try:
                gpu[key] = read(handle)
            except pynvml.NVMLError as exc:
                problems.append(f"GPU {index} {key} unreadable ({_text(exc)})")
    if not gpus:
        return [], "NVML found no GPU"
    return gpus, "; ".join(problems)


# -- energy ------------------------------------------------------------------------------


class NvmlEnergyCounter:
    """One GPU's total-energy counter, in joules since the driver was loaded.

    Holds an NVML reference (nvmlInit is reference-counted) until `close()`; a runner
    process may keep it for its lifetime. `read_j()` raises NvmlReadError when the GPU
    stops answering: a figure is never made up.
    """

    def __init__(self, pynvml: ModuleType, index: int, handle: Any) -> None:
        self.name = f"nvml:{index}"
        self.index = index
        self._pynvml = pynvml
        self._handle = handle
        self._closed = False

    def read_j(self) -> float:
        if self._closed:
            raise NvmlReadError(f"{self.name}: the counter was closed")
        try:
            millijoules = self._pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
        except self._pynvml.NVMLError as exc:
            raise NvmlReadError(f"{self.name}: total energy unreadable ({_text(exc)})") from exc
        return int(millijoules) / 1000.0

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _shutdown(self._pynvml)


def available_counters(indices: Iterable[int]) -> tuple[list[NvmlEnergyCounter], list[str]]:
    """The energy counters of GPUs `indices` that can be read now, and a note for each that cannot.

    Pre-Volta GPUs answer NVML_ERROR_NOT_SUPPORTED. Never raises.
    """
    wanted = list(indices)
    if not wanted:
        return [], []
    counters: list[NvmlEnergyCounter] = []
    notes: list[str] = []
    for index in wanted:
        pynvml, reason = _load()  # one NVML reference per counter, released by its close()
        if pynvml is None:
            return counters, [*notes, f"no NVML energy counter for GPU {', '.join(map(str, wanted))}: {reason}"]
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(int(index))
            counter = NvmlEnergyCounter(pynvml, int(index), handle)
            counter.read_j()
        except pynvml.NVMLError as exc:
            _shutdown(pynvml)
            notes.append(f"nvml:{index}: no such GPU on this host ({_text(exc)})")
            continue
        except NvmlReadError as exc:
            _shutdown(pynvml)
            cause = exc.__cause__
            if isinstance(cause, Exception) and _is(pynvml, cause, "NVML_ERROR_NOT_SUPPORTED"):
                notes.append(f"nvml:{index}: this GPU has no total-energy counter (NVML: Not Supported; needs Volta+)")
            else:
                notes.append(str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - bindings that misbehave must not fail a job
            _shutdown(pynvml)
            notes.append(f"nvml:{index}: NVML failed: {type(exc).__name__}: {exc}")
            continue
        counters.append(counter)
    return counters, notes


# -- per-process GPU memory --------------------------------------------------------------


def cgroup_pids(path: str | Path) -> set[int]:
    """The pids in a `cgroup.procs` file, or in every `cgroup.procs` below a cgroup directory.

    Tolerant: a missing file (the container exited), an unreadable one or a malformed
    line gives fewer pids, never an error.
    """
    root = Path(path)
    try:
        is_dir = stat.S_ISDIR(root.stat().st_mode)
    except OSError:
        return set()
    files = [root / "cgroup.procs"] if is_dir else [root]
    if is_dir:
        # A container's own cgroup may hold child cgroups (systemd scopes, nested runtimes).
        for directory, dirs, _ in os.walk(root, onerror=lambda _exc: None):
            dirs.sort()
            files.extend(Path(directory) / d / "cgroup.procs" for d in dirs)
    pids: set[int] = set()
    for file in files:
        try:
            with open(file, "rb") as f:
                data = f.read(MAX_CGROUP_PROCS_BYTES)
        except OSError:
            continue
        for token in data.split():
            if token.isdigit():
                pids.add(int(token))
    return pids


class GpuProcessMemorySampler:
    """Peak GPU memory of a set of processes (a container's), sampled every ~50 ms.

        with GpuProcessMemorySampler([0], lambda: cgroup_pids(procs_file)) as sampler:
            ...  # the container serves
        sampler.peak_bytes  # int, or None with sampler.notes saying why

    Each sample sums `usedGpuMemory` over the processes whose host pid `pids_fn()` returns,
    on every GPU in `indices` (a process listed as both compute and graphics counts once);
    `peak_bytes` is the largest sum. NVML may report a process's memory as not available
    (NVML_VALUE_NOT_AVAILABLE: pynvml gives None): then `memory_unavailable` is True,
    `peak_bytes` is None (a sum missing a process would understate the peak) and a note
    says so. Memory that no process of the set holds (other tenants, the driver) is not
    counted. Never raises; a short-lived process between two samples is missed.
    """

    def __init__(
        self,
        indices: Iterable[int],
        pids_fn: Callable[[], Iterable[int]],
        *,
        interval_s: float = SAMPLE_INTERVAL_S,
    ) -> None:
        self.indices = [int(i) for i in indices]
        self._pids_fn = pids_fn
        self._interval_s = interval_s
        self._pynvml: ModuleType | None = None
        self._handles: dict[int, Any] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._peak: int | None = None
        self._noted: set[str] = set()
        self.notes: list[str] = []
        self.samples = 0
        self.memory_unavailable = False

    @property
    def peak_bytes(self) -> int | None:
        with self._lock:
            return None if self.memory_unavailable else self._peak

    def _note(self, text: str) -> None:
        with self._lock:
            if text not in self._noted and len(self.notes) < 20:
                self._noted.add(text)
                self.notes.append(text)

    def __enter__(self) -> GpuProcessMemorySampler:
        if not self.indices:
            self._note("no GPU to sample")
            return self
        pynvml, reason = _load()
        if pynvml is None:
            self._note(f"GPU process memory not sampled: {reason}")
            return self
        for index in self.indices:
            try:
                self._handles[index] = pynvml.nvmlDeviceGetHandleByIndex(index)
            except pynvml.NVMLError as exc:
                self._note(f"GPU {index}: no such GPU on this host ({_text(exc)})")
            except Exception as exc:  # noqa: BLE001 - bindings that misbehave must not fail a job
                self._note(f"GPU {index}: NVML failed: {type(exc).__name__}: {exc}")
        if not self._handles:
            _shutdown(pynvml)
            return self
        self._pynvml = pynvml
        self._thread = threading.Thread(target=self._run, name="gpu-process-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._pynvml is not None:
            self.sample_once()  # the last state before the caller reads the peak
            _shutdown(self._pynvml)
            self._pynvml = None
        if self._peak is None and not self.memory_unavailable and self._handles:
            self._note("no process of the container held GPU memory while it was sampled")

    def _run(self) -> None:
        while True:
            try:
                self.sample_once()
            except Exception as exc:  # noqa: BLE001 - a sampler bug must not stop the job
                self._note(f"GPU memory sampling failed: {type(exc).__name__}: {exc}")
            if self._stop.wait(self._interval_s):
                return

    def sample_once(self) -> None:
        """Take one sample now (the thread does this every interval)."""
        pynvml = self._pynvml
        if pynvml is None:
            return
        try:
            pids = {int(p) for p in self._pids_fn()}
        except Exception as exc:  # noqa: BLE001 - the caller's callable; a failure means no pids
            self._note(f"the container's pids could not be read: {type(exc).__name__}: {exc}")
            pids = set()
        seen: dict[tuple[int, int], int | None] = {}
        for index, handle in self._handles.items():
            for kind, query in (
                ("compute", pynvml.nvmlDeviceGetComputeRunningProcesses),
                ("graphics", pynvml.nvmlDeviceGetGraphicsRunningProcesses),
            ):
                try:
                    processes = query(handle)
                except pynvml.NVMLError as exc:
                    self._note(f"GPU {index}: {kind} processes unreadable ({_text(exc)})")
                    continue
                for process in processes:
                    pid = int(getattr(process, "pid", -1))
                    if pid not in pids:
                        continue
                    used = getattr(process, "usedGpuMemory", None)
                    key = (index, pid)
                    if used is None:
                        seen[key] = None
                    elif key not in seen or seen[key] is not None:
                        # The same process in both lists holds one allocation, not two.
                        seen[key] = max(int(used), seen.get(key) or 0)
        with self._lock:
            self.samples += 1
        if not seen:
            return
        if any(v is None for v in seen.values()):
            with self._lock:
                self.memory_unavailable = True
            self._note(
                "NVML reports the GPU memory of the container's processes as not available "
                "(NVML_VALUE_NOT_AVAILABLE); no GPU memory figure"
            )
            return
        total = sum(v for v in seen.values() if v is not None)
        with self._lock:
            if self._peak is None or total > self._peak:
                self._peak = total
