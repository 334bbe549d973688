"""The leaderboard page's parts that are not rows: column headers, track tabs, links that keep
the board's track and order. Typed, so that the template reads attributes, not dict keys."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from leaderboard.selectors import DEFAULT_SORT, SORT_KEYS, TrackBoard, track_limits_text


@dataclass(frozen=True)
class ColumnHeader:
    key: str
    title: str
    sortable: bool
    numeric: bool
    active: bool = False
    reversed: bool = False
    # The sort a click on the header asks for (sortable columns only).
    next_sort: str = ""
    help: str = ""


@dataclass(frozen=True)
class TrackTab:
    slug: str  # "" for "All entries"
    name: str
    limits: str  # in words
    query: str  # the link's query string
    active: bool


# Sortable columns, in table order: (sort key, header). The first click on a header sorts
# best first (the selector knows which direction is better); the next click reverses.
SORTABLE_COLUMNS: list[tuple[str, str]] = [
    ("name", "Method"),
    ("accuracy", "Accuracy"),
    ("accuracy_delta", "\u0394 vs ref."),
    ("latency_p50_us", "p50 (\u00b5s)"),
    ("latency_p90_us", "p90 (\u00b5s)"),
    ("compression_ratio", "Compression"),
    ("theoretical_speedup", "Theor. speed-up"),
    ("speedup", "Speed-up"),
    ("serve_peak_memory_bytes", "Memory (MiB)"),
    ("energy_per_inference_mj", "Energy / inference"),
    ("compress_wall_s", "Compress (s)"),
]
assert all(key in SORT_KEYS for key, _ in SORTABLE_COLUMNS)


# Columns that are not sorted on, placed after the sortable column named here: the
# search cost sits beside the speed-up it paid for.
UNSORTED_COLUMNS: dict[str, ColumnHeader] = {
    "speedup": ColumnHeader(
        key="search_cost",
        title="Search cost",
        sortable=False,
        numeric=True,
        help=(
            "the price of the result: total device-hours and kWh of the compress phase measured on the runner "
            "plus any off-platform search the submitter declared"
        ),
    ),
}


def column_headers(*, active_sort: str) -> list[ColumnHeader]:
    headers: list[ColumnHeader] = []
    for key, title in SORTABLE_COLUMNS:
        active = active_sort.lstrip("-") == key
        reversed_now = active and active_sort.startswith("-")
        headers.append(
            ColumnHeader(
                key=key,
                title=title,
                sortable=True,
                numeric=key != "name",
                active=active,
                reversed=reversed_now,
                # Clicking the active column flips it; any other starts best first.
                next_sort=key if not active or reversed_now else f"-{key}",
            )
        )
        if key in UNSORTED_COLUMNS:
            headers.append(UNSORTED_COLUMNS[key])
    return headers


def board_query(*, track_slug: str | None, sort: str) -> str:
    """The query string of links that keep the board and the order ("" for the defaults)."""
    params = {}
    if track_slug:
        params["track"] = track_slug
    if sort != DEFAULT_SORT:
        params["sort"] = sort
    return f"?{urlencode(params)}" if params else ""


def track_tabs(*, tracked: TrackBoard, sort: str) -> list[TrackTab]:
    """One tab per track, smallest first; plus "All entries" when no track is without limits."""
    tabs: list[TrackTab] = []
    for track in tracked.tracks:
        slug = None if track == tracked.default_track else track.slug
        tabs.append(
            TrackTab(
                slug=track.slug,
                name=track.name,
                limits=track_limits_text(track),
                query=board_query(track_slug=slug, sort=sort) or "?",
                active=track == tracked.track,
            )
        )
    if tracked.tracks and tracked.default_track is None:
        tabs.append(
            TrackTab(
                slug="",
                name="All entries",
                limits="every entry, whatever its track",
                query=board_query(track_slug=None, sort=sort) or "?",
                active=tracked.track is None,
            )
        )
    return tabs
