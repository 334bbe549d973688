"""The leaderboard of one benchmark on one hardware class.

Every number on a row comes from one job: the submission and the reference were measured
side by side on the same runner, so speed-up and the accuracy delta are ratios and
differences within that job. Rows are ranked by measured speed-up among the entries that
reach the benchmark's accuracy floor; those under it are listed apart, unranked, and so are
the entries that are never ranked: a failed audit, or invalidated by an operator
(submissions.standing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import OuterRef, Prefetch, Subquery

from benchmarks.models import Benchmark, HardwareClass
from budgets.models import Track
from budgets.selectors import RowBudget, result_budgets, track_from_slug, tracks_for_benchmark
from submissions.flags import FlagNote, result_flag_notes
from submissions.models import Audit, Figure, ResultInvalidation, Run, Submission
from submissions.standing import WITHHELD, Standing, result_standing

# Row attribute -> (figure name, unit) of the submission's figures.
ROW_FIGURES: dict[str, tuple[str, str]] = {
    "accuracy": ("accuracy", "fraction"),
    "latency_p50_us": ("latency_p50", "us"),
    "latency_p90_us": ("latency_p90", "us"),
    "speedup": ("speedup", "ratio"),
    "compression_ratio": ("compression_ratio", "ratio"),
    "theoretical_speedup": ("theoretical_speedup", "ratio"),
    "serve_peak_memory_bytes": ("serve_peak_memory", "bytes"),
    "compress_wall_s": ("compress_wall", "s"),
    "energy_per_inference_mj": ("energy_per_inference", "mJ"),
}
# The same job's reference, shown beside the submission's figure (second line, title).
ROW_REFERENCE_FIGURES: dict[str, tuple[str, str]] = {
    "reference_energy_per_inference_mj": ("energy_per_inference", "mJ"),
}
BASELINE_FIGURES: dict[str, tuple[str, str]] = {
    "accuracy": ("accuracy", "fraction"),
    "latency_p50_us": ("latency_p50", "us"),
    "latency_p90_us": ("latency_p90", "us"),
    "serve_peak_memory_bytes": ("serve_peak_memory", "bytes"),
    "energy_per_inference_mj": ("energy_per_inference", "mJ"),
}

# Sort keys a page may ask for: key -> (row attribute, larger is better). "-key" reverses.
SORT_KEYS: dict[str, tuple[str, bool]] = {
    "speedup": ("speedup", True),
    "compression_ratio": ("compression_ratio", True),
    "theoretical_speedup": ("theoretical_speedup", True),
    "accuracy": ("accuracy", True),
    "accuracy_delta": ("accuracy_delta", True),
    "latency_p50_us": ("latency_p50_us", False),
    "latency_p90_us": ("latency_p90_us", False),
    "serve_peak_memory_bytes": ("serve_peak_memory_bytes", False),
    "compress_wall_s": ("compress_wall_s", False),
    "energy_per_inference_mj": ("energy_per_inference_mj", False),
    "name": ("name", False),
    "finished_at": ("finished_at", False),
}
DEFAULT_SORT = "rank"

# Columns whose measured and estimated values are never ordered together: sorted by one
# of these, measured values come first among themselves, then estimated ones (under a
# caption), then declared ones, then rows without the figure.
LABEL_GROUPED_SORTS = frozenset({"energy_per_inference_mj"})
LABEL_GROUP_CAPTIONS: dict[str, str] = {
    "estimated": "estimated — not ranked against measured",
    "declared": "declared — not ranked against measured",
    "missing": "without this figure",
}

# A row is flagged "smaller, not faster" when its footprint promises a speed-up that the
# measurement does not show: theoretical speed-up (dense / non-zero FLOPs) above
# FLAG_MIN_THEORETICAL_SPEEDUP and a measured speed-up below FLAG_MAX_REALISED_FRACTION of it.
# The usual cause: zeros that a dense kernel multiplies all the same (unstructured pruning).
FLAG_MIN_THEORETICAL_SPEEDUP = 1.5
FLAG_MAX_REALISED_FRACTION = 0.5


def speedup_falls_short(*, measured: float | None, theoretical: float | None) -> bool:
    """Whether a measured speed-up is far below the theoretical one (the flag rule above)."""
    if measured is None or theoretical is None:
        return False
    return theoretical > FLAG_MIN_THEORETICAL_SPEEDUP and measured < FLAG_MAX_REALISED_FRACTION * theoretical


@dataclass
class LeaderboardRow:
    submission: Submission
    run: Run
    name: str
    owner_name: str
    division: str
    finished_at: datetime | None
    meets_accuracy_floor: bool
    # Where the entry is listed, and why it has no rank ("" when ranked).
    standing: Standing = Standing.RANKED
    unranked_reason: str = ""
    # Every audit of the result, in the runner's order (the failed ones decide the standing),
    # and the operator's invalidation, if any.
    audits: list[Audit] = field(default_factory=list)
    invalidation: ResultInvalidation | None = None
    rank: int | None = None
    accuracy: float | None = None
    accuracy_delta: float | None = None  # submission - reference, same job
    latency_p50_us: float | None = None
    latency_p90_us: float | None = None
    speedup: float | None = None
    # Against the same job's reference: its parameters / the submission's non-zero ones,
    # its dense FLOPs / the submission's non-zero FLOPs (ShrinkBench's ratios for a model
    # pruned in place); measured by the standard runtime, or declared.
    compression_ratio: float | None = None
    theoretical_speedup: float | None = None
    serve_peak_memory_bytes: float | None = None
    compress_wall_s: float | None = None
    # Net energy of the timed single-stream window / its queries (mJ), measured from
    # counters or estimated from CPU time; the reference's from the same job beside it.
    energy_per_inference_mj: float | None = None
    reference_energy_per_inference_mj: float | None = None
    # Row attribute -> label (measured / estimated / declared) of the figure behind it.
    labels: dict[str, str] = field(default_factory=dict)
    # The result's flags ("unstable", "predictions_differ", "cache_suspected"), explained.
    flags: list[FlagNote] = field(default_factory=list)
    # Set by a label-grouped sort on the first row of a group that is not ranked against
    # the rows above it ("estimated — not ranked against measured"); "" otherwise.
    sort_caption: str = ""
    # Search cost and budget track (leaderboard_track_board); None on a board read without tracks.
    budget: RowBudget | None = None

    @property
    def failed_audits(self) -> list[Audit]:
        return [audit for audit in self.audits if audit.verdict == Audit.Verdict.FAILED]

    @property
    def speedup_falls_short(self) -> bool:
        """Measured speed-up far below the theoretical one: "smaller, not faster"."""
        return speedup_falls_short(measured=self.speedup, theoretical=self.theoretical_speedup)


@dataclass
class BaselineRow:
    """The reference model, as measured in the most recent job on the board."""

    run: Run
    finished_at: datetime | None
    stored_accuracy: float  # measured at import, what task.json says
    accuracy: float | None = None
    latency_p50_us: float | None = None
    latency_p90_us: float | None = None
    serve_peak_memory_bytes: float | None = None
    energy_per_inference_mj: float | None = None
    labels: dict[str, str] = field(default_factory=dict)


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

    @property
    def is_empty(self) -> bool:
        return not self.rows and not self.under_floor and not self.withheld

    @property
    def entries(self) -> list[LeaderboardRow]:
        """Every entry, as the page lists them: ranked table, under the floor, withheld."""
        return [*self.rows, *self.under_floor, *self.withheld]


def _figures(run: Run) -> dict[tuple[str, str], Figure]:
    return {(f.subject, f.name): f for f in run.result.figures.all()}


def _pivot(target: object, figures: dict[tuple[str, str], Figure], subject: str, names: dict) -> None:
    labels = target.labels  # type: ignore[attr-defined]
    for attribute, (name, unit) in names.items():
        figure = figures.get((subject, name))
        # A figure in another unit than the contract's is not comparable: leave it out.
        if figure is not None and figure.unit == unit:
            setattr(target, attribute, figure.value)
            labels[attribute] = figure.label


def _default_key(row: LeaderboardRow) -> tuple:
    # Measured speed-ups first, largest first; then accuracy; then who got there first.
    measured = row.speedup is not None and row.labels.get("speedup") == Figure.Label.MEASURED
    return (
        0 if measured else 1,
        -(row.speedup or 0.0) if measured else 0.0,
        -(row.accuracy if row.accuracy is not None else -1.0),
        row.finished_at.timestamp() if row.finished_at else float("inf"),
        row.submission.pk,
    )


def _sorted_by_value(rows: list[LeaderboardRow], attribute: str, descending: bool) -> list[LeaderboardRow]:
    ordered = sorted(rows, key=lambda r: r.submission.pk)  # stable tie-break
    ordered.sort(key=lambda r: getattr(r, attribute), reverse=descending)
    return ordered


def _label_group(row: LeaderboardRow, attribute: str) -> str:
    if getattr(row, attribute) is None:
        return "missing"
    label = row.labels.get(attribute)
    # Anything not known to be measured or estimated is declared: it ranks with neither.
    return label if label in (Figure.Label.MEASURED, Figure.Label.ESTIMATED) else Figure.Label.DECLARED


def _sorted_by_label_groups(rows: list[LeaderboardRow], attribute: str, descending: bool) -> list[LeaderboardRow]:
    """Measured, then estimated, then declared, then missing; sorted within each group only.

    The direction reverses the order inside a group, never the order of the groups: an
    estimated figure is not comparable with a measured one, whichever way one reads.
    """
    ordered: list[LeaderboardRow] = []
    for group in (Figure.Label.MEASURED, Figure.Label.ESTIMATED, Figure.Label.DECLARED, "missing"):
        members = [r for r in rows if _label_group(r, attribute) == group]
        if not members:
            continue
        members = (
            sorted(members, key=_default_key)
            if group == "missing"
            else _sorted_by_value(members, attribute, descending)
        )
        # Measured rows lead without a caption; rows lacking the figure need one only below others.
        if group != Figure.Label.MEASURED and (group != "missing" or ordered):
            members[0].sort_caption = LABEL_GROUP_CAPTIONS[group]
        ordered.extend(members)
    return ordered


def _sorted(rows: list[LeaderboardRow], sort: str) -> list[LeaderboardRow]:
    for row in rows:
        row.sort_caption = ""
    if sort == DEFAULT_SORT:
        return sorted(rows, key=_default_key)
    key = sort.lstrip("-")
    attribute, larger_is_better = SORT_KEYS[key]
    descending = larger_is_better != sort.startswith("-")
    if key in LABEL_GROUPED_SORTS:
        return _sorted_by_label_groups(rows, attribute, descending)
    present = [r for r in rows if getattr(r, attribute) is not None]
    missing = [r for r in rows if getattr(r, attribute) is None]
    # Rows without the figure go last whatever the direction.
    return _sorted_by_value(present, attribute, descending) + sorted(missing, key=_default_key)


def _ranked(rows: list[LeaderboardRow]) -> list[LeaderboardRow]:
    """Number the ranked rows 1.. in the default order; a row whose speed-up is not measured
    keeps no rank (it is listed after the ranked ones)."""
    ordered = sorted(rows, key=_default_key)
    for position, row in enumerate(ordered, start=1):
        row.rank = position if row.standing == Standing.RANKED else None
    return ordered


def _tables(
    rows: list[LeaderboardRow], sort: str
) -> tuple[list[LeaderboardRow], list[LeaderboardRow], list[LeaderboardRow]]:
    """The board's three tables, each sorted: the ranking, under the floor, withheld."""
    listed = _ranked([r for r in rows if r.standing in (Standing.RANKED, Standing.SPEEDUP_NOT_MEASURED)])
    under_floor = [r for r in rows if r.standing == Standing.UNDER_ACCURACY_FLOOR]
    withheld = [r for r in rows if r.standing in WITHHELD]
    return _sorted(listed, sort), _sorted(under_floor, sort), _sorted(withheld, sort)


