"""Energy of a job's phases, read on the runner host, never inside the untrusted container.

Sources, best first (docs/measurement.md, "Energy"):

- Hardware counters: RAPL package and DRAM zones under `/sys/class/powercap` (Intel, and
  AMD Zen through the same `intel-rapl` driver) and NVML's total-energy counter on NVIDIA
  GPUs (runners.meters.nvml). A counter is host-wide: it sees everything the machine does
  during a window, so the idle power measured before the job is subtracted (net) and
  both gross and net are published, labelled `measured`.
- Where no counter is readable (VMs, containers without powercap), an estimate: the
  container's CPU time (cgroup cpuacct) times the hardware class's `cpu_watts_per_core`,
  labelled `estimated`. It prices only the CPU time the container itself used, so it is a
  net figure by construction; there is no gross estimate.

Nothing here raises for a missing or unreadable counter: the caller publishes what exists
and the provenance says why the rest is missing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

POWERCAP_ROOT = Path("/sys/class/powercap")
# RAPL's energy_uj wraps at max_energy_range_uj (about 262 kJ on many parts: under an hour
# at 100 W). A background reading this often never misses a whole wrap.
POLL_S = 5.0
DEFAULT_IDLE_WINDOW_S = 3.0
J_PER_KWH = 3.6e6

SOURCE_ESTIMATE = "estimate"
SOURCE_NONE = "none"


class EnergyCounter(Protocol):
    """A monotonically increasing energy reading in joules (wrap-around handled inside)."""

    name: str

    def read_j(self) -> float: ...


class RaplCounter:
    """One RAPL zone: `energy_uj`, accumulated across its wrap-arounds.

    read_j() must be called at least once per wrap period; EnergyMeter's poller does that.
    """

    def __init__(self, name: str, zone: Path, max_range_uj: int) -> None:
        self.name = name
        self.zone = zone
        self.max_range_uj = max_range_uj
        self._lock = threading.Lock()
        self._last_uj: int | None = None
        self._total_uj = 0

    def _raw_uj(self) -> int:
        return int((self.zone / "energy_uj").read_text().strip())

    def read_j(self) -> float:
        raw = self._raw_uj()
        with self._lock:
            if self._last_uj is not None:
                delta = raw - self._last_uj
                if delta < 0:  # the counter wrapped once since the last reading
                    delta += self.max_range_uj + 1
                self._total_uj += delta
            self._last_uj = raw
            return self._total_uj / 1e6


def rapl_counters(root: Path = POWERCAP_ROOT) -> tuple[list[RaplCounter], list[str]]:
    """The package zones and their DRAM sub-zones; core/uncore lie inside the package and
    psys covers the whole platform, so either would count energy twice."""
    notes: list[str] = []
    if not root.is_dir():
        return [], [f"no RAPL: {root} does not exist (no powercap driver, or a virtual machine)"]
    counters: list[RaplCounter] = []
    packages = sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1)
    for package in packages:
        zones = [package] + sorted(p for p in package.glob(f"{package.name}:*") if p.is_dir())
        for zone in zones:
            try:
                zone_name = (zone / "name").read_text().strip()
            except OSError as exc:
                notes.append(f"RAPL zone {zone.name} skipped: its name is unreadable ({exc.strerror})")
                continue
            if zone is package and not zone_name.startswith("package"):
                continue  # psys and friends
            if zone is not package and zone_name != "dram":
                continue
            label = zone_name if zone is package else f"{(package / 'name').read_text().strip()}:dram"
            try:
                max_range_uj = int((zone / "max_energy_range_uj").read_text().strip())
                counter = RaplCounter(f"rapl:{label}", zone, max_range_uj)
                counter.read_j()
            except PermissionError:
                # Since Linux 5.10 (CVE-2020-8694) energy_uj is readable by root only.
                notes.append(f"RAPL {label}: energy_uj is not readable by this user (the runner must run as root)")
                continue
            except (OSError, ValueError) as exc:
                notes.append(f"RAPL {label}: unreadable ({exc})")
                continue
            counters.append(counter)
    if not counters and not notes:
        notes.append(f"no RAPL package zone under {root}")
    return counters, notes


class EnergyMeter:
    """Host counters read together, polled in the background so that no wrap is missed."""

    def __init__(self, counters: Sequence[EnergyCounter], *, poll_s: float = POLL_S) -> None:
        self.counters = list(counters)
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []

    def __enter__(self) -> EnergyMeter:
        if self.counters:
            self._thread = threading.Thread(target=self._poll, name="energy-poll", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._poll_s + 1)

    def _poll(self) -> None:
        while not self._stop.wait(self._poll_s):
            try:
                self.read_j()
            except Exception as exc:  # a counter that stops answering must not kill the job
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def read_j(self) -> float:
        """The sum of every counter, joules since each counter's first reading."""
        return sum(counter.read_j() for counter in self.counters)


