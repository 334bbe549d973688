"""Template filters for the price of a result (budgets.costs.SearchCost) in words.

Loaded with `{% load footprint_budget %}`. The text names each part with its label, so a
reader can tell what of a total was measured and what was declared.
"""

from __future__ import annotations

from typing import Any

from django import template

from core.formatting import energy, significant
from core.units import kwh_to_joules

register = template.Library()


def _figure(value: float | None, unit: str) -> str:
    return "unknown" if value is None else f"{significant(value)} {unit}"


@register.filter
def search_cost_parts(cost: Any) -> str:
    """The parts of a search cost in words, each with its label (for a total's title)."""
    if cost is None:
        return "no result"
    energy_label = cost.compress_energy_label or "measured"
    parts = [
        f"compress phase on the runner (measured): {_figure(cost.measured_device_hours, 'device-hours')}, "
        f"{_figure(cost.measured_kwh, 'kWh')}" + (f" ({energy_label})" if cost.measured_kwh is not None else "")
    ]
    if cost.declared is not None:
        parts.append(
            "off-platform search (declared by the submitter, not measured): "
            f"{_figure(cost.declared.device_hours, 'device-hours')}, "
            + ("energy not stated" if cost.declared.kwh is None else _figure(cost.declared.kwh, "kWh"))
        )
    return "; ".join(parts)


@register.filter
def unmeasured_labels(labels: Any) -> list[str]:
    """The labels among `labels` other than "measured" (estimated, declared), in order."""
    return [label for label in labels or () if label != "measured"]


@register.filter
def kwh_as_energy(kwh: Any) -> str:
    """kWh in the unit people read (core.formatting.energy): 4.45e-06 -> "16 J"."""
    return "unknown" if kwh is None else energy(kwh_to_joules(kwh))