def normalize_sort(sort: str | None) -> str:
    """The sort to apply: a known key (optionally "-key"), else the ranking."""
    if sort and sort.lstrip("-") in SORT_KEYS and sort.count("-") <= 1:
        return sort
    return DEFAULT_SORT


def leaderboard_rows(
    *, benchmark: Benchmark, hardware_class: HardwareClass, sort: str | None = None
) -> LeaderboardBoard:
    """Published submissions' latest succeeded run on (benchmark, hardware class).

    Three queries whatever the number of rows: the runs (with submission, owner, result
    and its invalidation joined), their figures and their audits.
    """
    latest = (
        Run.objects.filter(
            submission=OuterRef("submission"),
            hardware_class=hardware_class,
            state=Run.SUCCEEDED,
            result__isnull=False,
        )
        .order_by("-finished_at", "-id")
        .values("id")[:1]
    )
    runs = list(
        Run.objects.filter(
            submission__benchmark=benchmark,
            submission__published=True,
            hardware_class=hardware_class,
            state=Run.SUCCEEDED,
            id=Subquery(latest),
        )
        .select_related("submission__owner", "result__invalidation")
        .prefetch_related(
            Prefetch("result__figures", queryset=Figure.objects.all()),
            Prefetch("result__audits", queryset=Audit.objects.order_by("id")),
        )
    )

    rows: list[LeaderboardRow] = []
    for run in runs:
        submission = run.submission
        row = LeaderboardRow(
            submission=submission,
            run=run,
            name=submission.name,
            owner_name=submission.owner.get_username(),
            division=submission.division,
            finished_at=run.finished_at,
            meets_accuracy_floor=bool(run.result.meets_accuracy_floor),
        )
        figures = _figures(run)
        _pivot(row, figures, Figure.Subject.SUBMISSION, ROW_FIGURES)
        _pivot(row, figures, Figure.Subject.REFERENCE, ROW_REFERENCE_FIGURES)
        row.flags = result_flag_notes(
            flags=list(run.result.flags or []), figures=figures, provenance=run.result.provenance
        )
        reference = figures.get((Figure.Subject.REFERENCE, "accuracy"))
        if row.accuracy is not None and reference is not None:
            row.accuracy_delta = row.accuracy - reference.value
            row.labels["accuracy_delta"] = (
                Figure.Label.MEASURED
                if reference.label == row.labels["accuracy"] == Figure.Label.MEASURED
                else Figure.Label.ESTIMATED
            )
        standing = result_standing(
            result=run.result,
            speedup_measured=row.speedup is not None and row.labels.get("speedup") == Figure.Label.MEASURED,
            accuracy_floor_fraction=benchmark.accuracy_floor_fraction,
        )
        row.standing, row.unranked_reason = standing.standing, standing.reason
        row.audits, row.invalidation = list(run.result.audits.all()), standing.invalidation
        rows.append(row)

    baseline = None
    # The reference of a result that is never ranked is no baseline either: its job is suspect.
    trusted = [row.run for row in rows if row.standing not in WITHHELD]
    if trusted:
        newest = max(trusted, key=lambda r: (r.finished_at is not None, r.finished_at, r.pk))
        baseline = BaselineRow(run=newest, finished_at=newest.finished_at, stored_accuracy=benchmark.reference_accuracy)
        _pivot(baseline, _figures(newest), Figure.Subject.REFERENCE, BASELINE_FIGURES)

    applied = normalize_sort(sort)
    ranked, under_floor, withheld = _tables(rows, applied)
    return LeaderboardBoard(
        benchmark=benchmark,
        hardware_class=hardware_class,
        sort=applied,
        accuracy_floor_fraction=benchmark.accuracy_floor_fraction,
        rows=ranked,
        under_floor=under_floor,
        withheld=withheld,
        baseline=baseline,
    )


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
    entries_total: int  # entries on this benchmark and class before the track filter

    @property
    def is_default(self) -> bool:
        return self.track == self.default_track

    @property
    def track_slug(self) -> str | None:
        """The `?track=` value that names this board in links; None for the default board."""
        return None if self.is_default or self.track is None else self.track.slug


