"""The leaderboard of one benchmark on one hardware class.

Every number on a row comes from one job: the submission and the reference were measured
side by side on the same runner, so speed-up and the accuracy delta are ratios and
differences within that job. Rows are ranked by measured speed-up among the entries that
reach the benchmark's accuracy floor; those under it are listed apart, unranked, and so are
the entries that are never ranked: a failed audit, or invalidated by an operator
(submissions.standing).

A board is read from its entries (leaderboard.entries): filters, order, ranks, counts and
the Pareto front are computed by the database, and only the rows of the page asked for are
built, so that the queries and the time stay flat in the size of the page.

This module holds the board's entries in SQL (filters, order, the keys of a page), the
assembly of a board (its aggregates, cached under the board stamp, and its rows) and the
budget tracks' boards. The orders a board may be read in are in leaderboard.sorting, the
rows of a page in leaderboard.rows, the Pareto fronts in leaderboard.fronts, the home
page's summaries in leaderboard.overview.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import caches
from django.db import connection
from django.db.models import Case, F, Q, QuerySet, When, Window
from django.db.models.expressions import OrderBy
from django.db.models.functions import RowNumber

from benchmarks.models import Benchmark, HardwareClass
from budgets.models import Track
from budgets.selectors import track_from_slug, tracks_for_benchmark
from budgets.tracks import LIMIT_RELATIVE_TOLERANCE
from leaderboard.entries import ENERGY_MISSING, SMALLER_NOT_FASTER, entries_ensure, pivot
from leaderboard.fronts import FrontPoint, front_keys_both, front_points_of
from leaderboard.models import BoardEntry
from leaderboard.rows import (
    STORED_CACHE_ALIAS,
    STORED_CACHE_SECONDS,
    BaselineRow,
    LeaderboardRow,
    build_rows,
    captions,
    row_queryset,
    stored_key,
)
from leaderboard.sorting import DEFAULT_SORT, LABEL_GROUPED_SORTS, SORT_KEYS
from leaderboard.stamp import cached_under_stamp
from submissions.models import Figure

BASELINE_FIGURES: dict[str, tuple[str, str]] = {
    "accuracy": ("accuracy", "fraction"),
    "latency_p50_us": ("latency_p50", "us"),
    "latency_p90_us": ("latency_p90", "us"),
    "serve_peak_memory_bytes": ("serve_peak_memory", "bytes"),
    "energy_per_inference_mj": ("energy_per_inference", "mJ"),
}

# Flags a board can be narrowed to (?flag=...): the runner's flags and the board's own.
FLAG_FILTERS: dict[str, str] = {
    SMALLER_NOT_FASTER: "speed-up far below its footprint's promise",
    "unstable": "unstable latency",
    "predictions_differ": "predictions differ",
    "cache_suspected": "cache suspected",
    Figure.Label.DECLARED: "holds a declared figure",
    Figure.Label.ESTIMATED: "holds an estimated figure",
}
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
# Entries listed apart (under the floor, withheld) shown on a page; the exports hold every one.
APART_SHOWN = 10


@dataclass(frozen=True)
class BoardFilters:
    """What a board is narrowed to, besides its benchmark, hardware class and track."""

    division: str = ""
    paper: str = ""  # a paper's slug: its linked submissions only
    flags: tuple[str, ...] = ()  # keys of FLAG_FILTERS; an entry must carry every one

    @property
    def active(self) -> bool:
        return bool(self.division or self.paper or self.flags)


@dataclass
class LeaderboardBoard:
    benchmark: Benchmark
    hardware_class: HardwareClass
    sort: str  # the sort applied: "rank" or a SORT_KEYS key, with "-" when reversed
    accuracy_floor_fraction: float
    rows: list[LeaderboardRow]  # meeting the accuracy floor (ranked when their speed-up is measured)
    under_floor: list[LeaderboardRow]  # listed apart, never ranked
    withheld: list[LeaderboardRow]  # a failed audit or invalidated: listed apart with the reason, never ranked
    baseline: BaselineRow | None
    # Pagination of `rows` (page None: every row is in `rows`).
    page: int | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    rows_total: int = 0
    under_floor_total: int = 0
    withheld_total: int = 0
    filters: BoardFilters = field(default_factory=BoardFilters)
    # The Pareto fronts of the whole (filtered) board: accuracy against latency, and against
    # energy per inference (measured and estimated energies each have their own front).
    latency_front: list[FrontPoint] = field(default_factory=list)
    energy_front: list[FrontPoint] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.rows_total or self.under_floor_total or self.withheld_total)

    @property
    def entries(self) -> list[LeaderboardRow]:
        """Every entry built, as the page lists them: ranked table, under the floor, withheld."""
        return [*self.rows, *self.under_floor, *self.withheld]

    @property
    def pages(self) -> int:
        return max(1, -(-self.rows_total // self.page_size)) if self.page is not None else 1

    @property
    def first_index(self) -> int:
        """The position (from 0) of the page's first row among the ranked table's rows."""
        return 0 if self.page is None else (self.page - 1) * self.page_size


# ---------------------------------------------------------------------------------------
# The board's entries, in SQL


def normalize_sort(sort: str | None) -> str:
    """The sort to apply: a known key (optionally "-key"), else the ranking."""
    if sort and sort.lstrip("-") in SORT_KEYS and sort.count("-") <= 1:
        return sort
    return DEFAULT_SORT


def _fits(track: Track) -> Q:
    """Entries whose totals fit `track`'s limits (budgets.tracks.within_limit, in SQL)."""
    condition = Q()
    if track.max_device_hours is not None:
        condition &= Q(total_device_hours__lte=track.max_device_hours * (1 + LIMIT_RELATIVE_TOLERANCE))
    if track.max_kwh is not None:
        condition &= Q(total_kwh__lte=track.max_kwh * (1 + LIMIT_RELATIVE_TOLERANCE))
    return condition


