"""The leaderboard page of one benchmark on one hardware class, one board per budget
track, narrowed by the filters in its URL, and its CSV and JSON exports of the same view."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from benchmarks.models import Benchmark, HardwareClass
from core.downloads import csv_download, json_download
from leaderboard.board_page import board_page
from leaderboard.exports import csv_rows, export_document
from leaderboard.selectors import TrackBoard, UnknownTrack, track_limits_text
from leaderboard.views_query import board_query, board_view


def _unknown_track_page(
    request: HttpRequest, benchmark: Benchmark, hardware_class: HardwareClass, error: UnknownTrack
) -> HttpResponse:
    return render(
        request,
        "leaderboard/unknown_track.html",
        {
            "benchmark": benchmark,
            "hardware_class": hardware_class,
            "slug": error.slug,
            "tracks": [(track, track_limits_text(track)) for track in error.tracks],
        },
        status=404,
    )


def leaderboard(request: HttpRequest, benchmark_slug: str, hardware_class_name: str) -> HttpResponse:
    benchmark = get_object_or_404(Benchmark, slug=benchmark_slug)
    hardware_class = get_object_or_404(HardwareClass, name=hardware_class_name)
    other_class = request.GET.get("hardware_class")
    if other_class and other_class != hardware_class.name:
        # The filter form names the class as a field; the class is part of the path.
        target = get_object_or_404(HardwareClass, name=other_class)
        params = request.GET.copy()
        params.pop("hardware_class", None)
        params.pop("page", None)
        suffix = f"?{params.urlencode()}" if params else ""
        return redirect(reverse("leaderboard", args=[benchmark.slug, target.name]) + suffix)
    query, form, page_size = board_query(request.GET, benchmark, hardware_class)
    page = board_page(
        request, benchmark=benchmark, hardware_class=hardware_class, query=query, form=form, page_size=page_size
    )
    if isinstance(page, UnknownTrack):
        return _unknown_track_page(request, benchmark, hardware_class, page)
    return render(request, "leaderboard/leaderboard.html", {"page": page})


def _export_filename(tracked: TrackBoard, extension: str) -> str:
    board = tracked.board
    track = tracked.track.slug if tracked.track is not None else "all"
    # Slugs only (benchmark, class and track slugs are [a-z0-9-]): safe in the header as they are.
    return f"footprint-{board.benchmark.slug}-{board.hardware_class.name}-{track}-leaderboard.{extension}"


def leaderboard_csv(request: HttpRequest, benchmark_slug: str, hardware_class_name: str) -> HttpResponse:
    """The view as CSV: every entry of the page's view (same filters, track and sort, all
    pages), one line each, streamed a few hundred rows at a time."""
    benchmark = get_object_or_404(Benchmark, slug=benchmark_slug)
    hardware_class = get_object_or_404(HardwareClass, name=hardware_class_name)
    tracked, query, _ = board_view(request.GET, benchmark, hardware_class, page=False)
    if isinstance(tracked, UnknownTrack):
        return HttpResponse(f"{tracked}\n", status=404, content_type="text/plain; charset=utf-8")
    return csv_download(csv_rows(tracked=tracked, query=query), filename=_export_filename(tracked, "csv"))


def leaderboard_json(request: HttpRequest, benchmark_slug: str, hardware_class_name: str) -> HttpResponse:
    """The view as JSON: the same entries, figures with labels, search cost parts apart."""
    benchmark = get_object_or_404(Benchmark, slug=benchmark_slug)
    hardware_class = get_object_or_404(HardwareClass, name=hardware_class_name)
    tracked, query, _ = board_view(request.GET, benchmark, hardware_class, page=False)
    if isinstance(tracked, UnknownTrack):
        return JsonResponse(
            {"error": str(tracked), "tracks": [t.slug for t in tracked.tracks]},
            status=404,
        )
    document = export_document(tracked=tracked, query=query)
    return json_download(document, filename=_export_filename(tracked, "json"), indent=1)
