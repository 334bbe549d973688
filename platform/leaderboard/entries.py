"""Board entries: a stored result's figures pivoted once, so that boards sort, filter and
count in the database (leaderboard.models.BoardEntry).

`entries_ensure` writes the entries a board lacks (the results stored since it was last
read); every board read calls it first. It reads each result once, in batches, and never
rewrites an entry: a result does not change once stored.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.db.models.fields.json import KeyTransform

from benchmarks.models import Benchmark, HardwareClass
from budgets.costs import method_with_declared_search, search_cost_from
from leaderboard.models import BoardEntry
from submissions.audits import failed_audits
from submissions.flags import result_flag_notes
from submissions.models import Audit, Figure, Result, ResultInvalidation, Run, Submission

# Row attribute -> (figure name, unit) of the submission's figures.
ROW_FIGURES: dict[str, tuple[str, str]] = {
    "accuracy": ("accuracy", "fraction"),
    "latency_p50_us": ("latency_p50", "us"),
    "latency_p90_us": ("latency_p90", "us"),
    "speedup": ("speedup", "ratio"),
    "speedup_ci_low": ("speedup_ci_low", "ratio"),
    "speedup_ci_high": ("speedup_ci_high", "ratio"),
    "compression_ratio": ("compression_ratio", "ratio"),
    "theoretical_speedup": ("theoretical_speedup", "ratio"),
    "serve_peak_memory_bytes": ("serve_peak_memory", "bytes"),
    "compress_wall_s": ("compress_wall", "s"),
    "energy_per_inference_mj": ("energy_per_inference", "mJ"),
}
# The same job's reference, shown beside the submission's figure.
ROW_REFERENCE_FIGURES: dict[str, tuple[str, str]] = {
    "reference_energy_per_inference_mj": ("energy_per_inference", "mJ"),
}

# A row is flagged "smaller, not faster" when its footprint promises a speed-up that the
# measurement does not show: theoretical speed-up (dense / non-zero FLOPs) above
# FLAG_MIN_THEORETICAL_SPEEDUP and a measured speed-up below FLAG_MAX_REALISED_FRACTION of it.
# The usual cause: zeros that a dense kernel multiplies all the same (unstructured pruning).
FLAG_MIN_THEORETICAL_SPEEDUP = 1.5
FLAG_MAX_REALISED_FRACTION = 0.5
SMALLER_NOT_FASTER = "smaller_not_faster"

# energy_group: measured, estimated, declared, missing (the order an energy sort lists them in).
ENERGY_GROUPS = (Figure.Label.MEASURED, Figure.Label.ESTIMATED, Figure.Label.DECLARED, "missing")
ENERGY_MISSING = ENERGY_GROUPS.index("missing")

BATCH = 500


def speedup_falls_short(*, measured: float | None, theoretical: float | None) -> bool:
    """Whether a measured speed-up is far below the theoretical one (the flag rule above)."""
    if measured is None or theoretical is None:
        return False
    return theoretical > FLAG_MIN_THEORETICAL_SPEEDUP and measured < FLAG_MAX_REALISED_FRACTION * theoretical


def speedup_gap_words(
    *, measured: float | None, theoretical: float | None, ci_low: float | None = None
) -> tuple[str, str] | None:
    """(label, explanation) of an entry whose speed-up falls short of its footprint; None otherwise.

    The label never contradicts the measured figure: "smaller, not faster" only when the
    measurement does not show it faster than the reference (at most 1x, or an interval that
    reaches 1x); a faster entry is said to be faster, and how far short of the promise it is.
    """
    if not speedup_falls_short(measured=measured, theoretical=theoretical):
        return None
    assert measured is not None and theoretical is not None
    why = (
        "Zeros that a dense kernel still multiplies (unstructured sparsity), or operations a FLOP count "
        "leaves out, save storage and arithmetic on paper, not time."
    )
    if measured <= 1.0 or (ci_low is not None and ci_low <= 1.0):
        return (
            "smaller, not faster",
            f"Its non-zero FLOPs promise {theoretical:.2f}\u00d7, but serving it measured {measured:.2f}\u00d7: "
            f"the model is smaller, not measurably faster than the reference. {why}",
        )
    return (
        f"faster, but {measured / theoretical:.0%} of its theoretical speed-up",
        f"Serving it measured {measured:.2f}\u00d7 faster than the reference, while its non-zero FLOPs promise "
        f"{theoretical:.2f}\u00d7: it realises {measured / theoretical:.0%} of what its footprint promises. {why}",
    )


def pivot(
    figures: dict[tuple[str, str], Figure], subject: str, names: dict[str, tuple[str, str]]
) -> tuple[dict[str, float], dict[str, str]]:
    """(attribute -> value, attribute -> label) of `subject`'s figures named in `names`.

    A figure in another unit than the contract's is not comparable: it is left out.
    """
    values: dict[str, float] = {}
    labels: dict[str, str] = {}
    for attribute, (name, unit) in names.items():
        figure = figures.get((subject, name))
        if figure is not None and figure.unit == unit:
            values[attribute] = figure.value
            labels[attribute] = figure.label
    return values, labels


def accuracy_delta(figures: dict[tuple[str, str], Figure]) -> tuple[float | None, str | None]:
    """Submission accuracy - reference accuracy of the same job, and its label."""
    mine = figures.get((Figure.Subject.SUBMISSION, "accuracy"))
    reference = figures.get((Figure.Subject.REFERENCE, "accuracy"))
    if mine is None or reference is None or mine.unit != "fraction" or reference.unit != "fraction":
        return None, None
    measured = mine.label == reference.label == Figure.Label.MEASURED
    return mine.value - reference.value, Figure.Label.MEASURED if measured else Figure.Label.ESTIMATED


def energy_group(value: float | None, label: str | None) -> int:
    """The index in ENERGY_GROUPS of an energy figure with `label` (None: missing)."""
    if value is None:
        return ENERGY_MISSING
    # Anything not known to be measured or estimated is declared: it ranks with neither.
    if label in (Figure.Label.MEASURED, Figure.Label.ESTIMATED):
        return ENERGY_GROUPS.index(label)
    return ENERGY_GROUPS.index(Figure.Label.DECLARED)


def entry_for(result: Result, *, method: object, gpus: int) -> BoardEntry:
    """The board entry of a succeeded result (figures and audits prefetched)."""
    run = result.run
    figures = {(f.subject, f.name): f for f in result.figures.all()}
    values, labels = pivot(figures, Figure.Subject.SUBMISSION, ROW_FIGURES)
    reference_values, reference_labels = pivot(figures, Figure.Subject.REFERENCE, ROW_REFERENCE_FIGURES)
    values.update(reference_values)
    labels.update(reference_labels)
    delta, delta_label = accuracy_delta(figures)
    if delta is not None:
        values["accuracy_delta"] = delta
        labels["accuracy_delta"] = delta_label  # type: ignore[assignment]
    cost = search_cost_from(figures=figures.values(), gpus=gpus, method=method)
    flags = [note.name for note in result_flag_notes(flags=list(result.flags or []), figures={}, provenance={})]
    if speedup_falls_short(measured=values.get("speedup"), theoretical=values.get("theoretical_speedup")):
        flags.append(SMALLER_NOT_FASTER)
    if cost.has_declared or Figure.Label.DECLARED in labels.values():
        flags.append(Figure.Label.DECLARED)
    if Figure.Label.ESTIMATED in labels.values() or Figure.Label.ESTIMATED in cost.energy_labels:
        flags.append(Figure.Label.ESTIMATED)
    return BoardEntry(
        result=result,
        run=run,
        submission_id=run.submission_id,
        benchmark_id=run.submission.benchmark_id,
        hardware_class_id=run.hardware_class_id,
        division=run.submission.division,
        finished_at=run.finished_at,
        labels=labels,
        speedup_measured=values.get("speedup") is not None and labels.get("speedup") == Figure.Label.MEASURED,
        energy_group=energy_group(values.get("energy_per_inference_mj"), labels.get("energy_per_inference_mj")),
        meets_accuracy_floor=bool(result.meets_accuracy_floor),
        failed_audits=len(failed_audits(result.audits.all())),
        flag_names=" " + " ".join(flags) + " " if flags else " ",
        total_device_hours=cost.total_device_hours,
        total_kwh=cost.total_kwh,
        has_declared=cost.has_declared,
        gpus=gpus,
        published=run.submission.published,
        rank_speedup=values.get("speedup") if labels.get("speedup") == Figure.Label.MEASURED else None,
        **values,
    )


# The keys of a board's succeeded results without an entry, in id order, above a key: the
# check on every read of a board. Written out rather than built by the ORM: building it took
# longer (3 ms here) than PostgreSQL takes to plan and run it. Above the bound only: results
# get their ids when stored, so one without an entry is among the newest (RECHECK_IDS); the
# entries' side is bounded too, or PostgreSQL's anti-join reads every entry of every board
# from the first (a merge join starts at the index's start).
_BOUND_SQL = (
    "COALESCE((SELECT result_id FROM leaderboard_boardentry"
    " WHERE benchmark_id = %s AND hardware_class_id = %s ORDER BY result_id DESC LIMIT 1), 0) - %s"
)
_MISSING_KEYS_SQL = f"""
    SELECT r.id FROM submissions_result r
    JOIN submissions_run run ON run.id = r.run_id
    JOIN submissions_submission s ON s.id = run.submission_id
    WHERE run.state = %s AND run.hardware_class_id = %s AND s.benchmark_id = %s
      AND r.id > %s AND r.id > ({_BOUND_SQL})
      AND NOT EXISTS (
          SELECT 1 FROM leaderboard_boardentry e WHERE e.result_id = r.id AND e.result_id > ({_BOUND_SQL})
      )
    ORDER BY r.id LIMIT %s
