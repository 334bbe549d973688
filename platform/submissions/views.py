"""Pages of submissions: submission, raw latencies, runners; publish, cancel and re-run actions.

The run page, which shows a result with its budget, and the submit page, which links a
paper, are in pages.views."""

from __future__ import annotations

import itertools
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from benchmarks.selectors import runners_for_unknown_classes
from core.downloads import csv_download, json_download
from submissions.forms import PublishForm
from submissions.models import Run, Submission
from submissions.quotas import QuotaExceeded
from submissions.selectors import (
    LATENCY_COLUMNS,
    NoLatencySamples,
    latency_document,
    latency_rows,
    run_for_viewer,
    run_latency_samples,
    runner_overview,
    submission_can_edit,
    submission_can_view,
    submission_runs,
    submissions_of,
)
from submissions.services import run_cancel, run_rerun, submission_set_published
from submissions.state import IllegalTransition

log = logging.getLogger(__name__)


def _visible_submission(request: HttpRequest, submission_id: int) -> Submission:
    submission = get_object_or_404(Submission.objects.select_related("owner", "benchmark"), pk=submission_id)
    # Unpublished submissions are private: a 404, so that their existence is not revealed.
    if not submission_can_view(request.user, submission):
        raise Http404("no such submission")
    return submission


def submission_detail(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = _visible_submission(request, submission_id)
    runs = submission_runs(submission=submission)
    return render(
        request,
        "submissions/submission_detail.html",
        {
            "submission": submission,
            "runs": runs,
            "can_edit": submission_can_edit(request.user, submission),
        },
    )


@require_POST
@login_required
def submission_publish(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = _visible_submission(request, submission_id)
    if not submission_can_edit(request.user, submission):
        raise Http404("no such submission")
    form = PublishForm(request.POST)
    if form.is_valid():
        published = form.cleaned_data["published"]
        submission_set_published(submission=submission, published=published)
        messages.success(
            request,
            "Published: its results appear on the leaderboard." if published else "Withdrawn: only you can see it now.",
        )
    if request.POST.get("next") == "mine":
        return redirect("my-submissions")
    return redirect("submission-detail", submission_id=submission.pk)


@login_required
def my_submissions(request: HttpRequest) -> HttpResponse:
    return render(request, "submissions/my_submissions.html", {"submissions": submissions_of(owner=request.user)})


def _visible_run(request: HttpRequest, run_id: int) -> Run:
    run = run_for_viewer(run_id=run_id, viewer=request.user)
    if run is None:
        raise Http404("no such run")
    return run


def _no_latencies(request: HttpRequest, run: Run, reason: str) -> HttpResponse:
    return render(request, "submissions/latencies_missing.html", {"run": run, "reason": reason}, status=404)


def run_latencies_csv(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_run(request, run_id)
    try:
        series = run_latency_samples(run=run)
    except NoLatencySamples as exc:
        return _no_latencies(request, run, str(exc))
    # None (a repeat the result does not delimit) is written as an empty field by csv.
    rows = itertools.chain([LATENCY_COLUMNS], latency_rows(series=series))
    return csv_download(rows, filename=f"footprint-run-{run.pk}-latencies.csv")


def run_latencies_json(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_run(request, run_id)
    try:
        series = run_latency_samples(run=run)
    except NoLatencySamples as exc:
        return _no_latencies(request, run, str(exc))
    return json_download(latency_document(run=run, series=series), filename=f"footprint-run-{run.pk}-latencies.json")


@require_POST
@login_required
def run_cancel_view(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_run(request, run_id)
    if not submission_can_edit(request.user, run.submission):
        raise Http404("no such run")
    try:
        run_cancel(run=run, by=request.user)
    except IllegalTransition as exc:
        messages.error(request, f"The run was not cancelled: {exc}.")
    else:
        if run.cancel_requested_at is not None:
            messages.success(request, f"Run {run.pk} cancelled; its runner was told to stop it.")
        else:
            messages.success(request, f"Run {run.pk} cancelled.")
    next_url = request.POST.get("next")
    if next_url == "submission":
        return redirect("submission-detail", submission_id=run.submission_id)
    return redirect(reverse("run-detail", args=[run.pk]))


@require_POST
@login_required
def run_rerun_view(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_run(request, run_id)
    if not submission_can_edit(request.user, run.submission):
        raise Http404("no such run")
    if not run.is_terminal:
        messages.error(request, f"The run was not queued again: it is {run.state}; it can be once it has finished.")
        return redirect(reverse("run-detail", args=[run.pk]))
    try:
        again, created = run_rerun(run=run, by=request.user)
    except QuotaExceeded as refusal:
        return quota_refused(request, refusal)
    messages.success(
        request,
        f"Queued again as run {again.pk}." if created else f"Run {again.pk} of this class is already on its way.",
    )
    return redirect(reverse("run-detail", args=[again.pk]))


def quota_refused(request: HttpRequest, refusal: QuotaExceeded) -> HttpResponse:
    """A 429 page that says which quota refused, and when it frees (Retry-After)."""
    response = render(request, "submissions/quota_exceeded.html", {"refusal": refusal}, status=429)
    if refusal.retry_after_s is not None:
        response["Retry-After"] = str(refusal.retry_after_s)
    return response


def runners_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "submissions/runners.html",
        {
            "overview": runner_overview(viewer=request.user, queue_lengths=True),
            "unknown_class_runners": runners_for_unknown_classes(),
        },
    )
