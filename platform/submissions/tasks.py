"""Celery entry points of the submissions app: each loads rows and calls a service.

The footprint.* names are the interface with the runners (runners/README.md).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from benchmarks.services import runner_status_record
from submissions import services
from submissions.models import Run
from submissions.state import ConcurrentTransition

log = logging.getLogger(__name__)


@shared_task(name="footprint.dispatch_run")
def dispatch_run(run_id: int) -> None:
    run = Run.objects.select_related("submission__benchmark", "hardware_class").filter(pk=run_id).first()
    if run is None:
        log.error("dispatch of run %s, which does not exist", run_id)
        return
    services.run_dispatch(run=run)


# What a runner reports must survive the database going away for a while (a restart, a
# fail-over): such an error retries the task with back-off, for as long as it takes; the
# broker message is acknowledged only once the retry is queued (acks_late), so nothing is
# lost between the two. A concurrent transition is retried too, a few times.
STORE_RETRY = {
    "autoretry_for": (ConcurrentTransition, OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": None,
}


@shared_task(name="footprint.run_progress", **STORE_RETRY)
def run_progress(
    run_id: int, attempt: int, state: str, reason: str, host: str | None = None, execution: str | None = None
) -> None:
    services.run_progress_receive(
        run_id=run_id,
        attempt=attempt,
        state=state,
        reason=str(reason),
        runner_host=host if isinstance(host, str) else None,
        execution=execution if isinstance(execution, str) else None,
    )


@shared_task(name="footprint.run_result", **STORE_RETRY)
def run_result(document: Any) -> None:
    services.run_ingest_result(document=document)


@shared_task(
    name="footprint.runner_heartbeat",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def runner_heartbeat(status: Any) -> None:
    """Keep the runner's status, then send again the runs it says it no longer holds."""
    try:
        record = runner_status_record(status=status)
    except (TypeError, ValueError) as exc:
        # A runner of another version, or a bug: say so where operators look.
        log.error("refused a runner heartbeat: %s: %.1000r", exc, status)
        return
    running = status.get("running")
    if isinstance(running, list) and all(isinstance(r, int) for r in running):
        outcome = services.runs_recover_orphaned(
            host=record.host, hardware_class_name=record.hardware_class_name, running_run_ids=running
        )
        if any(outcome.values()):
            log.warning("runner %s lost runs: %s", record.host, outcome)


@shared_task(name="footprint.sweep_stuck_runs")
def sweep_stuck_runs() -> dict[str, int]:
    counts = services.runs_sweep_stuck()
    if any(counts.values()):
        log.warning("stuck-run sweep: %s", counts)
    return counts
