"""Writes of the submissions app: create submissions, enqueue/dispatch/cancel runs, and
ingest what the runners send back (progress, result documents)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from benchmarks.models import Benchmark, HardwareClass
from core.text import storable, storable_text
from footprint.storage import footprint_storage, storage_file_url, storage_path
from submissions.audits import audits_from_document
from submissions.models import Audit, Figure, Result, ResultInvalidation, Run, Submission
from submissions.quotas import quota_check, quota_lock
from submissions.selectors import without_runner_identity
from submissions.state import (
    FAILED,
    MAX_ATTEMPTS,
    SUCCEEDED,
    ConcurrentTransition,
    IllegalTransition,
    run_record_ignored,
    run_report_progress,
    run_transition,
)
from submissions.uploads import HashedTemporaryUploadedFile, ImageTarballInfo, store_submission_tarball

log = logging.getLogger(__name__)

JOB_SCHEMA = "footprint.job/1"
JOB_TASK = "runners.execute_job"
# Bytes of each phase's output the runner keeps (the end of it, where errors are).
LOG_TAIL_BYTES = 8192
# A run its runner no longer lists is lost only after this long without progress: three
# heartbeats (runners/worker.py HEARTBEAT_INTERVAL_S), so that reports handled out of order
# cannot make a live run look lost.
ORPHAN_GRACE_S = 90
# The failure code of a runner's result for a job it stopped on a cancel.
CANCELLED_CODE = "cancelled"
# Accuracies are fractions of a count; this absorbs float rounding in floor * reference.
_FLOOR_TOLERANCE = 1e-9


# ---------------------------------------------------------------------------------------
# Submissions and runs


def submission_create(
    *,
    owner: AbstractBaseUser,
    benchmark: Benchmark,
    name: str,
    description: str,
    division: str,
    image_id: str,
    tarball_path: str = "",
    tarball_sha256: str = "",
    size_bytes: int | None = None,
    image_reference: str = "",
    published: bool = False,
    hardware_classes: Sequence[HardwareClass] | None = None,
    enforce_quota: bool = True,
    declared_search: dict[str, Any] | None = None,
) -> Submission:
    """Record a checked image as a submission and queue a run on each of `hardware_classes`
    (default: every active class). The image is a stored tarball (the upload view, the API,
    seed_demo inspected it) or a registry reference pinned by digest that the API checked.

    Raises QuotaExceeded (submissions.quotas) when the owner's quota refuses the submission
    or its runs; `enforce_quota=False` is for operators' commands (seed_demo).
    `declared_search`: an off-platform search declared on upload, in method.json's `search` form.
    """
    if division not in (Submission.Division.STANDARD, Submission.Division.OWN):
        raise ValueError(f"unknown division {division!r}; expected 'standard' or 'own'")
    if len(description) > Submission.DESCRIPTION_MAX_CHARS:
        raise ValueError(
            f"the description has {len(description)} characters; at most {Submission.DESCRIPTION_MAX_CHARS} are kept"
        )
    if bool(tarball_path) == bool(image_reference):
        raise ValueError("a submission is a stored tarball or a registry reference, exactly one of them")
    with transaction.atomic():
        # Inactive classes are skipped, whoever names them.
        classes = (
            list(HardwareClass.objects.filter(active=True))
            if hardware_classes is None
            else [hardware_class for hardware_class in hardware_classes if hardware_class.active]
        )
        if enforce_quota:
            quota_lock(user=owner)
            quota_check(user=owner, benchmark=benchmark, new_submission=True, new_runs=len(classes))
        submission = Submission.objects.create(
            owner=owner,
            benchmark=benchmark,
            name=name,
            description=description,
            division=division,
            image_id=image_id,
            image_reference=image_reference,
            tarball_sha256=tarball_sha256,
            tarball_path=tarball_path,
            tarball_size_bytes=size_bytes,
            published=published,
            declared_search=declared_search,
        )
        for hardware_class in classes:
            run_enqueue(submission=submission, hardware_class=hardware_class)
    return submission


def submission_create_from_tarball(
    *, uploaded: HashedTemporaryUploadedFile, image: ImageTarballInfo, **fields: Any
) -> Submission:
    """Store an inspected upload (submissions.uploads) and make it a submission (`fields`:
    those of submission_create); the stored file is removed again when that fails."""
    stored = store_submission_tarball(uploaded)
    try:
        return submission_create(
            tarball_path=stored.path_relative,
            tarball_sha256=stored.sha256,
            size_bytes=stored.size_bytes,
            image_id=image.image_id,
            **fields,
        )
    except BaseException:
        # No row points to the file: remove it rather than leave an orphan in storage.
        footprint_storage().delete(stored.path_relative)
        raise


def submission_set_published(*, submission: Submission, published: bool) -> Submission:
    """Publish a submission (its results join the leaderboards) or withdraw it (private again).

    The leaderboard is computed when read, so the flag is the whole change.
    """
    Submission.objects.filter(pk=submission.pk).update(published=published)
    submission.published = published
    return submission


def run_rerun(*, run: Run, by: AbstractBaseUser) -> tuple[Run, bool]:
    """Queue the run's submission again on the run's hardware class, within the owner's quota.

    Returns (run, True) for the new run, or (the run already in flight on that class, False):
    nothing is charged then.
    """
    submission = run.submission
    with transaction.atomic():
        in_flight = Run.objects.filter(
            submission=submission, hardware_class_id=run.hardware_class_id, state__in=Run.ACTIVE_STATES
        ).first()
        if in_flight is not None:
            return in_flight, False
        quota_lock(user=submission.owner)
        quota_check(user=submission.owner, benchmark=submission.benchmark, new_submission=False, new_runs=1)
        new_run = run_enqueue(submission=submission, hardware_class=run.hardware_class)
    log.info("run %s of submission %s queued again as run %s by %s", run.pk, submission.pk, new_run.pk, by)
    return new_run, True


def run_enqueue(*, submission: Submission, hardware_class: HardwareClass) -> Run:
    """Queue a run of `submission` on `hardware_class`, or return the one already in flight.

    The job is sent to the broker once the transaction commits, so that no task sees a
    run that is not in the database yet.
    """
    try:
        with transaction.atomic():
            run = Run.objects.create(submission=submission, hardware_class=hardware_class)
    except IntegrityError:
        # The partial unique constraint: a run of this pair is already in flight.
        return Run.objects.get(submission=submission, hardware_class=hardware_class, state__in=Run.ACTIVE_STATES)
    from submissions.tasks import dispatch_run

    transaction.on_commit(lambda: _send_dispatch(dispatch_run, run.pk))
    return run


def _send_dispatch(dispatch_run: Any, run_id: int) -> None:
    try:
        dispatch_run.delay(run_id)
    except Exception:
        # The row is committed and stays queued with dispatched_at unset: the periodic
        # sweep dispatches it again once the broker answers (runs_sweep_stuck).
        log.exception("could not hand run %s to the broker; the sweep will retry", run_id)


def job_file_locations(run: Run) -> tuple[str, str]:
    """(the benchmark folder's location, the tarball's or "" for a registry reference) in a run's job spec.

    With FOOTPRINT_RUNNER_FILES_URL (a deployment: the platform as its runners reach it) they
    are download URLs, opened by the job's token (submissions.runner_api); without it,
    `file://` paths for a runner on this host (`make run`).
    """
    base = settings.FOOTPRINT_RUNNER_FILES_URL.rstrip("/")
    tarball = run.submission.tarball_path  # none for a registry reference: the runner pulls it
    if not base:
        return (
            storage_file_url(run.submission.benchmark.data_dir, folder=True),
            storage_file_url(tarball) if tarball else "",
        )
    from submissions.claims import BENCHMARK_PREFIX, SUBMISSION_FILE

    files = f"{base}/runner-api/v1/runs/{run.pk}/files"
    return f"{files}/{BENCHMARK_PREFIX}", f"{files}/{SUBMISSION_FILE}" if tarball else ""


def submission_image_document(*, submission: Submission, tarball_location: str) -> dict[str, Any]:
    """The job spec's `submission`: where the runner finds the image, and its id to verify.

    A registry reference (`host/name@sha256:<manifest digest>`) is pulled by the runner,
    which then checks the image id (the config digest the platform read from the registry);
    a tarball is fetched from `tarball_location` (job_file_locations) and checked against
    its sha256.
    """
    document: dict[str, Any] = {
        "id": submission.pk,
        "division": submission.division,
        "image_id": submission.image_id,
    }
    if submission.image_reference:
        document["image_reference"] = submission.image_reference
    else:
        document["image_location"] = tarball_location
        document["tarball_sha256"] = submission.tarball_sha256
    return document


def job_spec_for_run(run: Run) -> dict[str, Any]:
    """The `footprint.job/1` spec of a run (runners/README.md)."""
    from benchmarks.services import stored_manifest

    submission = run.submission
    benchmark = submission.benchmark
    hardware_class = run.hardware_class
    data_location, image_location = job_file_locations(run)
    manifest = stored_manifest(storage_path(benchmark.data_dir))
    if manifest is None and settings.FOOTPRINT_RUNNER_FILES_URL:
        # A runner fetching them could not check them (a runner reading file:// finds out itself).
        raise ValueError(
            f"the stored files of the benchmark {benchmark.slug} are missing or do not match their manifest"
        )
    files = {"files": dict(manifest["files"])} if manifest is not None else {}
    return {
        "schema": JOB_SCHEMA,
        "run_id": run.pk,
        "attempt": run.attempt,
        "submission": submission_image_document(submission=submission, tarball_location=image_location),
        "benchmark": {
            "slug": benchmark.slug,
            "data_location": data_location,
            "task": benchmark.task_document(threads=hardware_class.cores),
            **files,
        },
        "hardware_class": hardware_class.job_document(),
        "limits": {**benchmark.limits(), "log_tail_bytes": LOG_TAIL_BYTES},
        "measurement": benchmark.measurement(),
        "runtime_image": settings.FOOTPRINT_RUNTIME_IMAGE,
    }


def run_dispatch(*, run: Run) -> bool:
    """Send a queued run's job to its hardware class's queue; False if nothing was sent.

    Claims the run first with a conditional update on dispatched_at: the on-commit send
    and the sweep's re-dispatch may both try, and a job sent twice is measured twice.
    """
    from footprint.celery import app
    from runners.schema import validate_job

    claimed = Run.objects.filter(pk=run.pk, state=Run.QUEUED, dispatched_at__isnull=True).update(
        dispatched_at=timezone.now()
    )
    if claimed != 1:
        log.info("run %s is not waiting for dispatch (state %s); nothing sent", run.pk, run.state)
        return False
    run.refresh_from_db()
    try:
        spec = validate_job(job_spec_for_run(run))
    except Exception as exc:  # noqa: BLE001  (schema errors, unsafe storage paths, broken rows)
        # A spec the runner would refuse is the platform's bug or a broken benchmark row:
        # fail the run now with the reason rather than waiting for a runner to say so.
        run_transition(
            run=run,
            to_state=FAILED,
            reason=f"the platform could not build this run's job: {exc}",
            failure_phase="staging",
            failure_code="invalid_job_spec",
        )
        return False
    try:
        app.send_task(JOB_TASK, args=[spec], queue=run.hardware_class.queue)
    except Exception:
        Run.objects.filter(pk=run.pk, state=Run.QUEUED).update(dispatched_at=None)
        raise
    return True


def run_cancel(*, run: Run, by: AbstractBaseUser) -> Run:
    """Cancel a run that has not finished; raises IllegalTransition once it has.

    A queued job may already wait in the runner's queue: a runner that picks it up reports
    progress for a terminal run, which is recorded as ignored and changes nothing. A running
    job is stopped on its runner: every runner is told (a remote-control broadcast,
    runners/cancel.py); the one that holds it kills its containers and reports `cancelled`,
    which arrives for a finished run and is recorded as ignored.
    """
    if run.is_terminal:
        raise IllegalTransition(f"this run has finished ({run.state}); there is nothing to cancel")
    running = run.state in Run.RUNNING_STATES
    reason = f"cancelled by {by.get_username()}" + (" while it ran; its runner was told to stop it" if running else "")
    if run_transition(run=run, to_state=Run.CANCELLED, reason=reason) is not None and running:
        run.cancel_requested_at, run.cancel_requested_by = timezone.now(), by
        Run.objects.filter(pk=run.pk).update(cancel_requested_at=run.cancel_requested_at, cancel_requested_by=by)
        transaction.on_commit(lambda: _tell_runners_to_cancel(run.pk, reason))
    return run


def _tell_runners_to_cancel(run_id: int, reason: str) -> None:
    from footprint.celery import app
    from runners.cancel import CANCEL_COMMAND

    try:
        app.control.broadcast(CANCEL_COMMAND, arguments={"run_id": run_id, "reason": reason})
    except Exception:  # noqa: BLE001 - the run is cancelled here either way; its result will be ignored
        log.exception("could not tell the runners to stop run %s", run_id)


def run_progress_receive(
    *,
    run_id: int,
    attempt: int,
    state: str,
    reason: str,
    runner_host: str | None = None,
    execution: str | None = None,
) -> None:
    """footprint.run_progress: a runner (on `runner_host`) says a job reached `state`."""
    reason = storable_text(reason)[:4000]
    runner_host = storable_text(runner_host) if runner_host else runner_host
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        log.error("progress for run %s, which does not exist: %s %s", run_id, state, reason)
        return
    try:
        run_report_progress(
            run=run,
            attempt=attempt,
            state=state,
            reason=reason,
            runner_host=runner_host[:255] if runner_host else None,
            execution=execution[:64] if execution else None,
        )
    except IllegalTransition as exc:
        # The run changed under us (e.g. its result was ingested meanwhile).
        run.refresh_from_db()
        if run.is_terminal:
            run_record_ignored(
                run=run,
                to_state=state if state in Run.State.values else run.state,
                reason=f"the runner reported {state!r} after the run had {run.state}: {reason}",
            )
        else:
            log.error("run %s: refused progress report %r: %s", run_id, state, exc)
    except ConcurrentTransition:
        log.exception("run %s: progress report %r lost a race repeatedly", run_id, state)
        raise


# ---------------------------------------------------------------------------------------
# Result documents


class InvalidResult(ValueError):
    """A result document that does not follow footprint.result/1 or contradicts itself."""


def _log_tails(document: Any) -> dict[str, str]:
    """The phases' log tails from any document, even one that failed validation."""
    phases = document.get("phases") if isinstance(document, dict) else None
    if not isinstance(phases, dict):
        return {}
    tails = {}
    for phase, outcome in phases.items():
        if isinstance(phase, str) and isinstance(outcome, dict) and isinstance(outcome.get("log_tail"), str):
            tails[phase[:64]] = outcome["log_tail"][-65536:]
    return tails


