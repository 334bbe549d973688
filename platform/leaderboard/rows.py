"""The rows of a board's page: what a row shows of an entry (its figures, flags, audits,
standing and budget), the baseline row of the reference, and the captions over the label
groups of a label-grouped sort. Built from entries chosen by leaderboard.selectors, in a
fixed number of queries whatever their number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import caches
from django.db.models import Model, QuerySet
from django.db.models.fields.json import KeyTransform

from benchmarks.models import Benchmark, HardwareClass
from budgets.costs import COMPRESS_FIGURES, SearchCost, method_with_declared_search, search_cost_from
from budgets.models import Track
from budgets.selectors import RowBudget
from budgets.tracks import track_for
from leaderboard.entries import (
    ENERGY_GROUPS,
    ENERGY_MISSING,
    ROW_FIGURES,
    ROW_REFERENCE_FIGURES,
    energy_group,
    speedup_falls_short,
    speedup_gap_words,
)
from leaderboard.models import BoardEntry
from leaderboard.sorting import LABEL_GROUPED_SORTS, SORT_KEYS
from submissions.flags import FlagNote, result_flag_notes
from submissions.models import Audit, Figure, Result, ResultInvalidation, Run, Submission
from submissions.standing import Standing, result_standing

# The caption over the first row of each label group but the first (LABEL_GROUPED_SORTS).
LABEL_GROUP_CAPTIONS: dict[str, str] = {
    "estimated": "estimated — not ranked against measured",
    "declared": "declared — not ranked against measured",
    "missing": "without this figure",
}


@dataclass(frozen=True)
class RowFigure:
    """One of the figures a row reads beyond its entry (ROW_READS_FIGURES), as stored."""

    subject: str
    name: str
    value: float
    unit: str
    label: str


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
    # The result's figures of ROW_READS_FIGURES (search cost, flags, the energy break-even).
    figures: tuple[RowFigure, ...] = ()
    rank: int | None = None
    accuracy: float | None = None
    accuracy_delta: float | None = None  # submission - reference, same job
    latency_p50_us: float | None = None
    latency_p90_us: float | None = None
    speedup: float | None = None
    # The runner's confidence interval of the measured speed-up (bootstrap over block pairs).
    speedup_ci_low: float | None = None
    speedup_ci_high: float | None = None
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
    # Search cost and budget track.
    budget: RowBudget | None = None
    # On the board's Pareto front: accuracy against latency, and against energy per inference.
    on_latency_front: bool = False
    on_energy_front: bool = False

    @property
    def failed_audits(self) -> list[Audit]:
        return [audit for audit in self.audits if audit.verdict == Audit.Verdict.FAILED]

    @property
    def speedup_falls_short(self) -> bool:
        """Measured speed-up far below the theoretical one (leaderboard.entries.speedup_gap_words)."""
        return speedup_falls_short(measured=self.speedup, theoretical=self.theoretical_speedup)

    @property
    def speedup_gap(self) -> tuple[str, str] | None:
        """(label, explanation) when the speed-up falls short of the footprint's promise."""
        return speedup_gap_words(
            measured=self.speedup, theoretical=self.theoretical_speedup, ci_low=self.speedup_ci_low
        )

    @property
    def pareto_marks(self) -> list[str]:
        """The Pareto fronts this entry is on, in words."""
        return [
            name
            for name, on in (
                ("accuracy vs latency", self.on_latency_front),
                ("accuracy vs energy", self.on_energy_front),
            )
            if on
        ]


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


# The columns a row reads of the instances behind an entry, besides the entry's own: not a
# run's logs nor a submission's description (kilobytes a row, read and digested for nothing).
# The relations are columns too: select_related follows them.
ROW_READS_COLUMNS = (
    "run__submission",
    "run__hardware_class",
    "run__submission__owner",
    "run__submission__name",
    "run__submission__division",
    "run__submission__declared_search",
    "run__submission__owner__username",
    "result__run",
    "result__created",
    "result__meets_accuracy_floor",
    "result__flags",
    "result__invalidation",
)


def row_queryset(entries: QuerySet[BoardEntry]) -> QuerySet[BoardEntry]:
    return (
        # Not the runs' hardware class: a board's is one, given to build_rows.
        entries.select_related("run__submission__owner", "result__invalidation")
        # Of the documents (large: raw latencies) only the parts a row reads.
        .only(*(f.name for f in BoardEntry._meta.concrete_fields), *ROW_READS_COLUMNS)
        .annotate(
            method_json=KeyTransform("method", "result__document"),
            flag_thresholds=KeyTransform("flag_thresholds", "result__provenance"),
            provenance_repeats=KeyTransform("repeats", "result__provenance"),
        )
    )


# The figures a row reads beyond its entry: the search cost's, the flags' explanations, and
# the energy break-even's (exports). The rest of a result's figures stay in the database.
ROW_READS_FIGURES = (
    *COMPRESS_FIGURES,
    "latency_p50_cv",
    "prediction_mismatch_rate",
    "repeat_latency_ratio",
    "energy_per_inference",
)


# Where what never changes once a result is stored (its figures, audits, the reference's
# row) is kept between builds of a board: a result is named by its id and the time it was
# stored, which no other result shares. Local to each process, like the rows' cells.
STORED_CACHE_ALIAS = "board_rows"
STORED_CACHE_SECONDS = 24 * 3600


def stored_key(kind: str, result_id: int, stored_at: datetime) -> str:
    return f"{kind}:{result_id}:{stored_at.isoformat()}"


