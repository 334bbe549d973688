"""runners.meters.nvml against a fake `pynvml` (no GPU here), and against a real one when present."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from runners.meters import nvml

NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_INVALID_ARGUMENT = 2


class FakeNVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return {3: "Not Supported", 12: "NVML Shared Library Not Found", 15: "GPU is lost"}.get(self.value, "Error")


class FakeGpu:
    def __init__(self, name: str, uuid: str, memory_total: int, energy_mj: int | None) -> None:
        self.name, self.uuid, self.memory_total = name, uuid, memory_total
        self.energy_mj = energy_mj  # None: the GPU has no energy counter (pre-Volta)
        self.compute: list[SimpleNamespace] = []
        self.graphics: list[SimpleNamespace] = []
        self.lost = False


class FakeNvml(ModuleType):
    """The slice of nvidia-ml-py's pynvml API the meter uses, with the same error model."""

    NVMLError = FakeNVMLError
    NVML_ERROR_UNINITIALIZED = NVML_ERROR_UNINITIALIZED
    NVML_ERROR_NOT_SUPPORTED = NVML_ERROR_NOT_SUPPORTED
    NVML_ERROR_NO_PERMISSION = NVML_ERROR_NO_PERMISSION
    NVML_ERROR_DRIVER_NOT_LOADED = NVML_ERROR_DRIVER_NOT_LOADED
    NVML_ERROR_LIBRARY_NOT_FOUND = NVML_ERROR_LIBRARY_NOT_FOUND
    NVML_ERROR_INVALID_ARGUMENT = NVML_ERROR_INVALID_ARGUMENT

    def __init__(self, gpus: list[FakeGpu], *, init_error: int | None = None) -> None:
        super().__init__("pynvml")
        self.gpus = gpus
        self.init_error = init_error
        self.refs = 0
        self.lock = threading.Lock()

    def _check(self) -> None:
        if self.refs <= 0:
            raise FakeNVMLError(NVML_ERROR_UNINITIALIZED)

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise FakeNVMLError(self.init_error)
        self.refs += 1

    def nvmlShutdown(self) -> None:
        self._check()
        self.refs -= 1

    def nvmlSystemGetDriverVersion(self) -> str:
        self._check()
        return "575.57.08"

    def nvmlDeviceGetCount(self) -> int:
        self._check()
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:
        self._check()
        if not 0 <= index < len(self.gpus):
            raise FakeNVMLError(NVML_ERROR_INVALID_ARGUMENT)
        return self.gpus[index]

    def nvmlDeviceGetName(self, gpu: FakeGpu) -> str:
        return gpu.name

    def nvmlDeviceGetUUID(self, gpu: FakeGpu) -> str:
        return gpu.uuid

    def nvmlDeviceGetMemoryInfo(self, gpu: FakeGpu) -> SimpleNamespace:
        return SimpleNamespace(total=gpu.memory_total, free=gpu.memory_total, used=0)

    def nvmlDeviceGetTotalEnergyConsumption(self, gpu: FakeGpu) -> int:
        self._check()
        if gpu.lost:
            raise FakeNVMLError(NVML_ERROR_GPU_IS_LOST)
        if gpu.energy_mj is None:
            raise FakeNVMLError(NVML_ERROR_NOT_SUPPORTED)
        return gpu.energy_mj

    def nvmlDeviceGetComputeRunningProcesses(self, gpu: FakeGpu) -> list[SimpleNamespace]:
        self._check()
        with self.lock:
            return list(gpu.compute)

    def nvmlDeviceGetGraphicsRunningProcesses(self, gpu: FakeGpu) -> list[SimpleNamespace]:
        self._check()
        with self.lock:
            return list(gpu.graphics)


def proc(pid: int, used: int | None) -> SimpleNamespace:
    return SimpleNamespace(pid=pid, usedGpuMemory=used)


@pytest.fixture
def two_gpus() -> list[FakeGpu]:
    return [
        FakeGpu("NVIDIA H100 80GB HBM3", "GPU-aaaa", 85_520_809_984, energy_mj=123_456_789),
        FakeGpu("Tesla P100-PCIE-16GB", "GPU-bbbb", 17_071_734_784, energy_mj=None),
    ]