def _figure_rows(document: dict[str, Any]) -> list[Figure]:
    seen: set[tuple[str, str]] = set()
    rows = []
    for figure in document["figures"]:
        key = (figure["subject"], figure["name"])
        if key in seen:
            raise InvalidResult(f"the figure {figure['name']!r} of the {figure['subject']} appears twice")
        seen.add(key)
        value = float(figure["value"])
        if not math.isfinite(value):
            raise InvalidResult(f"the figure {figure['name']!r} of the {figure['subject']} is {value}")
        rows.append(
            Figure(
                subject=figure["subject"], name=figure["name"], value=value, unit=figure["unit"], label=figure["label"]
            )
        )
    return rows


def result_meets_accuracy_floor(*, document: dict[str, Any], benchmark: Benchmark) -> bool:
    """Submission accuracy >= floor fraction x reference accuracy measured in the same job."""
    accuracy: dict[str, float] = {}
    for figure in document["figures"]:
        if figure["name"] == "accuracy" and figure["subject"] in ("submission", "reference"):
            accuracy[figure["subject"]] = float(figure["value"])
    for subject in ("submission", "reference"):
        if subject not in accuracy:
            raise InvalidResult(f"a succeeded result has no accuracy figure for the {subject}")
    floor = benchmark.accuracy_floor_fraction * accuracy["reference"]
    return accuracy["submission"] + _FLOOR_TOLERANCE >= floor