"""


def _missing_keys(*, benchmark: Benchmark, hardware_class: HardwareClass, above: int) -> list[int]:
    """Up to BATCH keys of the board's succeeded results above `above` that have no entry."""
    bound = [benchmark.pk, hardware_class.pk, RECHECK_IDS]
    params = [Run.SUCCEEDED, hardware_class.pk, benchmark.pk, above, *bound, *bound, BATCH]
    with connection.cursor() as cursor:
        cursor.execute(_MISSING_KEYS_SQL, params)
        return [key for (key,) in cursor.fetchall()]


def _supersede(*, submission_ids: set[int], hardware_class: HardwareClass) -> None:
    """Mark the entries of these submissions that a newer run's entry replaces on the class's boards."""
    newer = BoardEntry.objects.filter(submission=OuterRef("submission"), hardware_class_id=hardware_class.pk).filter(
        Q(finished_at__gt=OuterRef("finished_at"))
        | Q(finished_at=OuterRef("finished_at"), run_id__gt=OuterRef("run_id"))
    )
    BoardEntry.objects.filter(
        submission_id__in=submission_ids, hardware_class_id=hardware_class.pk, superseded=False
    ).filter(Exists(newer)).update(superseded=True)


# Results get their ids when stored and are stored one transaction each: a result without an
# entry is one of the newest. Transactions may commit out of id order, so the check looks this
# many ids back from the newest entry, not only past it.
RECHECK_IDS = 1000


