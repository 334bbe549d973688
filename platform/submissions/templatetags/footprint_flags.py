"""{% result_flags result %}: a result's flags as labels whose title says why."""

from __future__ import annotations

from typing import Any

from django import template

from submissions.flags import result_flag_notes

register = template.Library()


@register.inclusion_tag("includes/result_flags.html")
def result_flags(result: Any) -> dict[str, Any]:
    """Labels for a Result's flags; nothing for None or a result without flags."""
    if not result or not getattr(result, "flags", None):
        return {"flags": []}
    figures = {(f.subject, f.name): f for f in result.figures.all()}
    return {"flags": result_flag_notes(flags=list(result.flags), figures=figures, provenance=result.provenance)}