@pytest.fixture
def fake_nvml(monkeypatch: pytest.MonkeyPatch, two_gpus: list[FakeGpu]) -> FakeNvml:
    fake = FakeNvml(two_gpus)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    return fake


# -- fingerprint -------------------------------------------------------------------------


def test_the_fingerprint_describes_every_gpu(fake_nvml: FakeNvml) -> None:
    gpus, note = nvml.gpu_fingerprint()
    assert note == ""
    assert gpus == [
        {
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "uuid": "GPU-aaaa",
            "driver_version": "575.57.08",
            "memory_total_bytes": 85_520_809_984,
        },
        {
            "index": 1,
            "name": "Tesla P100-PCIE-16GB",
            "uuid": "GPU-bbbb",
            "driver_version": "575.57.08",
            "memory_total_bytes": 17_071_734_784,
        },
    ]
    assert fake_nvml.refs == 0  # every nvmlInit was paired with a shutdown


def test_the_fingerprint_decodes_bytes_from_older_bindings(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml([FakeGpu("x", "y", 1, energy_mj=0)])
    monkeypatch.setattr(fake, "nvmlDeviceGetName", lambda gpu: b"Tesla V100-SXM2-16GB", raising=False)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    gpus, _ = nvml.gpu_fingerprint()
    assert gpus[0]["name"] == "Tesla V100-SXM2-16GB"


def test_the_fingerprint_says_why_there_is_no_gpu_without_a_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml([], init_error=NVML_ERROR_LIBRARY_NOT_FOUND))
    assert nvml.gpu_fingerprint() == ([], "NVML library not found (no NVIDIA driver)")


def test_the_fingerprint_says_why_when_the_driver_is_not_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml([], init_error=NVML_ERROR_DRIVER_NOT_LOADED))
    gpus, note = nvml.gpu_fingerprint()
    assert gpus == [] and "driver not loaded" in note


def test_the_fingerprint_says_why_without_the_bindings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml now raises ImportError
    gpus, note = nvml.gpu_fingerprint()
    assert gpus == []
    assert note == f"NVML bindings not installed (pip install {nvml.PACKAGE_PIN})"


def test_the_fingerprint_of_a_host_without_gpus_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml([])
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    assert nvml.gpu_fingerprint() == ([], "NVML found no GPU")
    assert fake.refs == 0


def test_a_field_nvml_cannot_read_is_none_and_noted(fake_nvml: FakeNvml, monkeypatch: pytest.MonkeyPatch) -> None:
    def lost(gpu: FakeGpu) -> str:
        raise FakeNVMLError(NVML_ERROR_GPU_IS_LOST)

    monkeypatch.setattr(fake_nvml, "nvmlDeviceGetUUID", lost, raising=False)
    gpus, note = nvml.gpu_fingerprint()
    assert [g["uuid"] for g in gpus] == [None, None]
    assert gpus[0]["name"] == "NVIDIA H100 80GB HBM3"
    assert "GPU 0 uuid unreadable (GPU is lost)" in note


def test_bindings_that_raise_something_else_do_not_escape(fake_nvml: FakeNvml, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> int:
        raise RuntimeError("ctypes exploded")

    monkeypatch.setattr(fake_nvml, "nvmlDeviceGetCount", broken, raising=False)
    gpus, note = nvml.gpu_fingerprint()
    assert gpus == [] and "RuntimeError: ctypes exploded" in note
    assert fake_nvml.refs == 0


# -- energy ------------------------------------------------------------------------------


def test_energy_counters_read_joules_from_millijoules(fake_nvml: FakeNvml, two_gpus: list[FakeGpu]) -> None:
    counters, notes = nvml.available_counters([0])
    assert notes == []
    [counter] = counters
    assert counter.name == "nvml:0"
    assert counter.read_j() == pytest.approx(123_456.789)
    two_gpus[0].energy_mj += 2_500
    assert counter.read_j() == pytest.approx(123_459.289)
    counter.close()
    assert fake_nvml.refs == 0


def test_a_gpu_without_an_energy_counter_is_left_out_with_a_note(fake_nvml: FakeNvml) -> None:
    counters, notes = nvml.available_counters([0, 1])
    assert [c.name for c in counters] == ["nvml:0"]
    assert notes == ["nvml:1: this GPU has no total-energy counter (NVML: Not Supported; needs Volta+)"]
    assert fake_nvml.refs == 1  # held by the one counter that works
    counters[0].close()
    assert fake_nvml.refs == 0


def test_an_index_the_host_does_not_have_is_noted(fake_nvml: FakeNvml) -> None:
    counters, notes = nvml.available_counters([7])
    assert counters == []
    assert len(notes) == 1 and notes[0].startswith("nvml:7: no such GPU on this host")


def test_no_counters_and_one_note_without_a_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml([], init_error=NVML_ERROR_LIBRARY_NOT_FOUND))
    counters, notes = nvml.available_counters([0, 1])
    assert counters == []
    assert notes == ["no NVML energy counter for GPU 0, 1: NVML library not found (no NVIDIA driver)"]