def _runner_host(document: dict[str, Any]) -> str:
    provenance = document.get("provenance") or {}
    runner = provenance.get("runner")
    host = runner.get("host") if isinstance(runner, dict) else provenance.get("runner_host")
    return str(host)[:255] if host else ""


@dataclass(frozen=True)
class _ValidResult:
    """A result document that passed validation, read once into the rows it becomes."""

    document: dict[str, Any]
    figures: list[Figure]
    audits: list[Audit]
    meets_accuracy_floor: bool | None


def _validated(document: Any, run: Run) -> _ValidResult:
    from runners.schema import SchemaError, validate_result

    try:
        document = validate_result(document)
    except SchemaError as exc:
        raise InvalidResult(str(exc)) from None
    figures = _figure_rows(document)
    meets = None
    if document["status"] == "succeeded":
        meets = result_meets_accuracy_floor(document=document, benchmark=run.submission.benchmark)
    try:
        audits = audits_from_document(document=document, figures=figures)
    except ValueError as exc:
        raise InvalidResult(str(exc)) from None
    return _ValidResult(document=document, figures=figures, audits=audits, meets_accuracy_floor=meets)


def run_ingest_result(*, document: Any, signer: str | None = None) -> Run | None:
    """footprint.run_result: store a runner's result document and finish the run.

    Result, figures, audits, log tails and the final transition are one transaction. A
    document that is not valid fails the run with the validation error (never dropped); one
    for a run that already finished is ignored and logged. A failed audit does not fail the
    run: the result is stored with its evidence and kept off the ranking (submissions.standing).
    `signer` (the runner id whose job token signed it, submissions.claims) is recorded as the
    run's runner; without one, the host the document names.
    """
    # A NUL byte in one log tail (or a lone surrogate in method.json) would make PostgreSQL
    # refuse the whole result: every string is made storable first (core.text).
    document = storable(document)
    run_id = document.get("run_id") if isinstance(document, dict) else None
    if not isinstance(run_id, int) or isinstance(run_id, bool):
        log.error("a result document names no run; it cannot be recorded: %.2000r", document)
        return None
    run = Run.objects.select_related("submission__benchmark").filter(pk=run_id).first()
    if run is None:
        log.error("a result document for run %s, which does not exist: %.2000r", run_id, document)
        return None
    if run.is_terminal:
        run_record_ignored(
            run=run,
            to_state=run.state,
            reason=f"a result document arrived after the run had {run.state}",
        )
        return run

    try:
        checked = _validated(document, run)
    except InvalidResult as exc:
        with transaction.atomic():
            _finish(
                run=run,
                to_state=FAILED,
                logs=_log_tails(document),
                reason=f"the runner sent an invalid result document: {exc}",
                failure_phase="result",
                failure_code="invalid_result_document",
                runner_host=signer or (_runner_host(document) if isinstance(document, dict) else ""),
            )
        return run

    valid = checked.document
    with transaction.atomic():
        if valid["status"] == "succeeded":
            finished = _finish(
                run=run,
                to_state=SUCCEEDED,
                logs=_log_tails(valid),
                reason="the runner sent its result",
                runner_host=signer or _runner_host(valid),
            )
        else:
            failure = valid["failure"]
            finished = _finish(
                run=run,
                # A job its runner stopped because the run was cancelled (runners/cancel.py).
                to_state=Run.CANCELLED if failure["code"] == CANCELLED_CODE else FAILED,
                logs=_log_tails(valid),
                reason=failure["reason"],
                failure_phase=failure["phase"],
                failure_code=failure["code"],
                runner_host=signer or _runner_host(valid),
            )
        if not finished:
            return run
        public = without_runner_identity(valid)
        result = Result.objects.create(
            run=run,
            schema=valid["schema"],
            document=public,
            provenance=public["provenance"],
            meets_accuracy_floor=checked.meets_accuracy_floor,
            flags=list(valid.get("flags") or []),
        )
        for row in (*checked.figures, *checked.audits):
            row.result = result
        Figure.objects.bulk_create(checked.figures)
        Audit.objects.bulk_create(checked.audits)
    return run