# Which entries each of a board's tables holds: withheld (an operator invalidated it, or an
# audit failed), listed (the ranking) and under the floor. Each is a test of the entry's own
# columns, the conditions of the board's partial indexes (leaderboard.models).
WITHHELD_ENTRIES = Q(invalidated=True) | Q(failed_audits__gt=0)
LISTED_ENTRIES = Q(invalidated=False, failed_audits=0, meets_accuracy_floor=True)
UNDER_FLOOR_ENTRIES = Q(invalidated=False, failed_audits=0, meets_accuracy_floor=False)


def board_entries(
    *,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    track: Track | None = None,
    filters: BoardFilters | None = None,
) -> QuerySet[BoardEntry]:
    """The entries of a board: published submissions' latest succeeded run, narrowed."""
    entries = BoardEntry.objects.filter(
        benchmark_id=benchmark.pk, hardware_class_id=hardware_class.pk, superseded=False, published=True
    )
    if track is not None:
        entries = entries.filter(_fits(track))
    filters = filters or BoardFilters()
    if filters.division:
        entries = entries.filter(division=filters.division)
    if filters.paper:
        entries = entries.filter(submission__papers__slug=filters.paper)
    for flag in filters.flags:
        entries = entries.filter(flag_names__contains=f" {flag} ")
    return entries


def _default_order() -> list[OrderBy]:
    # Measured speed-ups first, largest first; then accuracy; then who got there first. The
    # index entry_board_ranking holds this order (rank_speedup is None exactly when the
    # speed-up is not measured, and a succeeded result always has an accuracy).
    return [
        F("speedup_measured").desc(),
        F("rank_speedup").desc(),
        F("accuracy").desc(),
        F("finished_at").asc(),
        F("submission_id").asc(),
    ]


def _only_when(condition: Q, orders: list[OrderBy]) -> list[OrderBy]:
    """`orders` applied to the rows matching `condition`; other rows tie on them."""
    return [
        OrderBy(Case(When(condition, then=order.expression)), descending=order.descending, nulls_last=True)
        for order in orders
    ]


