"""Reads of the API. Every queryset here is filtered for the viewer before anything else:
another user's private submissions, their runs, logs and results are in no list and no
detail (a private object answers 404, as if it did not exist)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F, FilteredRelation, Prefetch, Q, QuerySet
from django.db.models.fields.json import KeyTransform

from api.models import ApiToken
from benchmarks.models import Benchmark
from budgets.selectors import result_budgets, track_from_slug, tracks_for_benchmark
from papers.models import Paper
from submissions.models import Audit, Figure, Result, Run, RunTransition, Submission
from submissions.quotas import active_runs, charged_submissions, quota_limits
from submissions.selectors import submissions_visible_to
from submissions.standing import ResultStanding, result_standing

Viewer = AbstractBaseUser | AnonymousUser


def _visible_submission_q(viewer: Viewer, prefix: str) -> Q:
    if viewer.is_authenticated and viewer.is_superuser:
        return Q()
    published = Q(**{f"{prefix}published": True})
    if viewer.is_authenticated:
        return published | Q(**{f"{prefix}owner_id": viewer.pk})
    return published


def api_submissions(*, viewer: Viewer) -> QuerySet[Submission]:
    return submissions_visible_to(user=viewer).prefetch_related(
        Prefetch("runs", queryset=Run.objects.select_related("hardware_class").order_by("id")), "papers"
    )


def api_runs(*, viewer: Viewer) -> QuerySet[Run]:
    """Runs with their transitions and only the `phases` of their result document (the rest of
    it, with its raw latencies, stays in the database: a page of runs reads none of it)."""
    return (
        Run.objects.filter(_visible_submission_q(viewer, "submission__"))
        .select_related("submission__benchmark", "submission__owner", "hardware_class")
        .annotate(result_id=F("result__id"), result_phases=KeyTransform("phases", "result__document"))
        .prefetch_related(Prefetch("transitions", queryset=RunTransition.objects.order_by("at", "id")))
        .defer("logs")
        .order_by("-id")
    )


def api_results(*, viewer: Viewer) -> QuerySet[Result]:
    """Results of finished runs the viewer may see, with what a page of them shows (5 queries)."""
    return (
        Result.objects.filter(_visible_submission_q(viewer, "run__submission__"))
        .select_related("run__submission__owner", "run__submission__benchmark", "run__hardware_class", "invalidation")
        .prefetch_related(
            Prefetch("figures", queryset=Figure.objects.order_by("subject", "name")),
            Prefetch("audits", queryset=Audit.objects.order_by("id")),
        )
        .defer("document", "provenance")
    )


def results_ordered_by_figure(results: QuerySet[Result], *, order: str) -> QuerySet[Result]:
    """Results ordered by one figure: `[-][subject.]name` (subject defaults to submission).

    Results without the figure come last whichever the direction; ties keep id order, so
    that pages do not overlap or skip.
    """
    descending = order.startswith("-")
    subject, _, name = order.lstrip("-").rpartition(".")
    # One LEFT JOIN on the figure (unique per result, subject and name), not a subquery per row.
    figure = FilteredRelation(
        "figures", condition=Q(figures__subject=subject or Figure.Subject.SUBMISSION, figures__name=name)
    )
    expression = F("_order_value").desc(nulls_last=True) if descending else F("_order_value").asc(nulls_last=True)
    return (
        results.annotate(_order_figure=figure)
        .annotate(_order_value=F("_order_figure__value"))
        .order_by(expression, "id")
    )


def results_in_track(results: QuerySet[Result], *, benchmark: Benchmark, track_slug: str) -> QuerySet[Result] | None:
    """The results whose totals fit the benchmark's track (None: no such track), as the
    track's leaderboard keeps them (budgets.selectors)."""
    tracks = tracks_for_benchmark(benchmark=benchmark)
    track = track_from_slug(tracks=tracks, slug=track_slug)
    if track is None:
        return None
    candidates = list(
        Result.objects.filter(pk__in=results.values("pk")).select_related("run__hardware_class").defer("provenance")
    )
    budgets = result_budgets(results=candidates, tracks=tracks)
    return results.filter(pk__in=[pk for pk, budget in budgets.items() if budget.fits(track)])


def result_standings(*, results: Sequence[Result]) -> dict[int, ResultStanding]:
    """Where each result stands (ranked, or why not), from prefetched figures and audits."""
    standings = {}
    for result in results:
        speedup = next(
            (f for f in result.figures.all() if (f.subject, f.name) == (Figure.Subject.SUBMISSION, "speedup")), None
        )
        standings[result.pk] = result_standing(
            result=result,
            speedup_measured=speedup is not None and speedup.label == Figure.Label.MEASURED,
            accuracy_floor_fraction=result.run.submission.benchmark.accuracy_floor_fraction,
        )
    return standings


def visible_submission_ids(*, viewer: Viewer, ids: Sequence[int]) -> set[int]:
    return set(submissions_visible_to(user=viewer).filter(pk__in=ids).values_list("pk", flat=True))


def api_papers() -> QuerySet[Paper]:
    return Paper.objects.select_related("owner").prefetch_related("submissions").order_by("slug")


def api_tokens(*, user: AbstractBaseUser) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created", "-id")


def user_quotas(*, user: AbstractBaseUser) -> dict[str, Any]:
    """The user's limits over all benchmarks and what they use of them now."""
    from datetime import timedelta

    from django.utils import timezone

    limits = quota_limits(user=user, benchmark=None)
    return {
        "submissions_per_day": {
            "limit": limits.submissions_per_day,
            "used": charged_submissions(user=user, since=timezone.now() - timedelta(days=1)).count(),
        },
        "active_runs": {"limit": limits.active_runs, "used": active_runs(user=user).count()},
    }
