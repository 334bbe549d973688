"""The leaderboard page's parts that are not rows: the view's query (filters, track, order,
page), column headers, track tabs, pages and the chart's points. Typed, so that the
template reads attributes, not dict keys."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from budgets.tracks import track_for
from leaderboard.fronts import FrontPoint
from leaderboard.selectors import BoardFilters, LeaderboardBoard, TrackBoard, track_limits_text
from leaderboard.sorting import DEFAULT_SORT, SORT_KEYS


@dataclass(frozen=True)
class BoardQuery:
    """What names a view of a board in its URL: everything but the benchmark and class."""

    track: str = ""
    sort: str = DEFAULT_SORT
    division: str = ""
    paper: str = ""
    flags: tuple[str, ...] = ()
    page: int = 1

    @property
    def filters(self) -> BoardFilters:
        return BoardFilters(division=self.division, paper=self.paper, flags=self.flags)

    def link(self, *, sort_first: bool = False, **changes: Any) -> str:
        """The query string of this view with `changes` ("?" alone for the defaults);
        `sort_first` for the links that change the order."""
        view = replace(self, **changes)
        params: list[tuple[str, str]] = []
        if view.track:
            params.append(("track", view.track))
        if view.sort != DEFAULT_SORT:
            params.insert(0 if sort_first else len(params), ("sort", view.sort))
        if view.division:
            params.append(("division", view.division))
        if view.paper:
            params.append(("paper", view.paper))
        params.extend(("flag", flag) for flag in view.flags)
        if view.page != 1:
            params.append(("page", str(view.page)))
        return f"?{urlencode(params)}" if params else "?"

    @property
    def export(self) -> str:
        """The query string of the exports: the same view, every page."""
        link = self.link(page=1)
        return "" if link == "?" else link


@dataclass(frozen=True)
class SortLink:
    key: str
    title: str
    query: str
    active: bool
    reversed: bool


@dataclass(frozen=True)
class ColumnHeader:
    key: str
    title: str
    numeric: bool
    # The sorts this column offers: its figure, and the one on its second line.
    sorts: list[SortLink] = field(default_factory=list)
    help: str = ""
    # Hidden at phone width (the key columns stay).
    secondary: bool = False

    @property
    def active(self) -> bool:
        return any(link.active for link in self.sorts)

    @property
    def aria_sort(self) -> str:
        for link in self.sorts:
            if link.active:
                return "descending" if link.reversed else "ascending"
        return ""


@dataclass(frozen=True)
class TrackTab:
    slug: str  # "" for "All entries"
    name: str
    limits: str  # in words
    query: str  # the link's query string
    active: bool


# Columns in table order: (key, title, [(sort key, short title)], help, secondary). The first
# click on a sort sorts best first (the selector knows which direction is better); the next
# click on the same one reverses it.
COLUMNS: list[tuple[str, str, list[tuple[str, str]], str, bool]] = [
    ("name", "Method", [("name", "Method")], "", False),
    ("accuracy", "Accuracy", [("accuracy", "Accuracy"), ("accuracy_delta", "\u0394 vs ref.")], "", False),
    (
        "speedup",
        "Speed-up",
        [("speedup", "Speed-up")],
        "measured: the reference's p50 latency over the submission's, block by block in the same job "
        "(the median over blocks); with its 95% interval",
        False,
    ),
    ("latency", "Latency", [("latency_p50_us", "p50"), ("latency_p90_us", "p90")], "single-stream, batch 1", False),
    (
        "footprint",
        "Footprint",
        [("theoretical_speedup", "Theor. speed-up"), ("compression_ratio", "Compression")],
        "dense / non-zero FLOPs, and parameters / non-zero parameters, against the same job's reference",
        True,
    ),
    (
        "energy",
        "Energy / inference",
        [("energy_per_inference_mj", "Energy / inference")],
        "net energy of the timed window over its queries; the reference's below",
        True,
    ),
    (
        "search_cost",
        "Search cost",
        [("total_kwh", "by energy"), ("compress_wall_s", "by compress time")],
        "the price of the result: the compress phase measured on the runner plus any declared off-platform search",
        True,
    ),
    ("memory", "Memory", [("serve_peak_memory_bytes", "Memory")], "the serving container's peak memory", True),
]
assert all(key in SORT_KEYS for _, _, sorts, _, _ in COLUMNS for key, _ in sorts)


def _sort_link(query: BoardQuery, key: str, title: str) -> SortLink:
    active = query.sort.lstrip("-") == key
    reversed_now = active and query.sort.startswith("-")
    # Clicking the active sort flips it; any other starts best first.
    next_sort = key if not active or reversed_now else f"-{key}"
    return SortLink(
        key=key,
        title=title,
        query=query.link(sort=next_sort, page=1, sort_first=True),
        active=active,
        reversed=reversed_now,
    )


def column_headers(*, query: BoardQuery) -> list[ColumnHeader]:
    return [
        ColumnHeader(
            key=key,
            title=title,
            numeric=key != "name",
            sorts=[_sort_link(query, sort_key, short) for sort_key, short in sorts],
            help=help_text,
            secondary=secondary,
        )
        for key, title, sorts, help_text, secondary in COLUMNS
    ]


def rank_link(*, query: BoardQuery) -> SortLink:
    active = query.sort == DEFAULT_SORT
    # Named explicitly, so that the link says which order it asks for.
    rest = query.link(sort=DEFAULT_SORT, page=1)[1:]
    link = f"?sort={DEFAULT_SORT}" + (f"&{rest}" if rest else "")
    return SortLink(key="rank", title="Rank", query=link, active=active, reversed=False)


def track_tabs(*, tracked: TrackBoard, query: BoardQuery) -> list[TrackTab]:
    """One tab per track, smallest first; plus "All entries" when no track is without limits."""
    tabs: list[TrackTab] = []
    for track in tracked.tracks:
        slug = "" if track == tracked.default_track else track.slug
        tabs.append(
            TrackTab(
                slug=track.slug,
                name=track.name,
                limits=track_limits_text(track),
                query=query.link(track=slug, page=1),
                active=track == tracked.track,
            )
        )
    if tracked.tracks and tracked.default_track is None:
        tabs.append(
            TrackTab(
                slug="",
                name="All entries",
                limits="every entry, whatever its track",
                query=query.link(track="", page=1),
                active=tracked.track is None,
            )
        )
    return tabs


@dataclass(frozen=True)
class PageLink:
    number: int
    query: str
    current: bool


@dataclass(frozen=True)
class Pages:
    number: int
    count: int
    first_row: int  # 1-based, 0 when empty
    last_row: int
    total: int
    previous: str  # query string, "" on the first page
    next: str
    links: list[PageLink]


def pages(*, board: LeaderboardBoard, query: BoardQuery) -> Pages:
    """Links to the pages around the current one (first, last, and two on each side)."""
    number, count = board.page or 1, board.pages
    shown = sorted({1, count, *range(max(1, number - 2), min(count, number + 2) + 1)})
    first = board.first_index + 1 if board.rows else 0
    return Pages(
        number=number,
        count=count,
        first_row=first,
        last_row=board.first_index + len(board.rows),
        total=board.rows_total,
        previous=query.link(page=number - 1) if number > 1 else "",
        next=query.link(page=number + 1) if number < count else "",
        links=[PageLink(number=n, query=query.link(page=n), current=n == number) for n in shown],
    )


# ---------------------------------------------------------------------------------------
# The chart


@dataclass(frozen=True)
class _Totals:
    total_device_hours: float | None
    total_kwh: float | None


def _track(tracks: list, *, device_hours: float | None, kwh: float | None) -> Any:
    return track_for(cost=_Totals(device_hours, kwh), tracks=tracks)


def chart_points(*, tracked: TrackBoard) -> dict[str, Any]:
    """The chart's data (json_script): the page's entries, the board's Pareto fronts and
    the reference; each point with its method, track, labels and run page."""
    board = tracked.board
    points: dict[int, dict[str, Any]] = {}

    def point(run_id: int, name: str, **values: Any) -> dict[str, Any]:
        entry = points.setdefault(
            run_id,
            {
                "run": run_id,
                "name": name,
                "url": reverse("run-detail", args=[run_id]),
                "on_page": False,
                "latency_front": False,
                "energy_front": False,
                "kind": "entry",
            },
        )
        entry.update(values)
        return entry

    def track_values(track: Any) -> dict[str, Any]:
        return {"track": track.slug if track else "", "track_name": track.name if track else "no track"}

    for row in board.rows:
        point(
            row.run.pk,
            row.name,
            on_page=True,
            accuracy=row.accuracy,
            latency_p50_us=row.latency_p50_us,
            energy_mj=row.energy_per_inference_mj,
            energy_label=row.labels.get("energy_per_inference_mj"),
            latency_label=row.labels.get("latency_p50_us"),
            speedup=row.speedup,
            **track_values(row.budget.track if row.budget else None),
        )

    def front_point(front: FrontPoint, which: str) -> None:
        track = _track(tracked.tracks, device_hours=front.total_device_hours, kwh=front.total_kwh)
        point(
            front.run_id,
            front.name,
            accuracy=front.accuracy,
            latency_p50_us=front.latency_p50_us,
            energy_mj=front.energy_per_inference_mj,
            energy_label=front.energy_label,
            **{which: True},
            **track_values(track),
        )

    for front in board.latency_front:
        front_point(front, "latency_front")
    for front in board.energy_front:
        front_point(front, "energy_front")
    for row in board.rows:
        points[row.run.pk]["latency_front"] = points[row.run.pk]["latency_front"] or row.on_latency_front
        points[row.run.pk]["energy_front"] = points[row.run.pk]["energy_front"] or row.on_energy_front
    series = list(points.values())
    if board.baseline is not None:
        base = board.baseline
        series.append(
            {
                "run": base.run.pk,
                "name": "reference model",
                "url": reverse("run-detail", args=[base.run.pk]),
                "kind": "reference",
                "accuracy": base.accuracy,
                "latency_p50_us": base.latency_p50_us,
                "energy_mj": base.energy_per_inference_mj,
                "energy_label": base.labels.get("energy_per_inference_mj"),
                "track": "",
                "track_name": "reference",
                "on_page": True,
                "latency_front": False,
                "energy_front": False,
            }
        )
    return {
        "points": series,
        "tracks": [{"slug": track.slug, "name": track.name} for track in tracked.tracks],
    }
