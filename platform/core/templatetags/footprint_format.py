"""Template filters that show figures in the units people read (core.formatting).

Loaded with `{% load footprint_format %}` by every Footprint template. A missing figure
(None) shows as an em dash, never as 0.
"""

from __future__ import annotations

from typing import Any

from django import template

from core import formatting

register = template.Library()

register.filter("percent", formatting.percent)
register.filter("points", formatting.points)
register.filter("mib", formatting.mib)
register.filter("decimal", formatting.decimal)
register.filter("times", formatting.times)
register.filter("significant", formatting.significant)
register.filter("kwh", formatting.kwh)
register.filter("bytes_human", formatting.bytes_human)


@register.filter
def figure_display(figure: Any) -> str:
    """A Figure's value in a readable unit (its raw value and unit are shown beside it)."""
    return formatting.figure_value(getattr(figure, "value", None), getattr(figure, "unit", ""))


@register.filter
def in_unit(value: Any, unit: str) -> str:
    """A value in a contract unit (an audit's threshold): 0.001|in_unit:"fraction" -> "0.10 %"."""
    return formatting.figure_value(value, unit)


@register.inclusion_tag("includes/figure_label.html")
def figure_label(labels: dict[str, str], attribute: str) -> dict[str, str | None]:
    """The label of a row's figure when it is not "measured" (estimated, declared)."""
    label = (labels or {}).get(attribute)
    return {"label": label if label and label != "measured" else None}


register.filter("duration", formatting.duration)
register.filter("energy", formatting.energy)


@register.simple_tag
def device_time(device_hours: Any, hardware_class: Any, declared: bool = False) -> str:
    """{% device_time cost.total_device_hours hardware_class %}: "3.2 s of one core"; a total
    holding a declared search (other devices) is "device time"."""
    if declared:
        return (
            f"{formatting.duration(formatting.finite_number(device_hours) * 3600)} device time"
            if formatting.finite_number(device_hours) is not None
            else formatting.MISSING
        )
    return formatting.device_time(
        device_hours, getattr(hardware_class, "gpus", 0) or 0, getattr(hardware_class, "cores", 1) or 1
    )


register.filter("intword_plain", formatting.count_words)


@register.inclusion_tag("includes/figure_label.html")
def figure_label_of(figure: Any) -> dict[str, str | None]:
    """The label of a Figure when it is not "measured" (estimated, declared); nothing for None."""
    label = getattr(figure, "label", None)
    return {"label": label if label and label != "measured" else None}