def test_no_indices_means_no_counters_and_no_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)
    assert nvml.available_counters([]) == ([], [])


def test_a_counter_whose_gpu_is_lost_raises_rather_than_inventing_a_reading(
    fake_nvml: FakeNvml, two_gpus: list[FakeGpu]
) -> None:
    [counter], _ = nvml.available_counters([0])
    two_gpus[0].lost = True
    with pytest.raises(nvml.NvmlReadError, match="nvml:0: total energy unreadable \\(GPU is lost\\)"):
        counter.read_j()
    counter.close()
    with pytest.raises(OSError, match="closed"):
        counter.read_j()


# -- per-process memory ------------------------------------------------------------------


def test_the_sampler_keeps_the_peak_of_the_containers_processes(fake_nvml: FakeNvml, two_gpus: list[FakeGpu]) -> None:
    gpu = two_gpus[0]
    gpu.compute = [proc(100, 1_000), proc(999, 50_000)]  # 999: another tenant's process
    with nvml.GpuProcessMemorySampler([0], lambda: {100, 101}, interval_s=0.005) as sampler:
        _wait_for_samples(sampler, 3)
        with fake_nvml.lock:
            gpu.compute = [proc(100, 4_000), proc(101, 3_000), proc(999, 90_000)]
        _wait_for_samples(sampler, sampler.samples + 3)
        with fake_nvml.lock:
            gpu.compute = [proc(100, 2_000)]
        _wait_for_samples(sampler, sampler.samples + 3)
    assert sampler.peak_bytes == 7_000  # 4_000 + 3_000 at one instant; never the other tenant's
    assert sampler.notes == []
    assert fake_nvml.refs == 0


def test_a_process_in_both_lists_counts_once_and_gpus_add_up(fake_nvml: FakeNvml, two_gpus: list[FakeGpu]) -> None:
    two_gpus[0].compute = [proc(100, 5_000)]
    two_gpus[0].graphics = [proc(100, 5_000)]
    two_gpus[1].compute = [proc(100, 2_000)]
    with nvml.GpuProcessMemorySampler([0, 1], lambda: [100], interval_s=0.005) as sampler:
        _wait_for_samples(sampler, 2)
    assert sampler.peak_bytes == 7_000


def test_the_sampler_reads_the_pids_at_every_sample(fake_nvml: FakeNvml, two_gpus: list[FakeGpu]) -> None:
    two_gpus[0].compute = [proc(100, 8_000), proc(200, 1_000)]
    pids = {200}
    with nvml.GpuProcessMemorySampler([0], lambda: set(pids), interval_s=0.005) as sampler:
        _wait_for_samples(sampler, 2)
        assert sampler.peak_bytes == 1_000
        pids.add(100)  # a process the container started later
        _wait_for_samples(sampler, sampler.samples + 2)
    assert sampler.peak_bytes == 9_000


def test_memory_nvml_cannot_report_gives_no_figure_and_a_note(fake_nvml: FakeNvml, two_gpus: list[FakeGpu]) -> None:
    two_gpus[0].compute = [proc(100, None), proc(101, 6_000)]  # NVML_VALUE_NOT_AVAILABLE -> None
    with nvml.GpuProcessMemorySampler([0], lambda: {100, 101}, interval_s=0.005) as sampler:
        _wait_for_samples(sampler, 2)
    assert sampler.memory_unavailable is True
    assert sampler.peak_bytes is None
    assert any("NVML_VALUE_NOT_AVAILABLE" in note for note in sampler.notes)


