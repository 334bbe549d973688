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
        record = runner_status_record(status=status)
    except (TypeError, ValueError) as exc:
        # A runner of another version, or a bug: say so where operators look.
        log.error("refused a runner heartbeat: %s: %.1000r", exc, status)
        return
    running = status.get("running")
    if isinstance(running, list) and all(isinstance(r, int) for r in running):
        from submissions.services import runs_recover_orphaned

        outcome = runs_recover_orphaned(
            host=record.host, hardware_class_name=record.hardware_class_name, running_run_ids=running
        )
        if any(outcome.values()):
            log.warning("runner %s lost runs: %s", record.host, outcome)
