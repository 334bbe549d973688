"""The leaderboard page of one benchmark on one hardware class, one board per budget
track, and its CSV and JSON exports."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from benchmarks.models import Benchmark, HardwareClass
from core.downloads import csv_download, json_download
from leaderboard.exports import csv_rows, export_document, export_entries
from leaderboard.presenters import board_query, column_headers, track_tabs
from leaderboard.selectors import (
    DEFAULT_SORT,
    TrackBoard,
    UnknownTrack,
    leaderboard_track_board,
    track_limits_text,
)
from submissions.models import Run


def _board_or_unknown_track(
    request: HttpRequest, benchmark: Benchmark, hardware_class: HardwareClass
) -> TrackBoard | UnknownTrack:
    try:
        return leaderboard_track_board(
            benchmark=benchmark,
            hardware_class=hardware_class,
            sort=request.GET.get("sort"),
            track_slug=request.GET.get("track"),
        )
    except UnknownTrack as exc:
        return exc


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
    tracked = _board_or_unknown_track(request, benchmark, hardware_class)
    if isinstance(tracked, UnknownTrack):
        return _unknown_track_page(request, benchmark, hardware_class, tracked)
    board = tracked.board
    pending_runs = 0
    if board.is_empty and not tracked.entries_total:
        # Only for the empty state: say whether results are on their way.
        pending_runs = Run.objects.filter(
            submission__benchmark=benchmark,
            hardware_class=hardware_class,
            state__in=Run.ACTIVE_STATES,
        ).count()
    export_query = board_query(track_slug=tracked.track_slug, sort=board.sort)
    track_query = urlencode({"track": tracked.track_slug}) if tracked.track_slug else ""
    return render(
        request,
        "leaderboard/leaderboard.html",
        {
            "board": board,
            "tracked": tracked,
            "track_tabs": track_tabs(tracked=tracked, sort=board.sort),
            "track_limits": track_limits_text(tracked.track) if tracked.track is not None else "",
            # Appended to the column headers' ?sort= links, so that sorting keeps the board.
            "track_query": f"&{track_query}" if track_query else "",
            "csv_url": reverse("leaderboard-csv", args=[benchmark.slug, hardware_class.name]) + export_query,
            "json_url": reverse("leaderboard-json", args=[benchmark.slug, hardware_class.name]) + export_query,
            "benchmark": benchmark,
            "hardware_class": hardware_class,
            "headers": column_headers(active_sort=board.sort),
            "rank_active": board.sort == DEFAULT_SORT,
            "pending_runs": pending_runs,
            "other_classes": HardwareClass.objects.filter(active=True).exclude(pk=hardware_class.pk),
        },
    )


def _export_filename(tracked: TrackBoard, extension: str) -> str:
    board = tracked.board
    track = tracked.track.slug if tracked.track is not None else "all"
    # Slugs only (benchmark, class and track slugs are [a-z0-9-]): safe in the header as they are.
    return f"footprint-{board.benchmark.slug}-{board.hardware_class.name}-{track}-leaderboard.{extension}"


def leaderboard_csv(request: HttpRequest, benchmark_slug: str, hardware_class_name: str) -> HttpResponse:
    """The board as CSV: the page's entries (same track and sort), one line each."""
    benchmark = get_object_or_404(Benchmark, slug=benchmark_slug)
    hardware_class = get_object_or_404(HardwareClass, name=hardware_class_name)
    tracked = _board_or_unknown_track(request, benchmark, hardware_class)
    if isinstance(tracked, UnknownTrack):
        return HttpResponse(f"{tracked}\n", status=404, content_type="text/plain; charset=utf-8")
    # Built before streaming: every query runs here, inside the request's error handling.
    entries = export_entries(tracked=tracked)
    return csv_download(csv_rows(entries=entries), filename=_export_filename(tracked, "csv"))


def leaderboard_json(request: HttpRequest, benchmark_slug: str, hardware_class_name: str) -> HttpResponse:
    """The board as JSON: the same entries, figures with labels, search cost parts apart."""
    benchmark = get_object_or_404(Benchmark, slug=benchmark_slug)
    hardware_class = get_object_or_404(HardwareClass, name=hardware_class_name)
    tracked = _board_or_unknown_track(request, benchmark, hardware_class)
    if isinstance(tracked, UnknownTrack):
        return JsonResponse(
            {"error": str(tracked), "tracks": [t.slug for t in tracked.tracks]},
            status=404,
        )
    return json_download(export_document(tracked=tracked), filename=_export_filename(tracked, "json"), indent=1)