def _finish(
    *,
    run: Run,
    to_state: str,
    logs: dict[str, str],
    reason: str,
    failure_phase: str = "",
    failure_code: str = "",
    runner_host: str = "",
) -> bool:
    """Move the run to its final state and keep its log tails; False if it had finished."""
    try:
        record = run_transition(
            run=run,
            to_state=to_state,
            reason=reason,
            failure_phase=failure_phase,
            failure_code=failure_code,
            runner_host=runner_host or None,
        )
    except IllegalTransition:
        record = None
    if record is None:
        # Another delivery of the same result (or the sweeper) finished it meanwhile:
        # run_transition re-read the run and found it finished (in this state or another).
        run.refresh_from_db()
        run_record_ignored(
            run=run,
            to_state=run.state,
            reason=f"a result document arrived after the run had {run.state}",
        )
        return False
    Run.objects.filter(pk=run.pk).update(logs=logs)
    run.logs = logs
    return True


class ResultAlreadyInvalidated(Exception):
    """A result an operator invalidated before; the first decision stands."""

    def __init__(self, invalidation: ResultInvalidation) -> None:
        self.invalidation = invalidation
        super().__init__(f"already invalidated on {invalidation.at:%Y-%m-%d %H:%M} UTC: {invalidation.reason}")


def result_invalidate(*, result: Result, by: AbstractBaseUser, reason: str) -> ResultInvalidation:
    """Keep `result` off the ranking for good, saying who decided, when and why.

    Nothing is deleted: the result, its figures and audits stay, and its run page shows them
    below the decision. Raises ValueError for a blank reason, ResultAlreadyInvalidated for a
    result invalidated before.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("give the reason a reader will see next to the result")
    try:
        with transaction.atomic():
            # By id: a refused second decision must leave nothing cached on `result`.
            invalidation = ResultInvalidation.objects.create(result_id=result.pk, by=by, reason=reason)
    except IntegrityError:
        raise ResultAlreadyInvalidated(ResultInvalidation.objects.get(result=result)) from None
    log.warning("result of run %s invalidated by %s: %s", result.run_id, by.get_username(), reason)
    return invalidation


# ---------------------------------------------------------------------------------------
# Periodic sweep


def runs_recover_orphaned(
    *, host: str, hardware_class_name: str, running_run_ids: list[int], now: Any = None
) -> dict[str, int]:
    """Send again the runs a runner says it no longer holds; fail them after MAX_ATTEMPTS.

    A runner's heartbeat lists the runs it is working on. A run that this runner took
    (its host and class), that is not in that list and has not moved for ORPHAN_GRACE_S,
    was lost: the runner was restarted or its worker killed, and the broker did not hand
    the job back (the filesystem broker never does; RabbitMQ and Redis do, and then the
    runner holds it again and it is in the list). The grace covers heartbeats and
    progress reports handled out of order.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=ORPHAN_GRACE_S)
    orphans = Run.objects.filter(
        state__in=Run.RUNNING_STATES,
        runner_host=host,
        hardware_class__name=hardware_class_name,
        updated__lt=cutoff,
    ).exclude(pk__in=running_run_ids)
    counts = {"requeued": 0, "failed": 0}
    for run in orphans:
        outcome = run_requeue_lost(
            run=run,
            lost=f"the runner {host} stopped working on this run while it was {run.state} (restarted or killed)",
        )
        if outcome:
            counts[outcome] += 1
    return counts


