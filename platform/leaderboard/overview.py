"""The home page's view of the leaderboards: every board's number of entries and the latest
published results of all boards, read from the board entries (leaderboard.entries).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count

from benchmarks.models import Benchmark, HardwareClass
from leaderboard.entries import entries_ensure
from leaderboard.models import BoardEntry


@dataclass(frozen=True)
class BoardSummary:
    benchmark: Benchmark
    hardware_class: HardwareClass
    entries: int  # published entries (latest run of each submission), in any table


@dataclass(frozen=True)
class LatestResult:
    run_id: int
    name: str
    benchmark: Benchmark
    hardware_class: HardwareClass
    speedup: float | None
    speedup_label: str | None
    accuracy: float | None
    finished_at: datetime | None


def boards_overview(
    *, benchmarks: Sequence[Benchmark], hardware_classes: Sequence[HardwareClass], latest: int = 8
) -> tuple[list[BoardSummary], list[LatestResult]]:
    """Each board's number of entries and the latest published results of all boards.

    The entries of results stored since the boards were last read are written first (two
    small queries a board when there is none), then two queries for everything.
    """
    for benchmark in benchmarks:
        for hardware_class in hardware_classes:
            entries_ensure(benchmark=benchmark, hardware_class=hardware_class)
    public = BoardEntry.objects.filter(
        superseded=False, published=True, hardware_class_id__in=[c.pk for c in hardware_classes]
    )
    counts = {
        (row["benchmark_id"], row["hardware_class_id"]): row["entries"]
        for row in public.values("benchmark_id", "hardware_class_id").annotate(entries=Count("pk"))
    }
    summaries = [
        BoardSummary(benchmark=b, hardware_class=c, entries=counts.get((b.pk, c.pk), 0))
        for b in benchmarks
        for c in hardware_classes
    ]
    by_benchmark = {b.pk: b for b in benchmarks}
    by_class = {c.pk: c for c in hardware_classes}
    newest = (
        public.filter(benchmark_id__in=list(by_benchmark))
        .order_by("-finished_at", "-run_id")
        .values(
            "run_id",
            "submission__name",
            "benchmark_id",
            "hardware_class_id",
            "speedup",
            "labels",
            "accuracy",
            "finished_at",
        )[:latest]
    )
    results = [
        LatestResult(
            run_id=row["run_id"],
            name=row["submission__name"],
            benchmark=by_benchmark[row["benchmark_id"]],
            hardware_class=by_class[row["hardware_class_id"]],
            speedup=row["speedup"],
            speedup_label=(row["labels"] or {}).get("speedup"),
            accuracy=row["accuracy"],
            finished_at=row["finished_at"],
        )
        for row in newest
    ]
    return summaries, results
