"""Reads of the benchmarks app."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from benchmarks.models import HardwareClass, RunnerStatus

# A runner that missed this many heartbeats in a row is considered gone.
MISSED_HEARTBEATS = 3


@dataclass
class HardwareClassRunners:
    """What the runners page says about one hardware class."""

    hardware_class: HardwareClass
    queued_runs: int
    # Runners that reported within the last MISSED_HEARTBEATS intervals.
    recent: list[RunnerStatus] = field(default_factory=list)
    # Runners that reported once but not recently.
    gone: list[RunnerStatus] = field(default_factory=list)
    can_start: bool = False
    # Why no run can start now (None when one can), in words an operator can act on.
    reason: str | None = None
    start_command: str = ""


def runner_start_command(hardware_class: HardwareClass) -> str:
    return settings.FOOTPRINT_RUNNER_START_HINT.format(hardware_class=hardware_class.name, queue=hardware_class.queue)


def _ago(moment: datetime, now: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def runner_overview(*, now: datetime | None = None) -> list[HardwareClassRunners]:
    """Per active hardware class: which runners reported recently, and why none can start.

    Two queries whatever the number of classes and runners.
    """
    now = now or timezone.now()
    recent_after = now - timedelta(seconds=MISSED_HEARTBEATS * settings.FOOTPRINT_RUNNER_HEARTBEAT_S)
    classes = list(
        HardwareClass.objects.filter(active=True).annotate(queued_runs=Count("runs", filter=Q(runs__state="queued")))
    )
    statuses: dict[int, list[RunnerStatus]] = {}
    for status in RunnerStatus.objects.filter(hardware_class__in=classes).order_by("-last_seen"):
        statuses.setdefault(status.hardware_class_id, []).append(status)

    overview = []
    for hardware_class in classes:
        reported = statuses.get(hardware_class.pk, [])
        entry = HardwareClassRunners(
            hardware_class=hardware_class,
            queued_runs=hardware_class.queued_runs,
            recent=[s for s in reported if s.last_seen >= recent_after],
            gone=[s for s in reported if s.last_seen < recent_after],
            start_command=runner_start_command(hardware_class),
        )
        ready = [s for s in entry.recent if s.state != RunnerStatus.State.UNAVAILABLE and s.docker_ok]
        if ready:
            entry.can_start = True
        elif entry.recent:
            latest = entry.recent[0]
            entry.reason = (
                f"the runner on {latest.host} cannot run jobs: "
                f"{latest.detail or 'it reported itself unavailable without a reason'}"
            )
        elif entry.gone:
            latest = entry.gone[0]
            entry.reason = (
                f"no runner has reported in the last {MISSED_HEARTBEATS * settings.FOOTPRINT_RUNNER_HEARTBEAT_S} s; "
                f"the last one, on {latest.host}, reported {_ago(latest.last_seen, now)}"
                f"{': ' + latest.detail if latest.detail else ''}. "
                f"Start one with: {entry.start_command}"
            )
        else:
            entry.reason = f"no runner has reported; start one with: {entry.start_command}"
        overview.append(entry)
    return overview


def runners_for_unknown_classes(*, now: datetime | None = None) -> list[RunnerStatus]:
    """Runners that recently reported a hardware class name that does not exist (or is
    inactive): their jobs never come, an operator should know."""
    now = now or timezone.now()
    recent_after = now - timedelta(seconds=MISSED_HEARTBEATS * settings.FOOTPRINT_RUNNER_HEARTBEAT_S)
    return list(
        RunnerStatus.objects.filter(last_seen__gte=recent_after).filter(
            Q(hardware_class__isnull=True) | Q(hardware_class__active=False)
        )
    )
