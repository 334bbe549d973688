"""Filters of the paper pages: a claimed or measured quantity, its gap and its tolerance."""

from __future__ import annotations

from django import template

from core.formatting import MISSING, bytes_human, percent, plain_significant, points, times
from core.units import kwh_to_joules
from papers.claims import QUANTITY_BY_KEY, QuantityCheck
from papers.models import Claim

register = template.Library()


@register.filter
def quantity_value(value: float | None, key: str) -> str:
    """A claimed or measured value of the quantity `key` in the unit people read."""
    if value is None:
        return MISSING
    if key == "accuracy":
        return percent(value)
    if key in ("speedup", "compression_ratio"):
        return times(value)
    if key == "size":
        return f"{bytes_human(value)} ({value:,.0f} bytes)"
    if key == "search_energy":
        return f"{plain_significant(value)} kWh ({plain_significant(kwh_to_joules(value))} J)"
    return f"{value:g}"


@register.filter
def quantity_gap(check: QuantityCheck) -> str:
    """measured - claimed: in points for accuracy, in % of the claim for the others."""
    if check.gap is None:
        return MISSING
    if not check.quantity.relative:
        return points(check.gap)
    return f"{check.gap * 100:+.1f} %"


@register.filter
def quantity_tolerance(check: QuantityCheck) -> str:
    amount = f"{check.tolerance * 100:.2f} pt" if not check.quantity.relative else f"{check.tolerance * 100:g} %"
    if check.quantity.better_counts:
        return f"at most {amount} below the claim"
    return f"within {amount} either way"


@register.filter
def claimed_value(claim: Claim, key: str) -> float | int | None:
    """The claim's figure for the quantity `key` (None: not claimed)."""
    quantity = QUANTITY_BY_KEY.get(key)
    return None if quantity is None else getattr(claim, quantity.claim_field)
