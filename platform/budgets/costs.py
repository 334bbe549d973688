"""The search cost of one result: the measured compress phase plus the declared search.

Measured part: the compress figures the runner published for the submission (wall and CPU
time, peak memory, net energy labelled `measured` or `estimated`). Declared part: the
`search` block of method.json (off-platform search the submitter states). The two are
kept apart in every field and every export; totals add them and say which labels they
hold. Definitions: docs/search-cost.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from core.numbers import finite_number, whole_number
from core.units import J_PER_KWH, S_PER_HOUR
from submissions.models import Figure

# Compress figures of the result document (runners/README.md): name -> contract unit.
COMPRESS_FIGURES: dict[str, str] = {
    "compress_wall": "s",
    "compress_cpu": "s",
    "compress_peak_memory": "bytes",
    "compress_energy_net": "J",
}

KWH_BASIS_ENERGY = "energy_kwh"  # the submitter gave the energy
KWH_BASIS_POWER = "power_w"  # device_count x power_w x hours / 1000
KWH_BASIS_UNKNOWN = "unknown"


class FigureLike(Protocol):
    subject: str
    name: str
    value: float
    unit: str
    label: str


@dataclass(frozen=True)
class DeclaredSearch:
    """method.json's `search` block, as the submitter stated it, and what follows from it."""

    device_type: str
    device_count: int | None
    hours: float | None
    trials: int | None
    energy_kwh_given: float | None
    power_w: float | None  # average power per device
    note: str
    device_hours: float | None  # device_count x hours
    kwh: float | None  # energy_kwh, else device_count x power_w x hours / 1000, else None
    kwh_basis: str  # KWH_BASIS_*
    # Why a field is unknown (a block stored before the runner validated it, say).
    problems: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": Figure.Label.DECLARED,
            "device_type": self.device_type,
            "device_count": self.device_count,
            "hours": self.hours,
            "trials": self.trials,
            "energy_kwh": self.energy_kwh_given,
            "power_w": self.power_w,
            "note": self.note,
            "device_hours": self.device_hours,
            "kwh": self.kwh,
            "kwh_basis": self.kwh_basis,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class SearchCost:
    """The full price of one result; measured and declared parts never merged silently."""

    # Measured compress phase, as published (None: the figure is absent).
    compress_wall_s: float | None
    compress_cpu_s: float | None
    compress_peak_memory_bytes: float | None
    compress_energy_net_j: float | None
    compress_energy_label: str | None  # "measured" (counters) or "estimated" (CPU time x W/core)
    gpus: int  # the run's hardware class
    measured_wall_hours: float | None
    measured_cpu_hours: float | None
    measured_gpu_hours: float | None  # wall hours x gpus (0 on a CPU class)
    measured_device_hours: float | None  # wall hours x max(gpus, 1): a CPU class is one device
    measured_kwh: float | None  # net compress energy; a negative net counts as 0 (see notes)
    # Off-platform search, as declared; None when method.json has no `search` block.
    declared: DeclaredSearch | None
    trial_log_count: int  # entries of method.json's `trials`
    # Totals = measured + declared. None when a part is unknown.
    total_device_hours: float | None
    total_kwh: float | None
    # The same total in J, summed from the parts' own units (the measured part is in J), so
    # that the break-even does not inherit a J -> kWh -> J rounding.
    total_j: float | None
    total_kwh_at_least: float  # the known parts only: a lower bound when energy_complete is False
    has_declared: bool
    energy_complete: bool
    labels: tuple[str, ...]  # labels of every part the totals hold, sorted
    energy_labels: tuple[str, ...]  # labels of the known energy parts, sorted
    notes: tuple[str, ...]  # why a part is unknown or was adjusted

    @property
    def trials_count(self) -> int | None:
        """Declared trial count, else the trial log's length, else None (not stated)."""
        if self.declared is not None and self.declared.trials is not None:
            return self.declared.trials
        return self.trial_log_count or None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able form for exports: measured and declared in separate blocks."""
        return {
            "measured": {
                "label": Figure.Label.MEASURED,
                "compress_wall_s": self.compress_wall_s,
                "compress_cpu_s": self.compress_cpu_s,
                "compress_peak_memory_bytes": self.compress_peak_memory_bytes,
                "compress_energy_net_j": self.compress_energy_net_j,
                "energy_label": self.compress_energy_label,
                "gpus": self.gpus,
                "wall_hours": self.measured_wall_hours,
                "cpu_hours": self.measured_cpu_hours,
                "gpu_hours": self.measured_gpu_hours,
                "device_hours": self.measured_device_hours,
                "kwh": self.measured_kwh,
            },
            "declared": None if self.declared is None else self.declared.as_dict(),
            "trials_count": self.trials_count,
            "trial_log_count": self.trial_log_count,
            "total": {
                "device_hours": self.total_device_hours,
                "kwh": self.total_kwh,
                "j": self.total_j,
                "kwh_at_least": self.total_kwh_at_least,
                "has_declared": self.has_declared,
                "energy_complete": self.energy_complete,
                "labels": list(self.labels),
                "energy_labels": list(self.energy_labels),
            },
            "notes": list(self.notes),
        }


def declared_search_from(block: Any) -> DeclaredSearch | None:
    """Read method.json's `search` block (docs: /work/briefs/method-search.md).

    The runner validates the block before a result is stored, so problems here come from
    documents older than that check; a broken field makes its figure unknown (never 0),
    so that a declared search is never silently under-counted.
    """
    if block is None:
        return None
    problems: list[str] = []
    if not isinstance(block, Mapping):
        return DeclaredSearch(
            device_type="",
            device_count=None,
            hours=None,
            trials=None,
            energy_kwh_given=None,
            power_w=None,
            note="",
            device_hours=None,
            kwh=None,
            kwh_basis=KWH_BASIS_UNKNOWN,
            problems=("the declared search block is not a JSON object; its cost is unknown",),
        )

    device_type = block.get("device_type")
    if not isinstance(device_type, str) or not device_type.strip():
        problems.append("search.device_type is missing: the declared devices are not named")
        device_type = ""
    device_count = whole_number(block.get("device_count"))
    if device_count is None or device_count < 1:
        problems.append(f"search.device_count is {block.get('device_count')!r}, not an integer >= 1")
        device_count = None
    hours = finite_number(block.get("hours"))
    if hours is None or hours < 0:
        problems.append(f"search.hours is {block.get('hours')!r}, not a number >= 0")
        hours = None

    trials = None
    if block.get("trials") is not None:
        trials = whole_number(block.get("trials"))
        if trials is None or trials < 0:
            problems.append(f"search.trials is {block.get('trials')!r}, not an integer >= 0")
            trials = None

    energy_kwh = power_w = None
    energy_invalid = False
    if block.get("energy_kwh") is not None:
        energy_kwh = finite_number(block.get("energy_kwh"))
        if energy_kwh is None or energy_kwh < 0:
            problems.append(f"search.energy_kwh is {block.get('energy_kwh')!r}, not a number >= 0")
            energy_kwh, energy_invalid = None, True
    if block.get("power_w") is not None:
        power_w = finite_number(block.get("power_w"))
        if power_w is None or power_w <= 0:
            problems.append(f"search.power_w is {block.get('power_w')!r}, not a number > 0")
            power_w, energy_invalid = None, True
    note = block.get("note") if isinstance(block.get("note"), str) else ""

    device_hours = device_count * hours if device_count is not None and hours is not None else None
    kwh, basis = None, KWH_BASIS_UNKNOWN
    if energy_kwh is not None:
        kwh, basis = energy_kwh, KWH_BASIS_ENERGY
    elif not energy_invalid and power_w is not None and device_hours is not None:
        kwh, basis = device_count * power_w * hours / 1000.0, KWH_BASIS_POWER  # type: ignore[operator]
    return DeclaredSearch(
        device_type=device_type,
        device_count=device_count,
        hours=hours,
        trials=trials,
        energy_kwh_given=energy_kwh,
        power_w=power_w,
        note=note,
        device_hours=device_hours,
        kwh=kwh,
        kwh_basis=basis,
        problems=tuple(problems),
    )


def search_cost_from(*, figures: Iterable[FigureLike], gpus: int, method: Any) -> SearchCost:
    """The search cost from a result's figures, its hardware class's GPU count and method.json."""
    notes: list[str] = []
    found: dict[str, FigureLike] = {}
    for figure in figures:
        if figure.subject != Figure.Subject.SUBMISSION or figure.name not in COMPRESS_FIGURES:
            continue
        unit = COMPRESS_FIGURES[figure.name]
        if figure.unit != unit:
            # Another unit than the contract's is not comparable: leave it out, say so.
            notes.append(f"{figure.name} is in {figure.unit!r}, not {unit!r}; it is left out")
        elif not math.isfinite(figure.value):
            notes.append(f"{figure.name} is not a finite number; it is left out")
        else:
            found[figure.name] = figure

    def value(name: str) -> float | None:
        return found[name].value if name in found else None

    wall_s, cpu_s = value("compress_wall"), value("compress_cpu")
    peak_bytes, energy_j = value("compress_peak_memory"), value("compress_energy_net")
    energy_label = found["compress_energy_net"].label if "compress_energy_net" in found else None
    gpus = max(int(gpus or 0), 0)

    wall_hours = None if wall_s is None else wall_s / S_PER_HOUR
    cpu_hours = None if cpu_s is None else cpu_s / S_PER_HOUR
    gpu_hours = None if wall_hours is None else wall_hours * gpus
    device_hours = None if wall_hours is None else wall_hours * max(gpus, 1)
    if wall_s is None:
        notes.append("the compress phase has no wall-time figure: its device-hours are unknown")
    measured_kwh = measured_j = None
    if energy_j is None:
        notes.append(
            "the compress phase has no energy figure (no counter and no per-core power): its energy is unknown"
        )
    elif energy_j < 0:
        # Net = counter delta - idle power x wall: a short phase can come out below zero.
        notes.append(
            f"the compress phase's net energy is {energy_j:.6g} J, below zero (it drew less than the idle power "
            "measured before it); the totals count it as 0"
        )
        measured_kwh = measured_j = 0.0
    else:
        measured_kwh, measured_j = energy_j / J_PER_KWH, energy_j

    method = method if isinstance(method, Mapping) else {}
    declared = declared_search_from(method.get("search"))
    trials = method.get("trials")
    trial_log_count = len(trials) if isinstance(trials, list) else 0

    device_parts: list[tuple[float | None, str]] = [(device_hours, Figure.Label.MEASURED)]
    energy_parts: list[tuple[float | None, str]] = [(measured_kwh, energy_label or Figure.Label.MEASURED)]
    if declared is not None:
        device_parts.append((declared.device_hours, Figure.Label.DECLARED))
        energy_parts.append((declared.kwh, Figure.Label.DECLARED))
        notes.extend(declared.problems)
        if declared.device_hours is None and not declared.problems:
            notes.append("the declared search's device-hours are unknown")
        if declared.kwh is None and not declared.problems:
            notes.append("the declared search gives neither energy_kwh nor power_w: its energy is unknown")

    total_device_hours = (
        math.fsum(v for v, _ in device_parts) if all(v is not None for v, _ in device_parts) else None  # type: ignore[misc]
    )
    energy_complete = all(v is not None for v, _ in energy_parts)
    known_kwh = math.fsum(v for v, _ in energy_parts if v is not None)
    total_j = None
    if energy_complete:
        declared_j = declared.kwh * J_PER_KWH if declared is not None else 0.0  # type: ignore[operator]
        total_j = math.fsum((measured_j, declared_j))  # type: ignore[arg-type]
    labels = {label for v, label in device_parts + energy_parts if v is not None}
    if declared is not None:
        labels.add(Figure.Label.DECLARED)  # an unknown declared part is still a declared part
    return SearchCost(
        compress_wall_s=wall_s,
        compress_cpu_s=cpu_s,
        compress_peak_memory_bytes=peak_bytes,
        compress_energy_net_j=energy_j,
        compress_energy_label=energy_label,
        gpus=gpus,
        measured_wall_hours=wall_hours,
        measured_cpu_hours=cpu_hours,
        measured_gpu_hours=gpu_hours,
        measured_device_hours=device_hours,
        measured_kwh=measured_kwh,
        declared=declared,
        trial_log_count=trial_log_count,
        total_device_hours=total_device_hours,
        total_kwh=known_kwh if energy_complete else None,
        total_j=total_j,
        total_kwh_at_least=known_kwh,
        has_declared=declared is not None,
        energy_complete=energy_complete,
        labels=tuple(sorted(labels)),
        energy_labels=tuple(sorted({label for v, label in energy_parts if v is not None})),
        notes=tuple(notes),
    )


def method_with_declared_search(method: Any, declared_on_upload: Any) -> Any:
    """method.json, with the search declared on the upload form when method.json declares none.

    The method's own declaration comes first: it is what the measured run produced.
    """
    if not declared_on_upload:
        return method
    base = method if isinstance(method, Mapping) else {}
    if base.get("search") is not None:
        return method
    return {**base, "search": declared_on_upload}


def search_cost_for_result(*, result: Any) -> SearchCost:
    """The search cost of a stored Result (its figures, its run's hardware class, method.json).

    Reads `result.figures.all()` (prefetch it for many results),
    `result.run.hardware_class` and `result.run.submission` (select or prefetch them).
    """
    document = result.document if isinstance(result.document, Mapping) else {}
    return search_cost_from(
        figures=result.figures.all(),
        gpus=result.run.hardware_class.gpus,
        method=method_with_declared_search(document.get("method"), result.run.submission.declared_search),
    )


@dataclass(frozen=True)
class Co2e:
    """CO2e of a result's total energy at its hardware class's grid intensity."""

    grams: float | None
    kwh: float | None
    grid_intensity_g_per_kwh: float | None
    labels: tuple[str, ...]  # labels of the energy it comes from
    reason: str  # why grams is None; "" when computed


def co2e_for(*, cost: SearchCost, grid_intensity_g_per_kwh: float | None) -> Co2e:
    """grams = total kWh x gCO2e/kWh; None with a reason when either is unknown."""
    reason = ""
    if grid_intensity_g_per_kwh is None:
        reason = "no grid carbon intensity is set for this hardware class"
    elif not math.isfinite(grid_intensity_g_per_kwh) or grid_intensity_g_per_kwh < 0:
        reason = f"the hardware class's grid intensity ({grid_intensity_g_per_kwh}) is not a number >= 0"
    elif cost.total_kwh is None:
        reason = "the total energy is unknown (a part of it has no energy figure)"
    grams = None if reason else cost.total_kwh * grid_intensity_g_per_kwh  # type: ignore[operator]
    return Co2e(
        grams=grams,
        kwh=cost.total_kwh,
        grid_intensity_g_per_kwh=grid_intensity_g_per_kwh,
        labels=cost.energy_labels,
        reason=reason,
    )