def _ordering(sort: str) -> list[OrderBy]:
    if sort == DEFAULT_SORT:
        return _default_order()
    key = sort.lstrip("-")
    column, larger_is_better = SORT_KEYS[key]
    descending = larger_is_better != sort.startswith("-")
    value = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
    if key in LABEL_GROUPED_SORTS:
        # The direction reverses the order inside a group, never the order of the groups:
        # an estimated figure is not comparable with a measured one, whichever way one reads.
        missing = Q(energy_group=ENERGY_MISSING)
        return [F("energy_group").asc(), value, *_only_when(missing, _default_order()), F("submission_id").asc()]
    # Rows without the figure go last whatever the direction (nulls last), in the ranking's
    # order; ties among the others by submission. The column leads, so that an index on it
    # (entry_board_latency) gives the order without sorting the board.
    missing = Q(**{f"{column}__isnull": True})
    return [value, *_only_when(missing, _default_order()), F("submission_id").asc()]


def _with_rank(entries: QuerySet[BoardEntry]) -> QuerySet[BoardEntry]:
    """Ranks 1.. in the ranking's order among the measured speed-ups (the others keep none)."""
    return entries.annotate(
        rank_number=Window(RowNumber(), partition_by=[F("speedup_measured")], order_by=_default_order())
    )


def _ranks_of(entries: QuerySet[BoardEntry], keys: list[int]) -> dict[int, int]:
    """The ranks of `keys` among `entries` (the ranked table), for a page in another order.

    The rank window runs over the ranking's order alone, which the index
    entry_board_ranking holds (no sort of the board), and only the page's keys leave it:
    the filter on them must stay outside the window, or the ranks would be counted among
    the page's entries only."""
    if not keys:
        return {}
    ranked = _with_rank(entries).annotate(rank_key=F("pk")).values_list("rank_key", "rank_number")
    sql, params = ranked.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ranked.* FROM ({sql}) ranked WHERE ranked.{connection.ops.quote_name('rank_key')} IN "
            f"({', '.join(['%s'] * len(keys))})",
            [*params, *keys],
        )
        return dict(cursor.fetchall())


def _page_keys(
    entries: QuerySet[BoardEntry], *, sort: str, start: int, stop: int | None, ranked: bool = False
) -> list[tuple[int, int | None]]:
    """(key, rank) of the entries from `start` to `stop` in the order `sort`, chosen on the
    narrow entries alone (sorting the whole board); rank None unless `ranked` (the ranked
    table in an order that is not the ranking's own)."""
    plain = entries.order_by(*_ordering(sort)).values_list("pk", flat=True)
    keys = list(plain[start:stop] if stop is not None else plain[start:])
    ranks = _ranks_of(entries, keys) if ranked else {}
    return [(key, ranks.get(key)) for key in keys]


def _entries_of(*pages: list[tuple[int, int | None]]) -> list[list[BoardEntry]]:
    """The entries of each list of keys, in its order, with what their rows show: one query
    for all of them."""
    keys = [key for page in pages for key, _ in page]
    found = {entry.pk: entry for entry in row_queryset(BoardEntry.objects.filter(pk__in=keys))} if keys else {}
    read = []
    for page in pages:
        entries = []
        for key, rank in page:
            entry = found[key]
            if rank is not None:
                entry.rank_number = rank
            entries.append(entry)
        read.append(entries)
    return read


def _page_entries(
    entries: QuerySet[BoardEntry], *, sort: str, start: int, stop: int | None, ranked: bool = False
) -> list[BoardEntry]:
    """The entries from `start` to `stop` in the order `sort`, with what their rows show:
    the page's keys, then only those rows with their joins and document parts."""
    return _entries_of(_page_keys(entries, sort=sort, start=start, stop=stop, ranked=ranked))[0]


# ---------------------------------------------------------------------------------------
# Boards