def run_requeue_lost(*, run: Run, lost: str) -> str | None:
    """Queue again a run its runner lost (`lost` says how), as a new attempt; fail it after
    MAX_ATTEMPTS. "requeued", "failed", or None when it moved meanwhile.

    A run still queued (its runner had claimed the job but not started it) is dispatched
    again as it is.
    """
    from submissions.tasks import dispatch_run

    try:
        if run.state == Run.QUEUED:
            if Run.objects.filter(pk=run.pk, state=Run.QUEUED).update(dispatched_at=None):
                transaction.on_commit(lambda run_id=run.pk: _send_dispatch(dispatch_run, run_id))
                return "requeued"
            return None
        if run.attempt >= MAX_ATTEMPTS:
            moved = run_transition(
                run=run,
                to_state=FAILED,
                failure_phase=run.state,
                failure_code="runner_lost",
                reason=f"{lost}; it was lost {run.attempt} times, so it is not sent again",
            )
            return "failed" if moved is not None else None
        with transaction.atomic():
            moved = run_transition(
                run=run,
                to_state=Run.QUEUED,
                attempt=run.attempt + 1,
                reason=f"{lost}; queued again as attempt {run.attempt + 1}",
            )
            if moved is None:
                return None
            # The next delivery's first report names its execution (submissions.state).
            Run.objects.filter(pk=run.pk).update(dispatched_at=None, execution="")
            transaction.on_commit(lambda run_id=run.pk: _send_dispatch(dispatch_run, run_id))
        return "requeued"
    except (IllegalTransition, ConcurrentTransition):
        return None  # it moved meanwhile: not lost


