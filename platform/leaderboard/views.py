"""The leaderboard page of one benchmark on one hardware class."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from benchmarks.models import Benchmark, HardwareClass
from leaderboard.selectors import DEFAULT_SORT, SORT_KEYS, leaderboard_rows
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
    ("compress_wall_s", "Compress (s)"),
]
assert all(key in SORT_KEYS for key, _ in SORTABLE_COLUMNS)


def _column_headers(active_sort: str) -> list[dict[str, object]]:
    headers = []
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
            }
        )
    return headers


def leaderboard(request: HttpRequest, benchmark_slug: str, hardware_class_name: str) -> HttpResponse:
    benchmark = get_object_or_404(Benchmark, slug=benchmark_slug)
    hardware_class = get_object_or_404(HardwareClass, name=hardware_class_name)
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class, sort=request.GET.get("sort"))
    pending_runs = 0
    if board.is_empty:
        # Only for the empty state: say whether results are on their way.
        pending_runs = Run.objects.filter(
            submission__benchmark=benchmark,
            hardware_class=hardware_class,
            state__in=Run.ACTIVE_STATES,
        ).count()
    return render(
        request,
        "leaderboard/leaderboard.html",
        {
            "board": board,
            "benchmark": benchmark,
            "hardware_class": hardware_class,
            "headers": _column_headers(board.sort),
            "rank_active": board.sort == DEFAULT_SORT,
            "pending_runs": pending_runs,
            "other_classes": HardwareClass.objects.filter(active=True).exclude(pk=hardware_class.pk),
        },
    )
