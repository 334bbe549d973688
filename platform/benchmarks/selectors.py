"""Reads of the benchmarks app."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from benchmarks.models import HardwareClass, RunnerStatus

# A runner that missed this many heartbeats in a row is considered gone.
MISSED_HEARTBEATS = 3


def runner_start_command(hardware_class: HardwareClass) -> str:
    return settings.FOOTPRINT_RUNNER_START_HINT.format(hardware_class=hardware_class.name, queue=hardware_class.queue)


def runners_reported_after(*, now: datetime) -> datetime:
    """Runners whose last heartbeat is older than this are gone (MISSED_HEARTBEATS missed)."""
    return now - timedelta(seconds=MISSED_HEARTBEATS * settings.FOOTPRINT_RUNNER_HEARTBEAT_S)


def runners_for_unknown_classes(*, now: datetime | None = None) -> list[RunnerStatus]:
    """Runners that recently reported a hardware class name that does not exist (or is
    inactive): their jobs never come, an operator should know."""
    recent_after = runners_reported_after(now=now or timezone.now())
    return list(
        RunnerStatus.objects.filter(last_seen__gte=recent_after).filter(
            Q(hardware_class__isnull=True) | Q(hardware_class__active=False)
        )
    )