def runs_sweep_stuck(*, now: Any = None) -> dict[str, int]:
    """Fail runs whose runner went silent; re-dispatch queued runs that never left.

    A started run reports at each phase; silence longer than its benchmark's limits plus
    a margin means the runner died without its job being redelivered. Queued runs stay
    queued however old (no runner may exist yet: the runners page explains that), except
    that a job never handed to the broker is handed again.
    """
    now = now or timezone.now()
    margin_s = settings.FOOTPRINT_STUCK_RUN_MARGIN_S
    failed = 0
    running = Run.objects.filter(state__in=Run.RUNNING_STATES).select_related("submission__benchmark")
    for run in running:
        silence_s = run.submission.benchmark.longest_silence_s(margin_s=margin_s)
        if run.updated > now - timedelta(seconds=silence_s):
            continue
        try:
            record = run_transition(
                run=run,
                to_state=FAILED,
                reason=(
                    f"the runner stopped reporting: no progress for {silence_s} s while "
                    f"{run.state} (longer than the benchmark's limits allow); its host "
                    f"{run.runner_host or '(unknown)'} may have crashed or lost the broker"
                ),
                failure_phase=run.state,
                failure_code="runner_silent",
            )
        except IllegalTransition:
            continue  # it finished meanwhile
        failed += record is not None

    redispatched = 0
    cutoff = now - timedelta(seconds=settings.FOOTPRINT_REDISPATCH_AFTER_S)
    from submissions.tasks import dispatch_run

    for run_id in Run.objects.filter(state=Run.QUEUED, dispatched_at__isnull=True, created__lt=cutoff).values_list(
        "pk", flat=True
    ):
        _send_dispatch(dispatch_run, run_id)
        redispatched += 1
    return {"failed": failed, "redispatched": redispatched, "lost_dispatches": runs_redispatch_lost(now=now)}


