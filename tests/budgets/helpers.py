"""Unsaved figures and tracks for the pure-logic tests (no database)."""

from __future__ import annotations

from typing import Any

from budgets.costs import SearchCost, search_cost_from
from budgets.models import Track
from budgets.tracks import DEFAULT_TRACKS
from submissions.models import Figure


def figure(subject: str, name: str, value: float, unit: str, label: str = "measured") -> Figure:
    return Figure(subject=subject, name=name, value=value, unit=unit, label=label)


def compress(
    *, wall_s: float | None = None, cpu_s: float | None = None, energy_j: float | None = None, label: str = "measured"
) -> list[Figure]:
    figures = []
    if wall_s is not None:
        figures.append(figure("submission", "compress_wall", wall_s, "s"))
    if cpu_s is not None:
        figures.append(figure("submission", "compress_cpu", cpu_s, "s"))
    if energy_j is not None:
        figures.append(figure("submission", "compress_energy_net", energy_j, "J", label))
    return figures


def cost(
    *,
    wall_s: float | None = 3600.0,
    energy_j: float | None = 0.0,
    gpus: int = 0,
    search: dict[str, Any] | None = None,
    label: str = "measured",
) -> SearchCost:
    method: dict[str, Any] = {"name": "m"}
    if search is not None:
        method["search"] = search
    return search_cost_from(figures=compress(wall_s=wall_s, energy_j=energy_j, label=label), gpus=gpus, method=method)


def default_tracks() -> list[Track]:
    return [
        Track(slug=d.slug, name=d.name, order=d.order, max_device_hours=d.max_device_hours, max_kwh=d.max_kwh)
        for d in DEFAULT_TRACKS
    ]