@dataclass
class Span:
    """One window's energy. gross/net in joules; gross only from counters."""

    label: str | None  # "measured", "estimated", or None when there is no source
    wall_s: float = 0.0
    gross_j: float | None = None
    net_j: float | None = None
    cpu_s: float | None = None


@dataclass
class JobEnergy:
    """One job's energy accounting: counters when the host has them, else the estimate.

    `cpu_time` of a window comes from the caller (the container's cgroup), because the
    estimate prices the container's CPU time only, not the harness's or the host's.
    """

    counters: list[EnergyCounter]
    notes: list[str]
    cpu_watts_per_core: float | None
    idle_window_s: float = DEFAULT_IDLE_WINDOW_S
    idle_power_w: float | None = None
    # Every measured window, in order: {"phase", "subject", "span", "queries", "samples"}.
    records: list[dict[str, Any]] = field(default_factory=list)
    # Injectable for tests: a clock (seconds) and a sleep that advance together.
    clock: Callable[[], float] = time.perf_counter
    sleep: Callable[[float], None] = time.sleep
    _meter: EnergyMeter | None = None

    @property
    def source(self) -> str:
        if self.counters:
            kinds = sorted({counter.name.split(":", 1)[0] for counter in self.counters})
            return "+".join(kinds)
        if self.cpu_watts_per_core:
            return SOURCE_ESTIMATE
        return SOURCE_NONE

    @property
    def label(self) -> str | None:
        return {SOURCE_NONE: None, SOURCE_ESTIMATE: "estimated"}.get(self.source, "measured")

    @contextmanager
    def running(self) -> Iterator[JobEnergy]:
        """Poll the counters for the job's duration, after measuring the idle power."""
        if not self.counters:
            yield self
            return
        with EnergyMeter(self.counters) as meter:
            self._meter = meter
            try:
                # Nothing of the job runs yet: what the counters see now is the host's idle.
                start_j, start = meter.read_j(), self.clock()
                self.sleep(self.idle_window_s)
                elapsed = self.clock() - start
                self.idle_power_w = (meter.read_j() - start_j) / elapsed if elapsed > 0 else None
                yield self
            finally:
                self._meter = None
                self.notes.extend(f"energy counter poll failed: {error}" for error in meter.errors[:5])

    def window(self, cpu_time: Callable[[], float | None]) -> Window:
        """A context manager measuring the energy of its body; `.span` is filled in at its end.

        `cpu_time` returns the container's cumulative CPU seconds (its cgroup), read at both ends.
        """
        return Window(self, cpu_time)

    def span_from_totals(self, *, wall_s: float, cpu_s: float | None, gross_j: float | None) -> Span:
        """A Span for a phase measured from totals: a container run start to end, whose CPU
        time the sandbox read from its cgroup and whose counter delta the caller took."""
        span = Span(label=self.label, wall_s=wall_s, cpu_s=cpu_s)
        if self.counters:
            span.gross_j = gross_j
            if gross_j is not None and self.idle_power_w is not None:
                span.net_j = gross_j - self.idle_power_w * wall_s
        elif self.cpu_watts_per_core and cpu_s is not None:
            span.net_j = cpu_s * self.cpu_watts_per_core
        return span

    def read_j(self) -> float | None:
        """The counters' sum now; None without counters or when one stopped answering (a GPU
        that fell off the bus): that window then has no gross or net figure, with the reason."""
        if self._meter is None:
            return None
        try:
            return self._meter.read_j()
        except Exception as exc:
            self.notes.append(f"energy counter unreadable: {type(exc).__name__}: {exc}")
            return None

    def record(
        self, phase: str, subject: str, span: Span | None, *, queries: int | None = None, samples: int | None = None
    ) -> None:
        """Keep one window's span for the figures; a window that never ran (None) is skipped."""
        if span is not None:
            self.records.append(
                {"phase": phase, "subject": subject, "span": span, "queries": queries, "samples": samples}
            )

    def provenance(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "counters": [counter.name for counter in self.counters],
            "idle_power_w": None if self.idle_power_w is None else round(self.idle_power_w, 6),
            "idle_window_s": self.idle_window_s if self.counters else None,
            "estimate": (
                {"cpu_watts_per_core": self.cpu_watts_per_core, "basis": "hardware class setting"}
                if self.source == SOURCE_ESTIMATE
                else None
            ),
            "notes": list(self.notes),
            "windows": [
                {
                    "phase": r["phase"],
                    "subject": r["subject"],
                    "wall_s": round(r["span"].wall_s, 6),
                    "cpu_s": None if r["span"].cpu_s is None else round(r["span"].cpu_s, 6),
                    "gross_j": None if r["span"].gross_j is None else round(r["span"].gross_j, 6),
                    "net_j": None if r["span"].net_j is None else round(r["span"].net_j, 6),
                    **({"queries": r["queries"]} if r["queries"] is not None else {}),
                    **({"samples": r["samples"]} if r["samples"] is not None else {}),
                }
                for r in self.records
            ],
        }