def runs_redispatch_lost(*, now: Any = None, queue_length: Any = None) -> int:
    """Dispatch again the queued runs whose job message is gone from the broker.

    A run handed to the broker that no runner started within FOOTPRINT_REDISPATCH_AFTER_S,
    while its class's queue holds no message at all, lost its message (a broker restarted
    without persistence, a queue deleted): nothing would ever start it. Its dispatch is
    undone and sent again. While the queue holds messages nothing is done: they are
    consumed in order, and which one is missing cannot be told. A message that comes back
    after all runs the job twice; the second result is ignored (the run has finished).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.FOOTPRINT_REDISPATCH_AFTER_S)
    waiting = Run.objects.filter(state=Run.QUEUED, dispatched_at__lt=cutoff).select_related("hardware_class")
    by_queue: dict[str, list[int]] = {}
    for run in waiting:
        by_queue.setdefault(run.hardware_class.queue, []).append(run.pk)
    if not by_queue:
        return 0
    length = queue_length or broker_queue_length
    from submissions.tasks import dispatch_run

    resent = 0
    for queue, run_ids in by_queue.items():
        if length(queue) != 0:
            continue  # messages are waiting (or the broker cannot say): they are not lost
        for run_id in run_ids:
            if Run.objects.filter(pk=run_id, state=Run.QUEUED, dispatched_at__lt=cutoff).update(dispatched_at=None):
                log.warning("run %s: its job message is gone from %s; dispatching it again", run_id, queue)
                _send_dispatch(dispatch_run, run_id)
                resent += 1
    return resent


def broker_queue_length(queue: str) -> int | None:
    """Messages waiting in `queue` (not those a runner holds); None when the broker cannot say.

    A queue that does not exist holds none. Works on every transport Footprint uses (kombu's
    passive declare: RabbitMQ, Redis, the filesystem broker).
    """
    from footprint.celery import app

    try:
        with app.connection_for_write() as conn:
            channel = conn.channel()
            try:
                return int(channel.queue_declare(queue=queue, passive=True).message_count)
            except Exception as exc:  # noqa: BLE001 - NOT_FOUND and its kin differ per transport
                if "NOT_FOUND" in str(exc) or "no queue" in str(exc).lower():
                    return 0
                return None
            finally:
                try:
                    channel.close()
                except Exception:  # noqa: BLE001 - a channel the broker already closed
                    pass
    except Exception:  # noqa: BLE001 - the broker is down: say nothing rather than guess
        log.exception("could not read the length of queue %s", queue)
        return None
