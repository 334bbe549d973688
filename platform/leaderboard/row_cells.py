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
import io
import pickle
from typing import Any

from django.core.cache import caches
from django.db.models import Model
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe

from benchmarks.models import HardwareClass
from leaderboard.rows import STORED_CACHE_ALIAS, LeaderboardRow

# One cache for what is named by its content or stored once (leaderboard.rows.result_parts).
CACHE_ALIAS = STORED_CACHE_ALIAS
TEMPLATE = "leaderboard/_row_cells.html"
# Rows are content-addressed: an entry ages out only to make room (a row nobody shows again).
CACHE_SECONDS = 24 * 3600


def _columns(instance: Model) -> tuple[tuple, tuple[tuple[str, Any], ...]]:
    """A model instance as its loaded columns and annotations, not its relations: Django's
    own state (relations, prefetches) is under names that start with _."""
    return (instance._meta.label, tuple(item for item in instance.__dict__.items() if item[0][0] != "_"))


class _ContentPickler(pickle.Pickler):
    """Pickles what a row shows: model instances as their columns (_columns), everything
    else (dataclasses, lists, dicts, enums, dates) as pickle does. Equal bytes decode to
    equal content, so equal digests mean equal cells; the converse need not hold (a value
    met twice is written the second time as a reference), which only costs a rendering."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Model):
            return tuple, (_columns(obj),)
        return NotImplemented


def content_digest(template: str, shown: Any) -> str:
    """A digest of `template` rendered from `shown` under this request's URL prefix: equal
    digests, equal markup."""
    content = io.BytesIO()
    _ContentPickler(content, protocol=pickle.HIGHEST_PROTOCOL).dump((template, get_script_prefix(), shown))
    return hashlib.blake2b(content.getbuffer(), digest_size=20).hexdigest()


def rendered_once(template: str, context: dict[str, Any], *, shown: Any) -> SafeString:
    """`template` rendered with `context`, from the cache when it was rendered before from
    the same `shown` (everything the template reads of `context`, as plain content)."""
    key = f"board-markup:{content_digest(template, shown)}"
    cache = caches[CACHE_ALIAS]
    markup = cache.get(key)
    if markup is None:
        markup = str(render_to_string(template, context))
        cache.set(key, markup, CACHE_SECONDS)
    # Markup the template rendered (and escaped) itself, kept as a plain string.
    return mark_safe(markup)


def _row_shown(row: LeaderboardRow, hardware_class: HardwareClass) -> tuple[LeaderboardRow, HardwareClass]:
    return dataclasses.replace(row, rank=None, sort_caption=""), hardware_class


def row_digest(row: LeaderboardRow, hardware_class: HardwareClass) -> str:
    """What the cells of `row` are rendered from, as a digest: equal digests, equal cells."""
    return content_digest(TEMPLATE, _row_shown(row, hardware_class))


def row_cells(row: LeaderboardRow, hardware_class: HardwareClass) -> SafeString:
    """The rendered cells of `row` after its rank cell, from the cache when a row with the
    same content was rendered before."""
    context = {"row": row, "hardware_class": hardware_class}
    return rendered_once(TEMPLATE, context, shown=_row_shown(row, hardware_class))