@dataclass(frozen=True)
class BoardAggregates:
    """What a board's every page shares, whatever its order and page: its tables' sizes,
    its Pareto fronts (keys, in order of cost) and whose reference is its baseline. Plain
    values, cached under the board stamp (leaderboard.stamp)."""

    counts: dict[str, int]
    latency_front: list[int]
    energy_front: list[int]
    baseline_result: tuple[int, datetime] | None  # (id, stored at)


def _aggregates(
    entries: QuerySet[BoardEntry],
    *,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    track: Track | None,
    filters: BoardFilters,
    fronts: bool,
) -> BoardAggregates:
    def build() -> tuple[BoardAggregates, bool]:
        latency, energy = front_keys_both(entries.filter(LISTED_ENTRIES)) if fronts else ([], [])
        aggregates = BoardAggregates(
            # Three counts, each from its table's partial index.
            counts={
                "listed": entries.filter(LISTED_ENTRIES).count(),
                "under": entries.filter(UNDER_FLOOR_ENTRIES).count(),
                "withheld": entries.filter(WITHHELD_ENTRIES).count(),
            },
            latency_front=latency,
            energy_front=energy,
            baseline_result=_baseline_result(benchmark=benchmark, hardware_class=hardware_class),
        )
        return aggregates, True

    limits = None if track is None else (track.pk, track.max_device_hours, track.max_kwh)
    parts = ("board-aggregates", benchmark.pk, hardware_class.pk, limits, filters, fronts)
    return cached_under_stamp(parts, build)


def _baseline_result(*, benchmark: Benchmark, hardware_class: HardwareClass) -> tuple[int, datetime] | None:
    """The board's newest result whose job is not suspect (a withheld result's reference is
    no baseline either): its id and when it was stored."""
    return (
        board_entries(benchmark=benchmark, hardware_class=hardware_class)
        .filter(invalidated=False, failed_audits=0)
        .order_by("-finished_at", "-run_id")
        .values_list("result_id", "result__created")
        .first()
    )


def _baseline(*, benchmark: Benchmark, result: tuple[int, datetime] | None) -> BaselineRow | None:
    """The reference measured in the job of `result` (id, stored at), as the board's
    baseline row; kept between builds (nothing it is read from changes once stored)."""
    if result is None:
        return None
    result_id, stored_at = result
    cache = caches[STORED_CACHE_ALIAS]
    key = f"{stored_key('baseline', result_id, stored_at)}:{benchmark.reference_accuracy!r}"
    baseline = cache.get(key)
    if baseline is None:
        run = BoardEntry.objects.select_related("run").get(pk=result_id).run
        baseline = BaselineRow(run=run, finished_at=run.finished_at, stored_accuracy=benchmark.reference_accuracy)
        figures = {(f.subject, f.name): f for f in Figure.objects.filter(result_id=result_id)}
        values, labels = pivot(figures, Figure.Subject.REFERENCE, BASELINE_FIGURES)
        for attribute, value in values.items():
            setattr(baseline, attribute, value)
        baseline.labels = labels
        cache.set(key, baseline, STORED_CACHE_SECONDS)
    return baseline


