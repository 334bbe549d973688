"""Writes of the budgets app."""

from __future__ import annotations

from django.db import transaction

from benchmarks.models import Benchmark
from budgets.models import Track
from budgets.tracks import DEFAULT_TRACKS


def tracks_ensure_defaults(*, benchmark: Benchmark) -> list[Track]:
    """Give a benchmark the default tracks (small-lab, medium, large-lab) if it has none.

    Returns the tracks created ([] when the benchmark already had tracks). A benchmark
    with any track keeps exactly what the operator made of it: a deleted default is not
    brought back when the benchmark is imported again. Safe to call on every import.
    """
    with transaction.atomic():
        # Lock the benchmark row so that two imports at once cannot both find no tracks.
        Benchmark.objects.select_for_update().filter(pk=benchmark.pk).first()
        if Track.objects.filter(benchmark=benchmark).exists():
            return []
        return Track.objects.bulk_create(
            [
                Track(
                    benchmark=benchmark,
                    slug=default.slug,
                    name=default.name,
                    order=default.order,
                    max_device_hours=default.max_device_hours,
                    max_kwh=default.max_kwh,
                )
                for default in DEFAULT_TRACKS
            ]
        )
