"""`{% row_cells row %}`: a board row's cells after its rank (leaderboard.row_cells)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from leaderboard import row_cells as cells

register = template.Library()


@register.simple_tag(takes_context=True)
def row_cells(context: Any, row: Any) -> SafeString:
    return cells.row_cells(row, context["hardware_class"])
