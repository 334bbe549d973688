"""The run page and the run's result.json."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from core.downloads import json_download
from pages.presenters import run_budget, run_page, run_result_document, run_status
from submissions.models import Run
from submissions.selectors import run_for_viewer, submission_can_edit


def _visible_run(request: HttpRequest, run_id: int) -> Run:
    run = run_for_viewer(run_id=run_id, viewer=request.user)
    if run is None:
        raise Http404("no such run")
    return run


def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_run(request, run_id)
    return render(
        request,
        "pages/run_detail.html",
        {
            "page": run_page(run=run),
            "run": run,
            "submission": run.submission,
            "can_edit": submission_can_edit(request.user, run.submission),
            "papers": list(run.submission.papers.all()),
        },
    )


@never_cache
def run_status_json(request: HttpRequest, run_id: int) -> JsonResponse:
    """What the run page polls while the run is not finished: state, phase, times, logs."""
    run = _visible_run(request, run_id)
    return JsonResponse(run_status(run=run, can_edit=submission_can_edit(request.user, run.submission)))


def run_result_json(request: HttpRequest, run_id: int) -> HttpResponse:
    """The stored result document and its budget block; visible to whoever sees the run page."""
    run = _visible_run(request, run_id)
    document = run_result_document(run=run, budget=run_budget(run=run))
    return json_download(document, filename=f"footprint-run-{run.pk}-result.json", indent=1)
