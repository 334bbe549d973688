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
from leaderboard.selectors import (
    DEFAULT_SORT,
    SORT_KEYS,
    TrackBoard,
    UnknownTrack,
    leaderboard_track_board,
    track_limits_text,
)
from submissions.models import Run

# Sortable columns, in table order: (sort key, header). The first click on a header sorts
# best first (the selector knows which direction is better); the next click reverses.
SORTABLE_COLUMNS: list[tuple[str, str]] = [
    ("name", "Method"),
    ("accuracy", "Accuracy"),
    ("accuracy_delta", "\u0394 vs ref."),
    ("latency_p50_us", "p50 (\u00b5s)"),
    ("latency_p90_us", "p90 (\u00b5s)"),
    ("compression_ratio", "Compression"),
    ("theoretical_speedup", "Theor. speed-up"),
    ("speedup", "Speed-up"),
    ("serve_peak_memory_bytes", "Memory (MiB)"),
    ("energy_per_inference_mj", "Energy / inference"),
    ("compress_wall_s", "Compress (s)"),
]
assert all(key in SORT_KEYS for key, _ in SORTABLE_COLUMNS)


# Columns that are not sorted on, placed after the sortable column named here: the
# search cost sits beside the speed-up it paid for.
UNSORTED_COLUMNS: dict[str, dict[str, object]] = {
    "speedup": {
        "key": "search_cost",
        "title": "Search cost",
        "sortable": False,
        "numeric": True,
        "help": (
            "the price of the result: total device-hours and kWh of the compress phase measured on the runner "
            "plus any off-platform search the submitter declared"
        ),
    },
}


def _column_headers(active_sort: str) -> list[dict[str, object]]:
    headers: list[dict[str, object]] = []
    for key, title in SORTABLE_COLUMNS:
        active = active_sort.lstrip("-") == key
        reversed_now = active and active_sort.startswith("-")
        headers.append(
            {
                "key": key,
                "title": title,
                "active": active,
                "reversed": reversed_now,
                # Clicking the active column flips it; any other starts best first.
                "next_sort": key if not active or reversed_now else f"-{key}",
                "numeric": key != "name",
                "sortable": True,
            }
        )
        if key in UNSORTED_COLUMNS:
            headers.append(UNSORTED_COLUMNS[key])
    return headers


def _query(*, track_slug: str | None, sort: str) -> str:
    """The query string of links that keep the board and the order ("" for the defaults)."""
    params = {}
    if track_slug:
        params["track"] = track_slug
    if sort != DEFAULT_SORT:
        params["sort"] = sort
    return f"?{urlencode(params)}" if params else ""


def _track_tabs(tracked: TrackBoard, *, sort: str) -> list[dict[str, object]]:
    """One tab per track, smallest first; plus "All entries" when no track is without limits."""
    tabs: list[dict[str, object]] = []
    for track in tracked.tracks:
        slug = None if track == tracked.default_track else track.slug
        tabs.append(
            {
                "slug": track.slug,
                "name": track.name,
                "limits": track_limits_text(track),
                "query": _query(track_slug=slug, sort=sort) or "?",
                "active": track == tracked.track,
            }
        )
    if tracked.tracks and tracked.default_track is None:
        tabs.append(
            {
                "slug": "",
                "name": "All entries",
                "limits": "every entry, whatever its track",
                "query": _query(track_slug=None, sort=sort) or "?",
                "active": tracked.track is None,
            }
        )
    return tabs


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
            "tracks": [{"track": t, "limits": track_limits_text(t)} for t in error.tracks],
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
    export_query = _query(track_slug=tracked.track_slug, sort=board.sort)
    track_query = urlencode({"track": tracked.track_slug}) if tracked.track_slug else ""
    return render(
        request,
        "leaderboard/leaderboard.html",
        {
            "board": board,
            "tracked": tracked,
            "track_tabs": _track_tabs(tracked, sort=board.sort),
            "track_limits": track_limits_text(tracked.track) if tracked.track is not None else "",
            # Appended to the column headers' ?sort= links, so that sorting keeps the board.
            "track_query": f"&{track_query}" if track_query else "",
            "csv_url": reverse("leaderboard-csv", args=[benchmark.slug, hardware_class.name]) + export_query,
            "json_url": reverse("leaderboard-json", args=[benchmark.slug, hardware_class.name]) + export_query,
            "benchmark": benchmark,
            "hardware_class": hardware_class,
            "headers": _column_headers(board.sort),
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
