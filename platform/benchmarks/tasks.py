"""Celery entry points of the benchmarks app."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from benchmarks.services import runner_status_record

log = logging.getLogger(__name__)


@shared_task(name="footprint.runner_heartbeat")
def runner_heartbeat(status: Any) -> None:
    try:
        runner_status_record(status=status)
    except (TypeError, ValueError) as exc:
        # A runner of another version, or a bug: say so where operators look.
        log.error("refused a runner heartbeat: %s: %.1000r", exc, status)
