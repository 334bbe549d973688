"""Template filters that show figures in the units people read (core.formatting).

Loaded with `{% load footprint_format %}` by every Footprint template. A missing figure
(None) shows as an em dash, never as 0.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

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


def _label_html(label: str | None) -> str:
    # The same markup as includes/figure_label.html, built by format_html (which escapes the
    # label): a board renders it a dozen times a row, and a template include each time is slow.
    if not label or label == "measured":
        return ""
    return format_html('<span class="label" title="this figure is {}, not measured">{}</span>', label, label)


@register.simple_tag
def figure_label(labels: dict[str, str], attribute: str) -> str:
    """The label of a row's figure when it is not "measured" (estimated, declared)."""
    return _label_html((labels or {}).get(attribute))


register.filter("duration", formatting.duration)
register.filter("microseconds", formatting.microseconds)
register.filter("mib_text", formatting.mib_text)
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


@register.simple_tag
def figure_label_of(figure: Any) -> str:
    """The label of a Figure when it is not "measured" (estimated, declared); nothing for None."""
    return _label_html(getattr(figure, "label", None))


@register.simple_tag
def energy_mj(value: Any, label: str | None) -> str:
    """An energy per inference in mJ with its label: estimated values are approximate and say
    so, declared ones say so, a missing one is a dash (built by format_html, which escapes,
    rather than by an include: a board shows it twice a row)."""
    number = formatting.finite_number(value)
    if number is None:
        return format_html('<span class="muted" title="{}">&mdash;</span>', "no energy figure in this result")
    shown = formatting.significant(number, 2)
    if label == "estimated":
        return format_html(
            '<span class="energy-estimated" data-label="estimated">&asymp;&nbsp;{}&nbsp;mJ<span class="label" '
            "title=\"estimated from CPU time &times; the hardware class's power per core, not measured; never ranked "
            'against measured energy">est.</span></span>',
            shown,
        )
    if label and label != "measured":
        return format_html(
            '<span data-label="{}">{}&nbsp;mJ'
            '<span class="label" title="this figure is {}, not measured">{}</span></span>',
            label,
            shown,
            label,
            label,
        )
    return format_html('<span data-label="measured">{}&nbsp;mJ</span>', shown)
