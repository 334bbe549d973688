"""Template filters that show figures in the units people read (%, MiB, us, s, x).

Loaded with `{% load footprint_format %}` by every Footprint template. A missing figure
(None) shows as an em dash, never as 0.
"""

from __future__ import annotations

import math
from typing import Any

from django import template

register = template.Library()

MISSING = "\u2014"
MIB = 2**20


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@register.filter
def percent(fraction: Any, decimals: int = 2) -> str:
    """0.9753 -> "97.53 %"."""
    number = _number(fraction)
    return MISSING if number is None else f"{number * 100:.{int(decimals)}f} %"


@register.filter
def points(delta_fraction: Any) -> str:
    """A change of a fraction in percentage points, signed: -0.0031 -> "-0.31 pt"."""
    number = _number(delta_fraction)
    return MISSING if number is None else f"{number * 100:+.2f} pt"


@register.filter
def mib(size_bytes: Any) -> str:
    number = _number(size_bytes)
    return MISSING if number is None else f"{number / MIB:.1f}"


@register.filter
def decimal(value: Any, decimals: int = 1) -> str:
    number = _number(value)
    return MISSING if number is None else f"{number:,.{int(decimals)}f}"


@register.filter
def times(ratio: Any) -> str:
    """A ratio as a factor: 1.534 -> "1.53x"."""
    number = _number(ratio)
    return MISSING if number is None else f"{number:.2f}\u00d7"


J_PER_KWH = 3.6e6


@register.filter
def significant(value: Any, digits: int = 3) -> str:
    """A number with `digits` significant digits: 0.41234 -> "0.412", 12345.6 -> "12,346";
    very small or very large numbers in scientific notation (3.4e-06)."""
    number = _number(value)
    if number is None or not math.isfinite(number):
        return MISSING
    digits = max(int(digits), 1)
    if number == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(number)))
    if magnitude < -3 or magnitude >= 12:
        return f"{number:.{digits - 1}e}"
    return f"{number:,.{max(digits - 1 - magnitude, 0)}f}"


@register.filter
def kwh(joules: Any) -> str:
    """Joules as kilowatt-hours (1 kWh = 3.6e6 J): 12.3 -> "3.42e-06 kWh"."""
    number = _number(joules)
    return MISSING if number is None else f"{significant(number / J_PER_KWH)} kWh"


@register.filter
def figure_display(figure: Any) -> str:
    """A Figure's value in a readable unit (its raw value and unit are shown beside it)."""
    number = _number(getattr(figure, "value", None))
    if number is None:
        return MISSING
    unit = getattr(figure, "unit", "")
    if unit == "fraction":
        return percent(number)
    if unit == "bytes":
        return f"{number / MIB:,.1f} MiB"
    if unit == "us":
        return f"{number:,.1f} \u00b5s"
    if unit == "s":
        return f"{number:,.2f} s"
    if unit == "ratio":
        return times(number)
    if unit == "count":
        return f"{number:,.0f}"
    return f"{number:g} {unit}"


@register.filter
def bytes_human(size_bytes: Any) -> str:
    number = _number(size_bytes)
    if number is None:
        return MISSING
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if number < 1024 or unit == "GiB":
            return f"{number:.0f} {unit}" if unit == "bytes" else f"{number:.1f} {unit}"
        number /= 1024
    return MISSING


@register.inclusion_tag("includes/figure_label.html")
def figure_label(labels: dict[str, str], attribute: str) -> dict[str, str | None]:
    """The label of a row's figure when it is not "measured" (estimated, declared)."""
    label = (labels or {}).get(attribute)
    return {"label": label if label and label != "measured" else None}
