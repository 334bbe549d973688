"""Whether a result may rank, and in words why not (docs/measurement.md, "Audits").

In order: a result an operator invalidated, or one with a failed audit, is never ranked
whatever its figures; one under the accuracy floor is listed apart; one whose speed-up is
not measured (estimated or declared) is listed without a rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import models

from core.formatting import figure_value, percent
from submissions.audits import audit_title, failed_audits
from submissions.models import Audit, Result, ResultInvalidation


class Standing(models.TextChoices):
    RANKED = "ranked", "ranked"
    SPEEDUP_NOT_MEASURED = "speedup_not_measured", "its speed-up is not measured"
    UNDER_ACCURACY_FLOOR = "under_accuracy_floor", "under the accuracy floor"
    AUDIT_FAILED = "audit_failed", "an audit failed"
    INVALIDATED = "invalidated", "invalidated by an operator"


# Never ranked, whatever the figures say.
WITHHELD = frozenset({Standing.AUDIT_FAILED, Standing.INVALIDATED})


@dataclass(frozen=True)
class ResultStanding:
    standing: Standing
    reason: str  # why it has no rank, in words; "" when ranked
    failed_audits: tuple[Audit, ...]
    invalidation: ResultInvalidation | None

    @property
    def withheld(self) -> bool:
        return self.standing in WITHHELD


def audit_failure_text(audit: Audit) -> str:
    """A failed audit with its figure and its sentence: what a reader sees beside the entry."""
    figure = ""
    if audit.figure:
        shown = figure_value(audit.value, audit.unit)
        threshold = "" if audit.threshold is None else f", threshold {figure_value(audit.threshold, audit.unit)}"
        figure = f" ({audit.figure} {shown}{threshold})"
    return f"audit {audit.name}, {audit_title(audit.name)}, failed{figure}: {audit.sentence}"


def result_invalidation(result: Result) -> ResultInvalidation | None:
    try:
        return result.invalidation
    except ResultInvalidation.DoesNotExist:
        return None


def result_standing(
    *,
    result: Result,
    speedup_measured: bool,
    accuracy_floor_fraction: float | None = None,
    audits: Sequence[Audit] | None = None,
) -> ResultStanding:
    """The standing of a stored result. Reads `result.invalidation` (select it for many
    results) and `audits`, or else `result.audits` (prefetch them for many results)."""
    failed = tuple(failed_audits(result.audits.all() if audits is None else audits))
    invalidation = result_invalidation(result)
    if invalidation is not None:
        standing = Standing.INVALIDATED
        reason = f"invalidated by an operator on {invalidation.at:%Y-%m-%d}: {invalidation.reason}"
    elif failed:
        standing = Standing.AUDIT_FAILED
        reason = "; ".join(audit_failure_text(audit) for audit in failed)
    elif not result.meets_accuracy_floor:
        standing = Standing.UNDER_ACCURACY_FLOOR
        floor = "the accuracy floor"
        if accuracy_floor_fraction is not None:
            floor += f" ({percent(accuracy_floor_fraction, 0)} of the reference's accuracy in the same job)"
        reason = f"its accuracy is under {floor}"
    elif not speedup_measured:
        standing = Standing.SPEEDUP_NOT_MEASURED
        reason = "its speed-up is not measured (estimated or declared), and only measured speed-ups are ranked"
    else:
        standing, reason = Standing.RANKED, ""
    return ResultStanding(standing=standing, reason=reason, failed_audits=failed, invalidation=invalidation)
