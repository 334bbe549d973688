"""Whether a measurement reproduces what a paper claims (the rules of docs/claims.md).

A claim is compared with the latest succeeded run of its submission on its hardware
class; each claimed quantity with the submission's figure of that run:

| quantity          | claimed field               | figure (subject submission) | gap                         |
|-------------------|-----------------------------|-----------------------------|-----------------------------|
| accuracy          | `claimed_accuracy`          | `accuracy` (fraction)       | measured - claimed, absolute|
| speed-up          | `claimed_speedup`           | `speedup` (ratio)           | (measured - claimed) / claimed |
| compression ratio | `claimed_compression_ratio` | `compression_ratio` (ratio) | relative                    |
| size              | `claimed_size_bytes`        | `artifact_size` (bytes)     | relative                    |
| search energy     | `claimed_search_kwh`        | `compress_energy_net` (J, shown in kWh) | relative        |

A quantity is `reproduced` when its gap is within the tolerance; for accuracy, speed-up and
compression a result better than the claim is reproduced too (the claim is a lower bound
that the measurement meets); size and search energy are reproduced only within the
tolerance either way (they describe the artifact and the search: a far smaller file or a
far cheaper search is not the one the paper describes). Figures labelled `declared` (the
submission's own word) reproduce nothing: the quantity is `not measured`. Nor does a run
that is never ranked (a failed audit, or invalidated by an operator): its claim is pending,
saying why.

The functions that take rows never query; `paper_checks` reads everything for a list of
papers in five queries whatever their number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.db.models import OuterRef, Prefetch, Subquery

from benchmarks.models import Benchmark
from core.units import J_PER_KWH
from papers.models import (
    DEFAULT_ACCURACY_ABS,
    DEFAULT_COMPRESSION_RATIO_REL,
    DEFAULT_SEARCH_ENERGY_REL,
    DEFAULT_SIZE_REL,
    DEFAULT_SPEEDUP_REL,
    Claim,
    ClaimTolerance,
    Paper,
)
from submissions.models import Audit, Figure, Run
from submissions.selectors import submission_can_view
from submissions.standing import result_standing

# A gap exactly at the tolerance reproduces the claim; this absorbs the rounding of
# float arithmetic (0.975 - 0.98 is -0.0050000000000000044), nothing more.
EPSILON = 1e-9


class Status(models.TextChoices):
    """A quantity is reproduced, not reproduced or not measured; a claim and a paper are
    reproduced, partially reproduced, not reproduced or pending."""

    REPRODUCED = "reproduced", "reproduced"
    PARTIALLY_REPRODUCED = "partially reproduced", "partially reproduced"
    NOT_REPRODUCED = "not reproduced", "not reproduced"
    NOT_MEASURED = "not measured", "not measured"
    PENDING = "pending", "pending"


# The statuses of claims and papers, best first.
STATUSES = (Status.REPRODUCED, Status.PARTIALLY_REPRODUCED, Status.NOT_REPRODUCED, Status.PENDING)


@dataclass(frozen=True)
class Tolerances:
    accuracy_abs: float = DEFAULT_ACCURACY_ABS
    speedup_rel: float = DEFAULT_SPEEDUP_REL
    compression_ratio_rel: float = DEFAULT_COMPRESSION_RATIO_REL
    size_rel: float = DEFAULT_SIZE_REL
    search_energy_rel: float = DEFAULT_SEARCH_ENERGY_REL


DEFAULT_TOLERANCES = Tolerances()


@dataclass(frozen=True)
class Quantity:
    key: str
    title: str
    claim_field: str
    figure_name: str  # of the submission's figures
    figure_unit: str  # the unit the result document gives it in; another unit is not comparable
    scale: float  # figure value x scale = the claim's unit
    relative: bool  # gap as a fraction of the claim (else absolute, in the claim's unit)
    better_counts: bool  # a measurement beyond the claim in the good direction reproduces it
    tolerance_field: str  # of Tolerances


QUANTITIES: tuple[Quantity, ...] = (
    Quantity("accuracy", "Accuracy", "claimed_accuracy", "accuracy", "fraction", 1.0, False, True, "accuracy_abs"),
    Quantity("speedup", "Speed-up", "claimed_speedup", "speedup", "ratio", 1.0, True, True, "speedup_rel"),
    Quantity(
        "compression_ratio",
        "Compression ratio",
        "claimed_compression_ratio",
        "compression_ratio",
        "ratio",
        1.0,
        True,
        True,
        "compression_ratio_rel",
    ),
    Quantity("size", "Size on disk", "claimed_size_bytes", "artifact_size", "bytes", 1.0, True, False, "size_rel"),
    Quantity(
        "search_energy",
        "Search energy",
        "claimed_search_kwh",
        "compress_energy_net",
        "J",
        1 / J_PER_KWH,
        True,
        False,
        "search_energy_rel",
    ),
)
QUANTITY_BY_KEY = {quantity.key: quantity for quantity in QUANTITIES}


class FigureLike(Protocol):
    value: float
    unit: str
    label: str


@dataclass(frozen=True)
class QuantityCheck:
    quantity: Quantity
    claimed: float
    tolerance: float
    status: Status  # REPRODUCED, NOT_REPRODUCED or NOT_MEASURED
    measured: float | None = None  # in the claim's unit (kWh for search energy)
    label: str | None = None  # of the figure: measured, estimated (declared ones are not compared)
    # measured - claimed: absolute for accuracy (a fraction: 0.004 = 0.4 points), else a
    # fraction of the claim (0.05 = 5 % more than claimed). None when not measured, or
    # when the claim is 0 and a relative gap has no meaning.
    gap: float | None = None
    note: str = ""


@dataclass
class ClaimCheck:
    claim: Claim
    status: Status
    # Why the claim is pending, in words a reader can act on; "" otherwise.
    reason: str = ""
    # The run the measured figures come from; None unless the viewer may see it.
    run: Run | None = None
    quantities: list[QuantityCheck] = field(default_factory=list)


@dataclass
class PaperCheck:
    paper: Paper
    status: Status
    claims: list[ClaimCheck] = field(default_factory=list)

    @property
    def status_counts(self) -> list[tuple[str, int]]:
        """(status, number of claims) for each status some claim has, in STATUSES order."""
        counts = [(status, sum(1 for c in self.claims if c.status == status)) for status in STATUSES]
        return [(status, n) for status, n in counts if n]


def tolerances_for(*, benchmark: Benchmark) -> Tolerances:
    """The benchmark's ClaimTolerance, or the defaults when it has none."""
    try:
        row = benchmark.claim_tolerance
    except ClaimTolerance.DoesNotExist:
        return DEFAULT_TOLERANCES
    return Tolerances(
        accuracy_abs=row.accuracy_abs,
        speedup_rel=row.speedup_rel,
        compression_ratio_rel=row.compression_ratio_rel,
        size_rel=row.size_rel,
        search_energy_rel=row.search_energy_rel,
    )