def entries_ensure(*, benchmark: Benchmark, hardware_class: HardwareClass) -> int:
    """Write the entries of the board's succeeded results that have none; how many were written.

    One small query when none is missing (_MISSING_KEYS_SQL): the results since the newest
    entry, less RECHECK_IDS. Two readers may write the same entry at once: the second insert
    is ignored (the entry is the same, read from the same rows).
    """
    written, above = 0, 0
    while True:
        keys = _missing_keys(benchmark=benchmark, hardware_class=hardware_class, above=above)
        if not keys:
            return written
        batch = list(
            Result.objects.filter(pk__in=keys)
            .select_related("run__submission")
            .defer("document", "provenance")
            .annotate(method_json=KeyTransform("method", "document"))
            .prefetch_related(
                Prefetch("figures", queryset=Figure.objects.all()),
                Prefetch("audits", queryset=Audit.objects.filter(verdict=Audit.Verdict.FAILED)),
            )
            .order_by("pk")
        )
        entries = [
            entry_for(
                result,
                method=method_with_declared_search(result.method_json, result.run.submission.declared_search),
                gpus=hardware_class.gpus,
            )
            for result in batch
        ]
        with transaction.atomic():
            # Locked while their entries are written: a concurrent publish, withdrawal or
            # invalidation waits, and its trigger then sees these entries (leaderboard/0002).
            submission_ids = {entry.submission_id for entry in entries}
            result_ids = [entry.result_id for entry in entries]
            published = dict(
                Submission.objects.select_for_update(no_key=True)
                .filter(pk__in=submission_ids)
                .values_list("pk", "published")
            )
            list(Result.objects.select_for_update().filter(pk__in=result_ids).values_list("pk", flat=True))
            invalidated = set(
                ResultInvalidation.objects.filter(result_id__in=result_ids).values_list("result_id", flat=True)
            )
            for entry in entries:
                entry.published = published[entry.submission_id]
                entry.invalidated = entry.result_id in invalidated
            BoardEntry.objects.bulk_create(entries, ignore_conflicts=True)
            _supersede(submission_ids={entry.submission_id for entry in entries}, hardware_class=hardware_class)
        written += len(entries)
        if len(keys) < BATCH:
            return written
        # Every result of the batch has its entry now (written or a concurrent reader's): the
        # next batch follows it.
        above = keys[-1]
