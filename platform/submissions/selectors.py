"""Reads of the submissions app, and the one place that decides who may see or edit what."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet

from submissions.models import Figure, Result, Run, RunTransition, Submission


def submission_can_edit(user: AbstractBaseUser | AnonymousUser, submission: Submission) -> bool:
    """Whether `user` may change, publish, re-run or cancel runs of `submission`.

    The owner for now; when teams arrive, members of the submission's team too.
    """
    return bool(user.is_authenticated and (user.pk == submission.owner_id or user.is_superuser))


def submission_can_view(user: AbstractBaseUser | AnonymousUser, submission: Submission) -> bool:
    """Published submissions are public; the others only to those who may edit them."""
    return submission.published or submission_can_edit(user, submission)


def submissions_visible_to(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Submission]:
    """The submissions `user` may see, as a queryset (list views filter with it)."""
    queryset = Submission.objects.select_related("owner", "benchmark")
    if user.is_authenticated and user.is_superuser:
        return queryset
    if user.is_authenticated:
        return queryset.filter(Q(published=True) | Q(owner_id=user.pk))
    return queryset.filter(published=True)


def submission_runs(*, submission: Submission) -> list[Run]:
    """The runs of a submission, newest first, with class, result and figures (3 queries)."""
    return list(
        submission.runs.select_related("hardware_class", "result").prefetch_related(
            Prefetch("result__figures", queryset=Figure.objects.order_by("subject", "name"))
        )
    )


def run_detail(*, run_id: int) -> Run | None:
    """A run with everything its page shows: submission, class, transitions, result, figures."""
    return (
        Run.objects.select_related("submission__owner", "submission__benchmark", "hardware_class")
        .prefetch_related(
            Prefetch("transitions", queryset=RunTransition.objects.order_by("at", "id")),
        )
        .filter(pk=run_id)
        .first()
    )


def run_result_figures(*, run: Run) -> list[Figure]:
    """The figures of a run's result (empty while it has none)."""
    try:
        result = run.result
    except Result.DoesNotExist:
        return []
    return list(result.figures.order_by("subject", "name"))
