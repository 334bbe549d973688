"""Figures as the runner publishes them, written as a spec, and search costs from them.

A spec maps (subject, name) to (value, unit, label): `rows.make_run` stores it as Figure
rows, `unsaved_figures` turns it into Figure objects for the tests that need no database.
"""

from __future__ import annotations

from typing import Any

from budgets.costs import SearchCost, search_cost_from
from budgets.models import Track
from budgets.tracks import DEFAULT_TRACKS
from core.units import BYTES_PER_GIB, BYTES_PER_MIB, J_PER_KWH, S_PER_HOUR
from submissions.models import Figure

FigureSpec = dict[tuple[str, str], tuple[float, str, str]]


def figures(subject: str = "submission", **named: tuple[float, str] | tuple[float, str, str]) -> FigureSpec:
    """One subject's figures: name=(value, unit[, label]), measured unless a label is given."""
    return {
        (subject, name): (spec[0], spec[1], spec[2] if len(spec) > 2 else "measured") for name, spec in named.items()
    }


def result_figures(
    *,
    accuracy: float,
    latency_p50_us: float,
    speedup: float,
    reference_accuracy: float = 0.97,
    reference_p50_us: float = 200.0,
    speedup_label: str = "measured",
) -> FigureSpec:
    """What a leaderboard row shows: accuracy, latency, speed-up, memory and compress time."""
    return {
        ("submission", "accuracy"): (accuracy, "fraction", "measured"),
        ("reference", "accuracy"): (reference_accuracy, "fraction", "measured"),
        ("submission", "latency_p50"): (latency_p50_us, "us", "measured"),
        ("submission", "latency_p90"): (latency_p50_us * 1.2, "us", "measured"),
        ("reference", "latency_p50"): (reference_p50_us, "us", "measured"),
        ("reference", "latency_p90"): (reference_p50_us * 1.2, "us", "measured"),
        ("submission", "speedup"): (speedup, "ratio", speedup_label),
        ("submission", "serve_peak_memory"): (50 * BYTES_PER_MIB / speedup, "bytes", "measured"),
        ("reference", "serve_peak_memory"): (80 * BYTES_PER_MIB, "bytes", "measured"),
        ("submission", "compress_wall"): (12.5 * speedup, "s", "measured"),
    }


def compress_figures(
    *,
    wall_s: float | None = S_PER_HOUR,
    cpu_s: float | None = 0.9 * S_PER_HOUR,
    energy_j: float | None = J_PER_KWH,
    label: str = "measured",
    peak_memory_bytes: float | None = 3 * BYTES_PER_GIB,
) -> FigureSpec:
    """The compress phase's figures (None leaves a figure out, as an older runner did)."""
    spec: FigureSpec = {}
    if peak_memory_bytes is not None:
        spec[("submission", "compress_peak_memory")] = (peak_memory_bytes, "bytes", "measured")
    if wall_s is not None:
        spec[("submission", "compress_wall")] = (wall_s, "s", "measured")
    if cpu_s is not None:
        spec[("submission", "compress_cpu")] = (cpu_s, "s", "measured")
    if energy_j is not None:
        spec[("submission", "compress_energy_net")] = (energy_j, "J", label)
    return spec


def entry_figures(
    *,
    speedup: float = 2.0,
    accuracy: float = 0.975,
    compress_wall_s: float | None = S_PER_HOUR,
    compress_cpu_s: float | None = 0.9 * S_PER_HOUR,
    compress_energy_j: float | None = J_PER_KWH,
    compress_energy_label: str = "measured",
    per_inference_mj: tuple[float, float, str] | None = None,
) -> FigureSpec:
    """A leaderboard entry with a search cost; `per_inference_mj`: (reference, submission, label)."""
    spec: FigureSpec = {
        ("submission", "accuracy"): (accuracy, "fraction", "measured"),
        ("reference", "accuracy"): (0.98, "fraction", "measured"),
        ("submission", "latency_p50"): (200.0 / speedup, "us", "measured"),
        ("reference", "latency_p50"): (200.0, "us", "measured"),
        ("submission", "speedup"): (speedup, "ratio", "measured"),
        **compress_figures(
            wall_s=compress_wall_s, cpu_s=compress_cpu_s, energy_j=compress_energy_j, label=compress_energy_label
        ),
    }
    if per_inference_mj is not None:
        reference_mj, method_mj, label = per_inference_mj
        spec[("reference", "energy_per_inference")] = (reference_mj, "mJ", label)
        spec[("submission", "energy_per_inference")] = (method_mj, "mJ", label)
    return spec


def figure(subject: str, name: str, value: float, unit: str, label: str = "measured") -> Figure:
    """An unsaved figure, for the functions that read figures without a database."""
    return Figure(subject=subject, name=name, value=value, unit=unit, label=label)


def unsaved_figures(spec: FigureSpec) -> list[Figure]:
    return [figure(subject, name, value, unit, label) for (subject, name), (value, unit, label) in spec.items()]


def search(
    *, device_count: int = 1, hours: float = 1.0, energy_kwh: float | None = None, **extra: Any
) -> dict[str, Any]:
    """A declared search block (method.json `search`)."""
    block: dict[str, Any] = {"device_type": "NVIDIA A100 40GB", "device_count": device_count, "hours": hours}
    if energy_kwh is not None:
        block["energy_kwh"] = energy_kwh
    block.update(extra)
    return block


def trial_log(scores: list[float | None], *, energy_kwh: float | None = None) -> list[dict[str, Any]]:
    """A trial log (method.json `trials`): None is a failed trial."""
    log = []
    for number, score in enumerate(scores, start=1):
        trial: dict[str, Any] = {"config": {"lr": 0.01 * number}, "duration_s": 60.0, "failed": score is None}
        if score is not None:
            trial["score"] = score
        if energy_kwh is not None:
            trial["energy_kwh"] = energy_kwh
        log.append(trial)
    return log


def search_cost(
    *,
    wall_s: float | None = S_PER_HOUR,
    energy_j: float | None = 0.0,
    gpus: int = 0,
    search: dict[str, Any] | None = None,
    label: str = "measured",
) -> SearchCost:
    """The search cost of a compress phase (no CPU time) and an optional declared search."""
    method: dict[str, Any] = {"name": "m"}
    if search is not None:
        method["search"] = search
    spec = compress_figures(wall_s=wall_s, cpu_s=None, energy_j=energy_j, label=label, peak_memory_bytes=None)
    return search_cost_from(figures=unsaved_figures(spec), gpus=gpus, method=method)


def default_tracks() -> list[Track]:
    """The default tracks as unsaved rows."""
    return [
        Track(slug=d.slug, name=d.name, order=d.order, max_device_hours=d.max_device_hours, max_kwh=d.max_kwh)
        for d in DEFAULT_TRACKS
    ]