def leaderboard_rows(
    *,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    sort: str | None = None,
    track: Track | None = None,
    tracks: Sequence[Track] | None = None,
    filters: BoardFilters | None = None,
    page: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    fronts: bool = False,
    entries_ensured: bool = False,
) -> LeaderboardBoard:
    """Published submissions' latest succeeded run on (benchmark, hardware class).

    `track` keeps the entries whose totals fit its limits, `filters` narrow further. With
    `page` (from 1), `rows` holds that page of the ranked table and the entries listed apart
    hold their first APART_SHOWN; without, every entry is built. `fronts`: compute the
    Pareto fronts too. Queries do not grow with the number of rows: the entries written
    since the last read, the counts, each table's rows with their figures and audits, the
    baseline, and the fronts.
    """
    if not entries_ensured:
        entries_ensure(benchmark=benchmark, hardware_class=hardware_class)
    if tracks is None:
        tracks = tracks_for_benchmark(benchmark=benchmark)
    filters = filters or BoardFilters()
    applied = normalize_sort(sort)
    entries = board_entries(benchmark=benchmark, hardware_class=hardware_class, track=track, filters=filters)
    aggregates = _aggregates(
        entries, benchmark=benchmark, hardware_class=hardware_class, track=track, filters=filters, fronts=fronts
    )
    counts = aggregates.counts
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    if page is not None:
        page = max(1, min(int(page), max(1, -(-counts["listed"] // page_size))))
    start = 0 if page is None else (page - 1) * page_size
    # In the ranking's own order a rank is a position; another order needs the window.
    listed_qs = entries.filter(LISTED_ENTRIES)
    # One row before the page, to know where a label group starts.
    before = 1 if start and applied.lstrip("-") in LABEL_GROUPED_SORTS else 0
    stop = None if page is None else start + page_size
    apart_stop = None if page is None else APART_SHOWN
    listed, under, withheld = _entries_of(
        _page_keys(listed_qs, sort=applied, start=start - before, stop=stop, ranked=applied != DEFAULT_SORT),
        _page_keys(entries.filter(UNDER_FLOOR_ENTRIES), sort=applied, start=0, stop=apart_stop),
        _page_keys(entries.filter(WITHHELD_ENTRIES), sort=applied, start=0, stop=apart_stop),
    )
    previous_group = listed.pop(0).energy_group if before and listed else None
    if applied == DEFAULT_SORT:
        # Measured speed-ups come first in this order: their rank is their position.
        for position, entry in enumerate(listed, start=start + 1):
            entry.rank_number = position
    built = build_rows([*listed, *under, *withheld], benchmark=benchmark, hardware_class=hardware_class, tracks=tracks)
    rows, under_rows, withheld_rows = (
        built[: len(listed)],
        built[len(listed) : len(listed) + len(under)],
        built[len(listed) + len(under) :],
    )
    captions(rows, applied, previous_group)
    captions(under_rows, applied, None)
    captions(withheld_rows, applied, None)
    board = LeaderboardBoard(
        benchmark=benchmark,
        hardware_class=hardware_class,
        sort=applied,
        accuracy_floor_fraction=benchmark.accuracy_floor_fraction,
        rows=rows,
        under_floor=under_rows,
        withheld=withheld_rows,
        baseline=_baseline(benchmark=benchmark, result=aggregates.baseline_result),
        page=page,
        page_size=page_size,
        rows_total=counts["listed"],
        under_floor_total=counts["under"],
        withheld_total=counts["withheld"],
        filters=filters,
    )
    if fronts:
        board.latency_front, board.energy_front = front_points_of(aggregates.latency_front, aggregates.energy_front)
        on_latency = {point.run_id for point in board.latency_front}
        on_energy = {point.run_id for point in board.energy_front}
        for row in rows:
            row.on_latency_front = row.run.pk in on_latency
            row.on_energy_front = row.run.pk in on_energy
    return board


def board_rows_iter(
    *,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    sort: str | None = None,
    track: Track | None = None,
    tracks: Sequence[Track],
    filters: BoardFilters | None = None,
    chunk: int = 500,
) -> Iterator[LeaderboardRow]:
    """Every entry of a board as the page lists them (ranked table, under the floor,
    withheld), built `chunk` rows at a time: what the exports stream."""
    entries_ensure(benchmark=benchmark, hardware_class=hardware_class)
    applied = normalize_sort(sort)
    entries = board_entries(benchmark=benchmark, hardware_class=hardware_class, track=track, filters=filters)
    for part, ranked in (
        (entries.filter(LISTED_ENTRIES), True),
        (entries.filter(UNDER_FLOOR_ENTRIES), False),
        (entries.filter(WITHHELD_ENTRIES), False),
    ):
        start = 0
        while True:
            batch = _page_entries(part, sort=applied, start=start, stop=start + chunk, ranked=ranked)
            yield from build_rows(batch, benchmark=benchmark, hardware_class=hardware_class, tracks=tracks)
            if len(batch) < chunk:
                break
            start += chunk


# ---------------------------------------------------------------------------------------
# Budget tracks: one board per track (docs/search-cost.md, "Budget tracks")


class UnknownTrack(Exception):
    """A `?track=` slug that names none of the benchmark's tracks."""

    def __init__(self, *, slug: str, tracks: list[Track]) -> None:
        self.slug = slug
        self.tracks = tracks
        known = ", ".join(track.slug for track in tracks) or "none"
        super().__init__(f"this benchmark has no budget track {slug!r}; its tracks are: {known}")


def default_track(tracks: list[Track]) -> Track | None:
    """The board shown without `?track=`: the last track without limits, which holds every
    entry; None when every track has a limit (the page then shows all entries, unfiltered)."""
    unlimited = [track for track in tracks if track.is_unlimited]
    return unlimited[-1] if unlimited else None


def _limit(value: float) -> str:
    return f"{value:g}"


def track_limits_text(track: Track) -> str:
    """A track's limits in words: "≤ 24 device-hours and ≤ 10 kWh", "no limit"."""
    limits = []
    if track.max_device_hours is not None:
        limits.append(f"\u2264 {_limit(track.max_device_hours)} device-hours")
    if track.max_kwh is not None:
        limits.append(f"\u2264 {_limit(track.max_kwh)} kWh")
    return " and ".join(limits) if limits else "no limit"


@dataclass
class TrackBoard:
    """A leaderboard narrowed to one budget track's board, each row with its budget."""

    board: LeaderboardBoard  # its tables hold the track's entries only
    tracks: list[Track]  # the benchmark's tracks, smallest first
    track: Track | None  # the board shown; None: every entry (no track without limits)
    default_track: Track | None
    _entries_total: int | None = None

    @property
    def entries_total(self) -> int:
        """Entries on this benchmark and class before the track and the filters (one query)."""
        if self._entries_total is None:
            board = self.board
            self._entries_total = board_entries(benchmark=board.benchmark, hardware_class=board.hardware_class).count()
        return self._entries_total

    @property
    def is_default(self) -> bool:
        return self.track == self.default_track

    @property
    def track_slug(self) -> str | None:
        """The `?track=` value that names this board in links; None for the default board."""
        return None if self.is_default or self.track is None else self.track.slug


def track_or_unknown(*, tracks: list[Track], track_slug: str | None) -> Track | None:
    """The track a `?track=` slug names (the default one without); raises UnknownTrack."""
    if not track_slug:
        return default_track(tracks)
    track = track_from_slug(tracks=tracks, slug=track_slug)
    if track is None:
        raise UnknownTrack(slug=track_slug, tracks=tracks)
    return track


def leaderboard_track_board(
    *,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    sort: str | None = None,
    track_slug: str | None = None,
    filters: BoardFilters | None = None,
    page: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    fronts: bool = False,
    tracks: list[Track] | None = None,
    entries_ensured: bool = False,
) -> TrackBoard:
    """The leaderboard of one budget track: the entries whose totals fit the track's limits.

    No `track_slug` (or ""): the default board (default_track), which shows every entry.
    Ranks are numbered within the board; label-grouped sorts compute their captions among
    the entries kept. Every row gets its budget (search cost, assigned track, declared
    mark). Raises UnknownTrack for a slug that is not one of the benchmark's tracks.
    `tracks` (the benchmark's, when the caller has read them) and `entries_ensured` (the
    caller has just called entries_ensure) save their queries.
    """
    if tracks is None:
        tracks = tracks_for_benchmark(benchmark=benchmark)
    track = track_or_unknown(tracks=tracks, track_slug=track_slug)
    board = leaderboard_rows(
        benchmark=benchmark,
        hardware_class=hardware_class,
        sort=sort,
        track=track,
        tracks=tracks,
        filters=filters,
        page=page,
        page_size=page_size,
        fronts=fronts,
        entries_ensured=entries_ensured,
    )
    return TrackBoard(board=board, tracks=tracks, track=track, default_track=default_track(tracks))


def flag_filter_choices() -> list[tuple[str, str]]:
    return list(FLAG_FILTERS.items())
