"""The state machine of a Run, in one place.

    queued -> staging -> compressing -> measuring -> succeeded | failed
    queued -> cancelled;   any active state -> failed
    staging | compressing | measuring -> queued   (its runner lost the job; sent again)

Every change goes through `run_transition`, which records a RunTransition with its
reason. What the runners report goes through `run_report_progress` (progress) and
submissions.services.run_ingest_result (the result document), which decide what a report
means for the run: a step forward, a duplicate, a restarted job, or a late report.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from submissions.models import Run, RunTransition

log = logging.getLogger(__name__)

QUEUED, STAGING, COMPRESSING, MEASURING = Run.QUEUED, Run.STAGING, Run.COMPRESSING, Run.MEASURING
SUCCEEDED, FAILED, CANCELLED = Run.SUCCEEDED, Run.FAILED, Run.CANCELLED

# The runner gives up on a job it was handed this many times (each one lost its runner).
MAX_ATTEMPTS = 3

# Forward skips are legal: progress reports and the result travel as separate messages
# and a platform worker with several processes may handle a later one first. Back to
# staging is legal only as a restart (a new attempt, see run_report_progress).
TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({STAGING, COMPRESSING, MEASURING, SUCCEEDED, FAILED, CANCELLED}),
    # A running run can be cancelled too: its runner is told, kills the job and reports.
    STAGING: frozenset({QUEUED, COMPRESSING, MEASURING, SUCCEEDED, FAILED, CANCELLED}),
    COMPRESSING: frozenset({QUEUED, STAGING, MEASURING, SUCCEEDED, FAILED, CANCELLED}),
    MEASURING: frozenset({QUEUED, STAGING, SUCCEEDED, FAILED, CANCELLED}),
    SUCCEEDED: frozenset(),
    FAILED: frozenset(),
    CANCELLED: frozenset(),
}
# The states a runner reports through footprint.run_progress, in the order it reaches them.
PROGRESS_STATES = (STAGING, COMPRESSING, MEASURING)
_ORDER = {state: index for index, state in enumerate((QUEUED, *PROGRESS_STATES))}


class IllegalTransition(Exception):
    """A state change the machine does not allow (e.g. out of a terminal state)."""


class ConcurrentTransition(Exception):
    """The run kept changing under us; the caller (a Celery task) may retry."""


def _is_duplicate(run: Run, to_state: str, attempt: int | None) -> bool:
    return run.state == to_state and (attempt is None or attempt == run.attempt)


def run_transition(
    *,
    run: Run,
    to_state: str,
    reason: str,
    attempt: int | None = None,
    failure_phase: str = "",
    failure_code: str = "",
    runner_host: str | None = None,
    execution: str | None = None,
) -> RunTransition | None:
    """Move `run` to `to_state` and record why; None when it already is there (a duplicate).

    `attempt` sets a new attempt number (a restarted job); None keeps the current one.
    Raises IllegalTransition for a change the table refuses. `run` is updated in place.
    """
    if to_state not in TRANSITIONS:
        raise IllegalTransition(f"unknown run state {to_state!r}")
    for _ in range(5):
        if _is_duplicate(run, to_state, attempt):
            # A job can be delivered twice, and so can its reports: same state, same
            # attempt changes nothing and records nothing.
            return None
        # Back to queued or staging only as a new attempt (a lost or restarted job).
        restart = to_state in (QUEUED, STAGING) and attempt is not None and attempt > run.attempt
        if to_state not in TRANSITIONS[run.state] or (
            to_state in (QUEUED, STAGING) and run.state != QUEUED and not restart
        ):
            raise IllegalTransition(f"run {run.pk}: {run.state} -> {to_state} is not allowed")
        now = timezone.now()
        new_attempt = run.attempt if attempt is None else attempt
        changes: dict[str, object] = {"state": to_state, "attempt": new_attempt, "updated": now}
        if to_state in Run.TERMINAL_STATES:
            changes["finished_at"] = now
        if to_state == FAILED:
            changes.update(failure_phase=failure_phase, failure_code=failure_code, failure_reason=reason)
        if runner_host:
            changes["runner_host"] = runner_host
        if execution:
            changes["execution"] = execution
        with transaction.atomic():
            # Conditional UPDATE ... WHERE state = <what we read> AND attempt = <what we
            # read>, then check the row count. Two platform worker processes may handle
            # two reports of the same run at once (a duplicated delivery, or progress and
            # result): both read "compressing", and without the condition both would write
            # and record, e.g. a late "measuring" overwriting "succeeded". PostgreSQL makes
            # the second UPDATE wait for the first's row lock and then re-check the WHERE
            # clause, so exactly one of them matches; SQLite serializes writers.
            matched = Run.objects.filter(pk=run.pk, state=run.state, attempt=run.attempt).update(**changes)
            if matched == 1:
                record = RunTransition.objects.create(
                    run=run,
                    from_state=run.state,
                    to_state=to_state,
                    at=now,
                    reason=reason,
                    attempt=new_attempt,
                )
                for field, value in changes.items():
                    setattr(run, field, value)
                return record
        # Someone else moved the run: decide again from the state it is in now.
        run.refresh_from_db()
    raise ConcurrentTransition(f"run {run.pk} kept changing while moving it to {to_state}")


def run_record_ignored(*, run: Run, to_state: str, reason: str) -> None:
    """Log and record (once) a report that came after the run had finished."""
    log.warning("run %s is %s; ignored a late report: %s", run.pk, run.state, reason)
    RunTransition.objects.get_or_create(
        run=run,
        from_state=run.state,
        to_state=to_state,
        reason=reason,
        ignored=True,
        defaults={"attempt": run.attempt},
    )


def run_report_progress(
    *, run: Run, attempt: int, state: str, reason: str, runner_host: str | None = None, execution: str | None = None
) -> RunTransition | None:
    """Apply a runner's progress report (footprint.run_progress) to `run`.

    - a run that already finished ignores it (recorded as ignored, logged);
    - the same state again is a duplicate delivery: nothing changes;
    - `staging` while the run is compressing or measuring means the job was delivered
      again after its runner died (acks_late + reject_on_worker_lost): a new attempt,
      until MAX_ATTEMPTS runners were lost, then the run fails;
    - an earlier state than the current one, other than staging, is a report handled out
      of order: logged, nothing changes;
    - anything else moves the run forward.

    The runner's `attempt` is the job spec's, which a broker redelivery does not change;
    the platform counts attempts itself, so the reported number is only logged. `execution`
    (runners since harness v2) names one delivery of the job: a `staging` report of the
    execution the run is already following is a late report handled out of order, not a
    restart; a report of an execution other than the current one (after a restart) is stale.
    """
    if state not in PROGRESS_STATES:
        raise IllegalTransition(f"a runner cannot report the state {state!r}")
    if run.is_terminal:
        run_record_ignored(
            run=run, to_state=state, reason=f"the runner reported {state!r} after the run had {run.state}: {reason}"
        )
        return None
    if state == run.state:
        return None
    current = run.execution
    if execution and current and execution != current and state != STAGING:
        log.info("run %s follows execution %s; ignored %r of execution %s", run.pk, current, state, execution)
        return None
    if state == STAGING and run.state in (COMPRESSING, MEASURING) and execution and execution == current:
        run_record_ignored(
            run=run, to_state=state, reason=f"a late {state!r} report, handled after {run.state!r}: {reason}"
        )
        return None
    if state == STAGING and run.state in (COMPRESSING, MEASURING):
        lost = run.attempt
        if lost >= MAX_ATTEMPTS:
            return run_transition(
                run=run,
                to_state=FAILED,
                reason=(
                    f"the runner was lost {lost} times while running this job (it stopped "
                    "without reporting a result); the job is not retried again. A "
                    "submission that exhausts the runner's memory or crashes its host can "
                    "cause this: check the log tails and the limits."
                ),
                failure_phase=run.state,
                failure_code="runner_lost",
            )
        return run_transition(
            run=run,
            to_state=STAGING,
            reason=f"runner restarted the job (attempt {lost + 1}): {reason}",
            attempt=lost + 1,
            runner_host=runner_host,
            execution=execution,
        )
    if _ORDER[state] < _ORDER[run.state]:
        log.info(
            "run %s is %s; a %r report (runner attempt %s) arrived out of order: %s",
            run.pk,
            run.state,
            state,
            attempt,
            reason,
        )
        return None
    follows = execution if (not current or run.state == QUEUED) else None
    return run_transition(run=run, to_state=state, reason=reason, runner_host=runner_host, execution=follows)
