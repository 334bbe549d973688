"""The board stamp: a value the database changes whenever something a board page shows
changes (migration leaderboard/0003 says from which tables, and how), and a cache of
rendered board pages under it.

A page cached under a stamp is served only while the stamp is unchanged, so it is never
older than the last committed change; a transaction that has itself written one of those
tables gets no stamp (it would see its own uncommitted change), nor does a database
without the triggers (SQLite): there every page is built.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import caches
from django.db import connection

CACHE_ALIAS = "boards"
# Long enough to serve a popular view many times, short enough that views nobody asks for
# again leave the cache; a change of stamp makes them unreachable at once.
CACHE_SECONDS = 600

T = TypeVar("T")


def board_stamp() -> int | None:
    """The current stamp, or None when a page must be built (no triggers; this
    transaction wrote what a board shows; the stamp cannot be read)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT value FROM leaderboard_boardstamp WHERE id = 1), "
            "current_setting('footprint.board_changed', true)"
        )
        value, changed = cursor.fetchone()
    if value is None or changed == "on":
        return None
    return int(value)


def cached_under_stamp(parts: tuple[object, ...], build: Callable[[], tuple[T, bool]]) -> T:
    """`build()`'s value, cached under the board stamp and `parts` (what names the page:
    every input it is built from besides the database). `build` returns (value, keep):
    keep=False for a value that must not be cached (it depends on more than the stamp
    covers)."""
    stamp = board_stamp()
    if stamp is None:
        return build()[0]
    digest = hashlib.sha256(repr((stamp, *parts)).encode()).hexdigest()
    key = f"board-page:{digest}"
    cache = caches[CACHE_ALIAS]
    value = cache.get(key)
    if value is None:
        value, keep = build()
        if keep:
            cache.set(key, value, CACHE_SECONDS)
    return value