def test_nothing_seen_is_none_with_a_note(fake_nvml: FakeNvml, two_gpus: list[FakeGpu]) -> None:
    two_gpus[0].compute = [proc(999, 50_000)]
    with nvml.GpuProcessMemorySampler([0], lambda: {100}, interval_s=0.005) as sampler:
        _wait_for_samples(sampler, 2)
    assert sampler.peak_bytes is None
    assert sampler.notes == ["no process of the container held GPU memory while it was sampled"]


def test_a_failing_pids_callable_and_a_failing_query_are_noted_not_raised(
    fake_nvml: FakeNvml, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pids() -> set[int]:
        raise PermissionError("cgroup.procs")

    def unsupported(gpu: FakeGpu) -> list:
        raise FakeNVMLError(NVML_ERROR_NOT_SUPPORTED)

    monkeypatch.setattr(fake_nvml, "nvmlDeviceGetGraphicsRunningProcesses", unsupported, raising=False)
    with nvml.GpuProcessMemorySampler([0], no_pids, interval_s=0.005) as sampler:
        _wait_for_samples(sampler, 2)
    assert sampler.peak_bytes is None
    assert "the container's pids could not be read: PermissionError: cgroup.procs" in sampler.notes
    assert "GPU 0: graphics processes unreadable (Not Supported)" in sampler.notes


def test_the_sampler_without_a_driver_starts_no_thread_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml([], init_error=NVML_ERROR_LIBRARY_NOT_FOUND))
    before = threading.active_count()
    with nvml.GpuProcessMemorySampler([0], lambda: {1}) as sampler:
        assert threading.active_count() == before
    assert sampler.peak_bytes is None
    assert sampler.notes == ["GPU process memory not sampled: NVML library not found (no NVIDIA driver)"]


def test_cgroup_pids_reads_a_procs_file_tolerantly(tmp_path: Path) -> None:
    procs = tmp_path / "cgroup.procs"
    procs.write_text("12\n345\nnot-a-pid\n\n7\n")
    assert nvml.cgroup_pids(procs) == {12, 345, 7}
    assert nvml.cgroup_pids(tmp_path / "gone" / "cgroup.procs") == set()


def test_cgroup_pids_of_a_directory_covers_its_child_cgroups(tmp_path: Path) -> None:
    (tmp_path / "cgroup.procs").write_text("")
    child = tmp_path / "0123abcd"
    child.mkdir()
    (child / "cgroup.procs").write_text("41\n42\n")
    (child / "nested").mkdir()
    (child / "nested" / "cgroup.procs").write_text("43\n")
    assert nvml.cgroup_pids(tmp_path) == {41, 42, 43}


def _wait_for_samples(sampler: nvml.GpuProcessMemorySampler, count: int, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while sampler.samples < count:
        assert time.monotonic() < deadline, f"the sampler took {sampler.samples} samples, expected {count}"
        time.sleep(0.002)


# -- a real GPU --------------------------------------------------------------------------


def _real_nvml_works() -> bool:
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        import pynvml

        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001 - any failure means: no usable GPU here
        return False
    return True


@pytest.mark.skipif(not _real_nvml_works(), reason="needs an NVIDIA GPU (nvidia-smi on PATH, NVML initialises)")
def test_real_nvml_readings_are_plausible() -> None:
    gpus, note = nvml.gpu_fingerprint()
    assert gpus, note
    for gpu in gpus:
        assert gpu["name"] and gpu["uuid"].startswith(("GPU-", "MIG-"))
        assert gpu["memory_total_bytes"] > 1 << 30
        assert gpu["driver_version"]
    counters, notes = nvml.available_counters([gpus[0]["index"]])
    for counter in counters:
        first = counter.read_j()
        time.sleep(0.3)
        assert counter.read_j() >= first > 0  # an idle GPU still draws tens of watts
        counter.close()
    assert counters or notes
    with nvml.GpuProcessMemorySampler([gpus[0]["index"]], lambda: set()) as sampler:
        time.sleep(0.2)
    assert sampler.samples >= 2 and sampler.peak_bytes is None