class Window:
    """One measured window (see JobEnergy.window); usable once."""

    def __init__(self, energy: JobEnergy, cpu_time: Callable[[], float | None]) -> None:
        self.energy = energy
        self.cpu_time = cpu_time
        self.span: Span | None = None
        self._start_j: float | None = None
        self._start_cpu: float | None = None
        self._start = 0.0

    def __enter__(self) -> Span:
        if self.span is not None:
            raise RuntimeError("an energy window measures one span only")
        self.span = Span(label=self.energy.label)
        self._start_j = self.energy.read_j()
        self._start_cpu = self.cpu_time()
        self._start = self.energy.clock()
        return self.span

    def __exit__(self, *exc_info: object) -> None:
        assert self.span is not None
        span = self.span
        span.wall_s = self.energy.clock() - self._start
        end_j = self.energy.read_j()
        end_cpu = self.cpu_time()
        if self._start_cpu is not None and end_cpu is not None:
            span.cpu_s = max(0.0, end_cpu - self._start_cpu)
        gross = end_j - self._start_j if self._start_j is not None and end_j is not None else None
        filled = self.energy.span_from_totals(wall_s=span.wall_s, cpu_s=span.cpu_s, gross_j=gross)
        span.gross_j, span.net_j = filled.gross_j, filled.net_j


def job_energy(
    *,
    cpu_watts_per_core: float | None,
    gpu_indices: Sequence[int] = (),
    powercap_root: Path = POWERCAP_ROOT,
    idle_window_s: float = DEFAULT_IDLE_WINDOW_S,
) -> JobEnergy:
    """Discover this host's counters for a job (RAPL always, NVML on the class's GPUs)."""
    counters: list[EnergyCounter] = []
    notes: list[str] = []
    rapl, rapl_notes = rapl_counters(powercap_root)
    counters.extend(rapl)
    notes.extend(rapl_notes)
    if gpu_indices:
        from runners.meters import nvml

        gpu_counters, gpu_notes = nvml.available_counters(list(gpu_indices))
        counters.extend(gpu_counters)
        notes.extend(gpu_notes)
    if not counters:
        notes.append(
            "no energy counter on this host: figures are estimated from the container's CPU time"
            if cpu_watts_per_core
            else "no energy counter on this host and no cpu_watts_per_core for this hardware class: no energy figures"
        )
    return JobEnergy(counters=counters, notes=notes, cpu_watts_per_core=cpu_watts_per_core, idle_window_s=idle_window_s)


def span_sum(spans: Sequence[Span]) -> Span | None:
    """One span for several windows of one subject (its timed blocks of a round, say): walls,
    CPU times and energies add; a part that is unknown in any window is unknown in the sum."""
    if not spans:
        return None

    def total(values: list[float | None]) -> float | None:
        return None if any(v is None for v in values) else float(sum(values))  # type: ignore[arg-type]

    return Span(
        label=spans[0].label,
        wall_s=float(sum(s.wall_s for s in spans)),
        gross_j=total([s.gross_j for s in spans]),
        net_j=total([s.net_j for s in spans]),
        cpu_s=total([s.cpu_s for s in spans]),
    )
