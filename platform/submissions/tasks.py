"""Celery entry points of the submissions app: each loads rows and calls a service.

The footprint.* names are the interface with the runners (runners/README.md). What a runner
sends is read only once its signature checks out (submissions.claims): a progress report or
a result must be signed with the token of that very job, a heartbeat with the runner's
credential; anything else is refused and logged.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from benchmarks.credentials import CredentialRefused, runner_credential_for_signed
from benchmarks.services import runner_status_record
from runners.signing import progress_payload
from submissions import services
from submissions.claims import Refused, report_signer
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


def _signer(run_id: Any, attempt: Any, payload: Any, signature: Any) -> str | None:
    """The runner id whose job token signed this report, or None (refused, and logged)."""
    try:
        return report_signer(run_id=run_id, attempt=attempt, payload=payload, signature=signature).credential.name
    except Refused as exc:
        log.error("refused a runner's report (%s): %s", exc.code, exc.message)
        return None


@shared_task(name="footprint.run_progress", **STORE_RETRY)
def run_progress(
    run_id: int,
    attempt: int,
    state: str,
    reason: str,
    host: str | None = None,
    execution: str | None = None,
    signature: Any = None,
) -> None:
    signer = _signer(run_id, attempt, progress_payload(run_id, attempt, state, reason, host, execution), signature)
    if signer is None:
        return
    services.run_progress_receive(
        run_id=run_id,
        attempt=attempt,
        state=state,
        reason=str(reason),
        runner_host=signer,
        execution=execution if isinstance(execution, str) else None,
    )


@shared_task(name="footprint.run_result", **STORE_RETRY)
def run_result(document: Any, signature: Any = None) -> None:
    run_id = document.get("run_id") if isinstance(document, dict) else None
    attempt = document.get("attempt") if isinstance(document, dict) else None
    signer = _signer(run_id, attempt, document, signature)
    if signer is None:
        return
    services.run_ingest_result(document=document, signer=signer)


@shared_task(
    name="footprint.runner_heartbeat",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def runner_heartbeat(status: Any, signature: Any = None) -> None:
    """Keep the runner's status, then send again the runs it says it no longer holds."""
    if not isinstance(status, dict):
        log.error("refused a runner heartbeat: a runner status must be an object, got %s", type(status).__name__)
        return
    runner_id = status.get("runner_id")
    try:
        credential = runner_credential_for_signed(payload=status, signature=signature, runner_id=runner_id)
    except CredentialRefused as exc:
        log.error("refused a runner heartbeat (%s): %s", exc.code, exc)
        return
    try:
        record = runner_status_record(status=status, credential=credential)
    except (TypeError, ValueError) as exc:
        # A runner of another version, or a bug: say so where operators look.
        log.error("refused a runner heartbeat: %s: %.1000r", exc, status)
        return
    running = status.get("running")
    if isinstance(running, list) and all(isinstance(r, int) for r in running):
        outcome = services.runs_recover_orphaned(
            host=record.runner_id, hardware_class_name=record.hardware_class_name, running_run_ids=running
        )
        if any(outcome.values()):
            log.warning("runner %s lost runs: %s", record.runner_id, outcome)


@shared_task(name="footprint.sweep_stuck_runs")
def sweep_stuck_runs() -> dict[str, int]:
    counts = services.runs_sweep_stuck()
    if any(counts.values()):
        log.warning("stuck-run sweep: %s", counts)
    return counts
