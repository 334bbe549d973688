"""Where a result stands: invalidated or a failed audit is never ranked, then the floor, then the speed-up label."""

from __future__ import annotations

import pytest

from submissions.models import Result
from submissions.services import ResultAlreadyInvalidated, result_invalidate
from submissions.standing import Standing, result_standing
from tests.factories.documents import audit, failed_timed_predictions

pytestmark = pytest.mark.django_db


def _standing(result: Result, *, speedup_measured: bool = True):
    result = Result.objects.select_related("invalidation").prefetch_related("audits").get(pk=result.pk)
    return result_standing(result=result, speedup_measured=speedup_measured, accuracy_floor_fraction=0.98)


def test_a_result_with_passed_or_not_run_audits_is_ranked(add_entry):
    result = add_entry(audits=[audit("timed_predictions", "passed"), audit("offline_predictions", "not_run")]).result
    standing = _standing(result)
    assert (standing.standing, standing.reason, standing.withheld) == (Standing.RANKED, "", False)


def test_a_failed_audit_withholds_the_result_and_says_which_with_its_figure_and_sentence(add_entry):
    standing = _standing(add_entry(audits=[failed_timed_predictions(rate=0.9)]).result)
    assert standing.standing == Standing.AUDIT_FAILED and standing.withheld
    assert standing.reason == (
        "audit timed_predictions, timed replies against the accuracy pass, failed (prediction_mismatch_rate "
        "90.00 %, threshold 0.10 %): 90% of the timed replies differ from the accuracy pass's predictions "
        "for the same inputs."
    )


def test_a_failed_audit_is_the_reason_even_under_the_accuracy_floor(add_entry):
    result = add_entry(meets_accuracy_floor=False, audits=[failed_timed_predictions()]).result
    assert _standing(result).standing == Standing.AUDIT_FAILED


def test_an_invalidation_is_the_reason_before_any_audit(add_entry, owner):
    result = add_entry(audits=[failed_timed_predictions()]).result
    result_invalidate(result=result, by=owner, reason="the image reads the test labels from a layer")
    standing = _standing(result)
    assert standing.standing == Standing.INVALIDATED
    assert standing.reason.startswith("invalidated by an operator on ")
    assert standing.reason.endswith(": the image reads the test labels from a layer")
    assert len(standing.failed_audits) == 1  # the evidence is still there


def test_under_the_floor_and_unmeasured_speedups_are_listed_without_a_rank(add_entry):
    under = _standing(add_entry(meets_accuracy_floor=False).result)
    assert (under.standing, under.withheld) == (Standing.UNDER_ACCURACY_FLOOR, False)
    assert "under the accuracy floor (98 % of the reference's accuracy in the same job)" in under.reason
    unmeasured = _standing(add_entry().result, speedup_measured=False)
    assert unmeasured.standing == Standing.SPEEDUP_NOT_MEASURED


def test_an_invalidation_records_who_when_and_why_and_deletes_nothing(add_entry, owner):
    result = add_entry().result
    figures = result.figures.count()
    invalidation = result_invalidate(result=result, by=owner, reason="  replies precomputed from task.json  ")
    assert (invalidation.by, invalidation.reason) == (owner, "replies precomputed from task.json")
    assert invalidation.at is not None
    assert Result.objects.filter(pk=result.pk).exists() and result.figures.count() == figures


def test_an_invalidation_needs_a_reason(add_entry, owner):
    with pytest.raises(ValueError, match="give the reason"):
        result_invalidate(result=add_entry().result, by=owner, reason="   ")


def test_a_result_is_invalidated_once_and_the_first_decision_stands(add_entry, owner, stranger):
    result = add_entry().result
    result_invalidate(result=result, by=owner, reason="first")
    with pytest.raises(ResultAlreadyInvalidated, match="already invalidated on .*: first"):
        result_invalidate(result=result, by=stranger, reason="second")
    assert result.invalidation.reason == "first" and result.invalidation.by == owner
