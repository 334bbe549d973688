"""Labels of a result: {% result_flags result %} (its flags, each with why), {% withheld_label result %}
(never ranked, and why); `audit_title`: what an audit checks, in words."""

from __future__ import annotations

from typing import Any

from django import template

from submissions.audits import audit_title
from submissions.flags import result_flag_notes
from submissions.models import Result
from submissions.standing import result_standing

register = template.Library()


@register.inclusion_tag("includes/result_flags.html")
def result_flags(result: Any) -> dict[str, Any]:
    """Labels for a Result's flags; nothing for None or a result without flags."""
    if not result or not getattr(result, "flags", None):
        return {"flags": []}
    figures = {(f.subject, f.name): f for f in result.figures.all()}
    return {"flags": result_flag_notes(flags=list(result.flags), figures=figures, provenance=result.provenance)}


@register.inclusion_tag("includes/withheld_label.html")
def withheld_label(result: Result | None) -> dict[str, Any]:
    """A label on a result that is never ranked (invalidated, or an audit failed), saying why."""
    if result is None:
        return {"standing": None}
    return {"standing": result_standing(result=result, speedup_measured=True)}


# What an audit checks, in words: {{ audit.name|audit_title }}.
register.filter("audit_title", audit_title)