def quantity_check(
    *, quantity: Quantity, claimed: float, figure: FigureLike | None, tolerances: Tolerances
) -> QuantityCheck:
    """One claimed quantity against the run's figure (None: the run has no such figure)."""
    tolerance = getattr(tolerances, quantity.tolerance_field)
    claimed = float(claimed)

    def not_measured(note: str) -> QuantityCheck:
        return QuantityCheck(
            quantity=quantity, claimed=claimed, tolerance=tolerance, status=Status.NOT_MEASURED, note=note
        )

    if figure is None:
        return not_measured("the run has no such figure")
    if figure.unit != quantity.figure_unit:
        return not_measured(f"the run gives it in {figure.unit}, not {quantity.figure_unit}")
    if figure.label == Figure.Label.DECLARED:
        # The submission's own word for it: comparing it with the paper's proves nothing.
        return not_measured("the submission declared it; a declared figure does not reproduce a claim")

    measured = figure.value * quantity.scale
    if not quantity.relative:
        gap: float | None = measured - claimed
    elif claimed != 0:
        gap = (measured - claimed) / claimed
    else:
        gap = None

    if gap is None:
        # A claim of exactly 0 (only search energy may be 0): reproduced only by a 0.
        reproduced = measured == 0
    elif quantity.better_counts:
        reproduced = gap >= -tolerance - EPSILON
    else:
        reproduced = abs(gap) <= tolerance + EPSILON
    return QuantityCheck(
        quantity=quantity,
        claimed=claimed,
        tolerance=tolerance,
        status=Status.REPRODUCED if reproduced else Status.NOT_REPRODUCED,
        measured=measured,
        label=figure.label,
        gap=gap,
    )


def claim_status(*, quantity_statuses: Sequence[str]) -> Status:
    """A claim's status from its quantities' (pending when none was measured)."""
    measured = [status for status in quantity_statuses if status != Status.NOT_MEASURED]
    if not measured:
        return Status.PENDING
    if all(status == Status.REPRODUCED for status in measured):
        return Status.REPRODUCED
    if all(status == Status.NOT_REPRODUCED for status in measured):
        return Status.NOT_REPRODUCED
    return Status.PARTIALLY_REPRODUCED


def paper_status(*, claim_statuses: Sequence[str]) -> Status:
    """A paper's status from its claims'.

    pending: no claim, or every claim pending; reproduced: every claim reproduced;
    not reproduced: every claim that is not pending is not reproduced; otherwise
    partially reproduced (a reproduced claim next to a pending one included).
    """
    settled = [status for status in claim_statuses if status != Status.PENDING]
    if not settled:
        return Status.PENDING
    if len(settled) == len(claim_statuses) and all(status == Status.REPRODUCED for status in settled):
        return Status.REPRODUCED
    if all(status == Status.NOT_REPRODUCED for status in settled):
        return Status.NOT_REPRODUCED
    return Status.PARTIALLY_REPRODUCED


