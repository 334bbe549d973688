"""A board row's cells, rendered once for what they show.

Most of a board page built from the database is template work on its rows (about 0.7 ms a
row here), and a change to a board (a new result, a rename) leaves nearly every row's
content as it was: only ranks move. So the cells of a row (everything but its rank and the
caption above it) are cached under a digest of what they are rendered from: every field of
the row but its rank and caption, each model instance among them as its own loaded column
values, together with the hardware class its search cost is read against and the URL prefix
its links are written under. A row that shows anything different has a different digest: no
stamp and no expiry is needed for it to stay right, and a row whose digest is new is simply
rendered. So the cells template may read only the row's fields, the columns of the model
instances they hold (not their relations: `row.run.pk`, never `row.run.submission.name`),
and `hardware_class`.

The cache (alias "board_rows", docs/operator.md) is local to each process, like "boards".
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from typing import Any

from django.core.cache import caches
from django.db.models import Model
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe

from benchmarks.models import HardwareClass
from leaderboard.rows import LeaderboardRow

CACHE_ALIAS = "board_rows"
TEMPLATE = "leaderboard/_row_cells.html"
# Rows are content-addressed: an entry ages out only to make room (a row nobody shows again).
CACHE_SECONDS = 24 * 3600


_PLAIN = (str, int, float, bool, type(None))


def _shown(value: Any) -> Any:
    """`value` as plain data: model instances as their loaded columns (not their relations),
    dataclasses as their fields, containers as tuples."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Model):
        # Loaded columns and annotations; Django's own state (relations, prefetches) starts with _.
        return (value._meta.label, tuple(item for item in value.__dict__.items() if item[0][0] != "_"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__qualname__, tuple(_shown(item) for item in value.__dict__.values()))
    if isinstance(value, dict):
        return ("dict", tuple((key, _shown(item)) for key, item in value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(_shown(item) for item in value)
    return value


def row_digest(row: LeaderboardRow, hardware_class: HardwareClass) -> str:
    """What the cells of `row` are rendered from, as a digest: equal digests, equal cells."""
    shown = dataclasses.replace(row, rank=None, sort_caption="")
    content = pickle.dumps(
        (TEMPLATE, get_script_prefix(), _shown(shown), _shown(hardware_class)), protocol=pickle.HIGHEST_PROTOCOL
    )
    return hashlib.blake2b(content, digest_size=20).hexdigest()


def row_cells(row: LeaderboardRow, hardware_class: HardwareClass) -> SafeString:
    """The rendered cells of `row` after its rank cell, from the cache when a row with the
    same content was rendered before."""
    key = f"board-row:{row_digest(row, hardware_class)}"
    cache = caches[CACHE_ALIAS]
    cells = cache.get(key)
    if cells is None:
        cells = str(render_to_string(TEMPLATE, {"row": row, "hardware_class": hardware_class}))
        cache.set(key, cells, CACHE_SECONDS)
    # Markup this template rendered (and escaped) itself, kept as a plain string.
    return mark_safe(cells)
