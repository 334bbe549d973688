"""The run page, its status and result.json, and the submit page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django_ratelimit.decorators import ratelimit

from benchmarks.models import Benchmark, HardwareClass
from core.downloads import json_download
from footprint.ratelimits import UPLOAD_GROUP, upload_rate
from footprint.storage import footprint_storage
from leaderboard.overview import boards_overview
from pages.forms import SubmitForm
from pages.presenters import run_budget, run_page, run_result_document, run_status
from papers.services import paper_submission_link
from submissions.models import Run
from submissions.quotas import QuotaExceeded, quota_precheck
from submissions.selectors import run_for_viewer, submission_can_edit
from submissions.services import submission_create
from submissions.uploads import store_submission_tarball, upload_max_bytes, upload_rejection, use_capped_upload_handler
from submissions.views import quota_refused


def home(request: HttpRequest) -> HttpResponse:
    benchmarks = list(Benchmark.objects.order_by("name"))
    hardware_classes = list(HardwareClass.objects.filter(active=True).order_by("name"))
    boards, latest = boards_overview(benchmarks=benchmarks, hardware_classes=hardware_classes)
    return render(
        request,
        "home.html",
        {"benchmarks": benchmarks, "hardware_classes": hardware_classes, "boards": boards, "latest": latest},
    )


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
    return JsonResponse(
        run_status(
            run=run,
            can_edit=submission_can_edit(request.user, run.submission),
            staff=getattr(request.user, "is_staff", False),
        )
    )


def run_result_json(request: HttpRequest, run_id: int) -> HttpResponse:
    """The stored result document and its budget block; visible to whoever sees the run page."""
    run = _visible_run(request, run_id)
    document = run_result_document(run=run, budget=run_budget(run=run))
    return json_download(document, filename=f"footprint-run-{run.pk}-result.json", indent=1)


def _discard_uploads(request: HttpRequest) -> None:
    # Closing a temporary upload deletes its file: a refused tarball leaves nothing behind.
    for uploaded in request.FILES.values():
        uploaded.close()


def _submit_page(request: HttpRequest, form: SubmitForm, *, status: int = 200) -> HttpResponse:
    return render(
        request, "submissions/submission_new.html", {"form": form, "max_bytes": upload_max_bytes()}, status=status
    )


@csrf_exempt
@login_required
@ratelimit(group=UPLOAD_GROUP, key="user", rate=upload_rate, method="POST", block=True)
def submission_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            # Before the body streams in: a full quota would refuse gigabytes at the end.
            quota_precheck(user=request.user)
        except QuotaExceeded as refusal:
            return quota_refused(request, refusal)
    # The capped handler must be in place before anything reads the body, and the CSRF
    # middleware reads it; so CSRF is checked inside, once the handler is set.
    use_capped_upload_handler(request)
    return _submission_new(request)


@csrf_protect
def _submission_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _submit_page(request, SubmitForm())
    form = SubmitForm(request.POST, request.FILES, upload_rejection=upload_rejection(request))
    if not form.is_valid():
        _discard_uploads(request)
        return _submit_page(request, form, status=400)
    assert form.image is not None  # set by a valid form's clean_tarball
    stored = store_submission_tarball(form.cleaned_data["tarball"])
    try:
        with transaction.atomic():
            submission = submission_create(
                owner=request.user,
                benchmark=form.cleaned_data["benchmark"],
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                division=form.cleaned_data["division"],
                tarball_path=stored.path_relative,
                tarball_sha256=stored.sha256,
                size_bytes=stored.size_bytes,
                image_id=form.image.image_id,
                hardware_classes=list(form.cleaned_data["hardware_classes"]) or None,
                declared_search=form.declared_search(),
            )
            if form.cleaned_data["paper"] is not None:
                paper_submission_link(paper=form.cleaned_data["paper"], submission=submission)
    except QuotaExceeded as refusal:
        footprint_storage().delete(stored.path_relative)
        return quota_refused(request, refusal)
    except Exception:
        # No row points to the file: remove it rather than leave an orphan in storage.
        footprint_storage().delete(stored.path_relative)
        raise
    runs = submission.runs.count()
    messages.success(
        request,
        f"Uploaded image {form.image.image_id[:19]}; {runs} run{'s' if runs != 1 else ''} queued."
        if runs
        else "Uploaded. No hardware class is active, so no run is queued yet.",
    )
    return redirect("submission-detail", submission_id=submission.pk)