def leaderboard_track_board(
    *,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    sort: str | None = None,
    track_slug: str | None = None,
) -> TrackBoard:
    """The leaderboard of one budget track: the entries whose totals fit the track's limits.

    No `track_slug` (or ""): the default board (default_track), which shows every entry.
    Ranks are renumbered within the board; label-grouped sorts recompute their captions
    among the entries kept. Every row gets its budget (search cost, assigned track,
    declared mark). Raises UnknownTrack for a slug that is not one of the benchmark's
    tracks. Queries: the tracks, the board's two, and the runs' hardware class, whatever
    the number of rows.
    """
    tracks = tracks_for_benchmark(benchmark=benchmark)
    default = default_track(tracks)
    if track_slug:
        track = track_from_slug(tracks=tracks, slug=track_slug)
        if track is None:
            raise UnknownTrack(slug=track_slug, tracks=tracks)
    else:
        track = default
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class, sort=sort)
    everything = board.entries
    budgets = result_budgets(results=[row.run.result for row in everything], tracks=tracks)
    kept: list[LeaderboardRow] = []
    for row in everything:
        row.budget = budgets[row.run.result.pk]
        if track is None or row.budget.fits(track):
            kept.append(row)
    # Ranks are renumbered among the board's entries; the rows listed apart have none.
    board.rows, board.under_floor, board.withheld = _tables(kept, board.sort)
    return TrackBoard(
        board=board,
        tracks=tracks,
        track=track,
        default_track=default,
        entries_total=len(everything),
    )