def claim_check(*, claim: Claim, run: Run | None, tolerances: Tolerances) -> ClaimCheck:
    """A claim against `run` (the latest succeeded run of its submission on its class).

    `run` must come with its result and figures loaded (prefetched): nothing is queried.
    """
    if run is None:
        return ClaimCheck(
            claim=claim,
            status=Status.PENDING,
            reason=f"no succeeded run of its submission on {claim.hardware_class.name} yet",
        )
    standing = result_standing(result=run.result, speedup_measured=True)
    if standing.withheld:
        # Figures from a job whose audit failed, or that an operator invalidated, prove nothing.
        return ClaimCheck(
            claim=claim, status=Status.PENDING, reason=f"run {run.pk} is never ranked: {standing.reason}", run=run
        )
    figures = {(f.subject, f.name): f for f in run.result.figures.all()}
    quantities = []
    for quantity in QUANTITIES:
        claimed = getattr(claim, quantity.claim_field)
        if claimed is None:
            continue
        figure = figures.get((Figure.Subject.SUBMISSION, quantity.figure_name))
        quantities.append(quantity_check(quantity=quantity, claimed=claimed, figure=figure, tolerances=tolerances))
    status = claim_status(quantity_statuses=[q.status for q in quantities])
    reason = f"run {run.pk} measured none of the claimed figures" if status == Status.PENDING else ""
    return ClaimCheck(claim=claim, status=status, reason=reason, run=run, quantities=quantities)


def latest_succeeded_runs(*, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Run]:
    """(submission id, hardware class id) -> its latest succeeded run with a result.

    Three queries: the runs (one per pair, with result and invalidation), their figures and
    their audits. "Latest" is the leaderboard's: by finish time, then id.
    """
    pairs = set(pairs)
    if not pairs:
        return {}
    latest = (
        Run.objects.filter(
            submission=OuterRef("submission"),
            hardware_class=OuterRef("hardware_class"),
            state=Run.SUCCEEDED,
            result__isnull=False,
        )
        .order_by("-finished_at", "-id")
        .values("id")[:1]
    )
    runs = (
        Run.objects.filter(
            submission_id__in={s for s, _ in pairs},
            hardware_class_id__in={h for _, h in pairs},
            state=Run.SUCCEEDED,
            result__isnull=False,
            id=Subquery(latest),
        )
        .select_related("result__invalidation", "hardware_class")
        .prefetch_related(
            Prefetch("result__figures", queryset=Figure.objects.all()),
            Prefetch("result__audits", queryset=Audit.objects.order_by("id")),
        )
    )
    found = {(run.submission_id, run.hardware_class_id): run for run in runs}
    return {pair: run for pair, run in found.items() if pair in pairs}


def paper_checks(*, papers: Sequence[Paper], viewer: AbstractBaseUser | AnonymousUser) -> list[PaperCheck]:
    """Each paper's claims checked, as `viewer` may see them.

    A claim whose submission `viewer` may not see (unpublished, not theirs) is pending
    for them, with the same words as a claim without a submission: neither the private
    figures nor the private submission's existence reach them.
    """
    papers = list(papers)
    if not papers:
        return []
    claims = list(
        Claim.objects.filter(paper__in=papers)
        .select_related("benchmark__claim_tolerance", "hardware_class", "submission")
        .order_by("paper_id", "id")
    )
    linked = set(Paper.submissions.through.objects.filter(paper__in=papers).values_list("paper_id", "submission_id"))
    measurable: list[Claim] = []
    checks: dict[int, ClaimCheck] = {}
    for claim in claims:
        submission = claim.submission
        if submission is None or not submission_can_view(viewer, submission):
            checks[claim.pk] = ClaimCheck(claim=claim, status=Status.PENDING, reason="no submission measures it yet")
        elif (claim.paper_id, submission.pk) not in linked:
            checks[claim.pk] = ClaimCheck(
                claim=claim,
                status=Status.PENDING,
                reason=f"its submission {submission.name!r} is not linked to the paper",
            )
        elif submission.benchmark_id != claim.benchmark_id:
            checks[claim.pk] = ClaimCheck(
                claim=claim,
                status=Status.PENDING,
                reason=f"its submission {submission.name!r} was made to another benchmark",
            )
        else:
            measurable.append(claim)
    runs = latest_succeeded_runs(pairs={(c.submission_id, c.hardware_class_id) for c in measurable})
    for claim in measurable:
        checks[claim.pk] = claim_check(
            claim=claim,
            run=runs.get((claim.submission_id, claim.hardware_class_id)),
            tolerances=tolerances_for(benchmark=claim.benchmark),
        )

    by_paper: dict[int, list[ClaimCheck]] = {paper.pk: [] for paper in papers}
    for claim in claims:
        by_paper[claim.paper_id].append(checks[claim.pk])
    return [
        PaperCheck(
            paper=paper,
            status=paper_status(claim_statuses=[c.status for c in by_paper[paper.pk]]),
            claims=by_paper[paper.pk],
        )
        for paper in papers
    ]


def paper_check(*, paper: Paper, viewer: AbstractBaseUser | AnonymousUser) -> PaperCheck:
    return paper_checks(papers=[paper], viewer=viewer)[0]