def result_parts(results: Sequence[Result]) -> dict[int, tuple[tuple[RowFigure, ...], tuple[Audit, ...]]]:
    """The figures of ROW_READS_FIGURES and the audits of each result: from the cache, or
    else two plain queries for those not in it (Django's prefetching of the same took twice
    as long as the queries)."""
    cache = caches[STORED_CACHE_ALIAS]
    keys = {result.pk: stored_key("result-parts", result.pk, result.created) for result in results}
    found = cache.get_many(list(keys.values()))
    parts = {pk: found[key] for pk, key in keys.items() if key in found}
    missing = [pk for pk in keys if pk not in parts]
    if missing:
        figures: dict[int, list[RowFigure]] = {pk: [] for pk in missing}
        audits: dict[int, list[Audit]] = {pk: [] for pk in missing}
        for result_id, *columns in Figure.objects.filter(result_id__in=missing, name__in=ROW_READS_FIGURES).values_list(
            "result_id", "subject", "name", "value", "unit", "label"
        ):
            figures[result_id].append(RowFigure(*columns))
        for audit in Audit.objects.filter(result_id__in=missing).order_by("id"):
            audits[audit.result_id].append(audit)
        read = {pk: (tuple(figures[pk]), tuple(audits[pk])) for pk in missing}
        cache.set_many({keys[pk]: value for pk, value in read.items()}, STORED_CACHE_SECONDS)
        parts.update(read)
    return parts


def build_rows(
    entries: Sequence[BoardEntry], *, benchmark: Benchmark, hardware_class: HardwareClass, tracks: Sequence[Track]
) -> list[LeaderboardRow]:
    """Rows of `entries`, with their figures, audits and budgets: at most two queries whatever
    their number (result_parts)."""
    parts = result_parts([entry.result for entry in entries])
    rows = []
    for entry in entries:
        run, result = entry.run, entry.result
        assert run.hardware_class_id == hardware_class.pk, "an entry of another board"
        run.hardware_class = hardware_class
        result.run = run  # what budgets and exports read of it, already here
        submission = run.submission
        row_figures, audits = parts[result.pk]
        figures = {(f.subject, f.name): f for f in row_figures}
        row = LeaderboardRow(
            submission=submission,
            run=run,
            name=submission.name,
            owner_name=submission.owner.get_username(),
            division=submission.division,
            finished_at=entry.finished_at,
            meets_accuracy_floor=entry.meets_accuracy_floor,
            labels=dict(entry.labels),
        )
        for attribute in (*ROW_FIGURES, *ROW_REFERENCE_FIGURES, "accuracy_delta"):
            setattr(row, attribute, getattr(entry, attribute))
        provenance = {"flag_thresholds": entry.flag_thresholds, "repeats": entry.provenance_repeats}
        row.flags = result_flag_notes(flags=list(result.flags or []), figures=figures, provenance=provenance)
        standing = result_standing(
            result=result,
            audits=audits,
            speedup_measured=entry.speedup_measured,
            accuracy_floor_fraction=benchmark.accuracy_floor_fraction,
        )
        row.standing, row.unranked_reason = standing.standing, standing.reason
        row.audits, row.invalidation, row.figures = list(audits), standing.invalidation, row_figures
        rank = getattr(entry, "rank_number", None)
        row.rank = rank if standing.standing == Standing.RANKED else None
        cost: SearchCost = search_cost_from(
            figures=row_figures,
            gpus=hardware_class.gpus,
            method=method_with_declared_search(entry.method_json, submission.declared_search),
        )
        row.budget = RowBudget(cost=cost, track=track_for(cost=cost, tracks=tracks))  # type: ignore[arg-type]
        rows.append(row)
    return rows


def untie(rows: Sequence[LeaderboardRow | BaselineRow]) -> None:
    """Break the reference cycles among the model instances a board's rows hold, once the
    page is rendered.

    Django ties them together both ways (a run and its result, an entry and its run, a
    result and its prefetched figures), so that a built page leaves thousands of objects in
    cycles that only the collector's full passes free, many requests' worth at once: such a
    pass took ~100 ms inside a leaderboard request here (perf/pages.py). Untied, they are
    freed as soon as the page is done with them."""
    seen: set[int] = set()
    pending: list[Model] = []
    for row in rows:
        pending.append(row.run)
        if isinstance(row, LeaderboardRow):
            pending.extend([row.submission, *row.audits])
            if row.invalidation is not None:
                pending.append(row.invalidation)
    while pending:
        instance = pending.pop()
        if id(instance) in seen:
            continue
        seen.add(id(instance))
        cache = instance._state.fields_cache
        pending.extend(value for value in cache.values() if isinstance(value, Model))
        cache.clear()
        for prefetched in instance.__dict__.pop("_prefetched_objects_cache", {}).values():
            pending.extend(prefetched._result_cache or ())


def captions(rows: list[LeaderboardRow], sort: str, previous_group: int | None) -> None:
    """Captions over the first row of each label group after the first one (label-grouped sorts)."""
    if sort.lstrip("-") not in LABEL_GROUPED_SORTS:
        return
    attribute = SORT_KEYS[sort.lstrip("-")][0]
    group_before = previous_group
    for row in rows:
        group = energy_group(getattr(row, attribute), row.labels.get(attribute))
        # Measured rows lead without a caption; rows lacking the figure need one only below others.
        starts = group != group_before and group != 0
        if starts and not (group == ENERGY_MISSING and group_before is None):
            row.sort_caption = LABEL_GROUP_CAPTIONS[ENERGY_GROUPS[group]]
        group_before = group
