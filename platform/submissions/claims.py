"""Runners take jobs, read their files and report them: claims, job tokens, signed reports.

A runner that receives a job from its queue claims it over HTTP with its credential
(`job_claim`): the platform checks that the job is of the runner's class and still to run,
that no other live runner holds it, records who took it, and gives that runner the job's
token. The token opens only that job's files, until it expires (`job_token_for_files`), and
signs the job's progress reports and result, which the platform verifies before it reads
them (`report_signer`): a broker client cannot report a run it was not given, and a runner
whose credential was revoked cannot report at all.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import SuspiciousFileOperation
from django.db import transaction
from django.utils import timezone

from benchmarks.credentials import runner_credential_mark_revoked
from benchmarks.models import RunnerCredential, RunnerStatus
from benchmarks.selectors import runners_reported_after
from benchmarks.services import DATA_FILES
from footprint.storage import storage_path
from runners.signing import secret_digest, verify
from submissions.models import JobToken, Run
from submissions.state import run_record_ignored

log = logging.getLogger(__name__)

# The names under which a job's files are served (runner-api/v1/runs/<id>/files/<name>).
SUBMISSION_FILE = "submission.tar"
BENCHMARK_PREFIX = "benchmark/"


class Refused(Exception):
    """What the platform answers a runner that may not do what it asked; `status` is HTTP's."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Claimed:
    token: JobToken
    secret: str  # given to the runner once, never stored


def token_lifetime(run: Run) -> timedelta:
    """A token lives as long as the job may: its benchmark's limits plus the stuck-run margin."""
    benchmark = run.submission.benchmark
    return timedelta(seconds=benchmark.longest_silence_s(margin_s=settings.FOOTPRINT_STUCK_RUN_MARGIN_S))


def _holder_alive(token: JobToken, *, now: datetime) -> bool:
    """Whether the runner that holds `token` is still working on its job.

    Alive: its credential is active, the token has not expired, and it has reported since;
    either no heartbeat came after the claim yet, or the last one lists the run.
    """
    if not token.credential.active or token.expires_at <= now:
        return False
    status = (
        RunnerStatus.objects.filter(runner_id=token.credential.name, hardware_class_name=token.run.hardware_class.name)
        .order_by("-last_seen")
        .first()
    )
    if status is None:
        return token.created >= runners_reported_after(now=now)
    if status.last_seen < runners_reported_after(now=now):
        return False
    return status.last_seen <= token.created or token.run_id in (status.running or [])


def job_claim(*, credential: RunnerCredential, run_id: int, attempt: Any, execution: str) -> Claimed:
    """Give `credential`'s runner the token of one attempt of a run; Refused says why not.

    The run's row is locked while it is decided: of two runners claiming one job at once,
    one gets it and the other is told that it is held.
    """
    now = timezone.now()
    try:
        return _claim(credential=credential, run_id=run_id, attempt=attempt, execution=execution, now=now)
    except Refused as exc:
        if exc.code == "run_finished":
            # Recorded after the claim's transaction, which the refusal rolled back.
            run = Run.objects.get(pk=run_id)
            run_record_ignored(
                run=run,
                to_state=run.state,
                reason=f"the runner {credential.name} was given the job again after the run had {run.state}; "
                "it was told not to run it",
            )
        raise


def _claim(*, credential: RunnerCredential, run_id: int, attempt: Any, execution: str, now: datetime) -> Claimed:
    with transaction.atomic():
        run = (
            Run.objects.select_for_update(of=("self",))
            .select_related("submission__benchmark", "hardware_class")
            .filter(pk=run_id)
            .first()
        )
        if run is None:
            raise Refused(404, "run_unknown", f"there is no run {run_id}")
        if run.hardware_class_id != credential.hardware_class_id:
            raise Refused(
                403,
                "wrong_hardware_class",
                f"run {run.pk} is for {run.hardware_class.name}; this runner's credential is for "
                f"{credential.hardware_class.name}",
            )
        if run.is_terminal:
            raise Refused(410, "run_finished", f"run {run.pk} has {run.state}: there is nothing to run")
        if attempt != run.attempt:
            raise Refused(409, "stale_attempt", f"run {run.pk} is at attempt {run.attempt}, not {attempt}")
        current = (
            run.tokens.select_related("credential", "run__hardware_class")
            .filter(attempt=attempt, superseded_at__isnull=True)
            .first()
        )
        if current is not None and current.credential_id != credential.pk and _holder_alive(current, now=now):
            raise Refused(
                409,
                "held_by_another_runner",
                f"run {run.pk} is being measured by the runner {current.credential.name}",
            )
        if current is not None:
            JobToken.objects.filter(pk=current.pk).update(superseded_at=now)
        secret = secrets.token_urlsafe(32)
        token = JobToken.objects.create(
            run=run,
            attempt=attempt,
            credential=credential,
            execution=str(execution or "")[:64],
            secret_digest=secret_digest(secret),
            created=now,
            expires_at=now + token_lifetime(run),
        )
        # The runner's id, not its host's name: the heartbeat of this runner lists its runs.
        Run.objects.filter(pk=run.pk).update(runner_host=credential.name)
    log.info("run %s attempt %s taken by the runner %s", run.pk, attempt, credential.name)
    return Claimed(token=token, secret=secret)


def job_token_for_files(*, secret: str, run_id: int) -> JobToken:
    """The live token with this secret for run `run_id`; Refused otherwise."""
    token = (
        JobToken.objects.select_related("credential", "run__submission__benchmark")
        .filter(secret_digest=secret_digest(secret or ""))
        .first()
    )
    if token is None or token.run_id != run_id:
        raise Refused(403, "token_refused", "this token opens no file of this run")
    if not token.credential.active:
        raise Refused(403, "credential_revoked", f"the runner credential {token.credential.name} was revoked")
    if token.superseded_at is not None:
        raise Refused(403, "token_superseded", "another runner took this job over; this token opens nothing")
    if token.expires_at <= timezone.now():
        raise Refused(403, "token_expired", f"this token expired at {token.expires_at:%Y-%m-%d %H:%M} UTC")
    return token


def job_file_path(*, token: JobToken, name: str) -> Path:
    """The stored file `name` of the token's job: the submission's tarball or a benchmark file."""
    run = token.run
    try:
        if name == SUBMISSION_FILE and run.submission.tarball_path:  # none for a registry reference
            return storage_path(run.submission.tarball_path)
        if name.startswith(BENCHMARK_PREFIX) and name.removeprefix(BENCHMARK_PREFIX) in DATA_FILES:
            return storage_path(f"{run.submission.benchmark.data_dir}/{name.removeprefix(BENCHMARK_PREFIX)}")
    except SuspiciousFileOperation:
        pass
    raise Refused(404, "file_unknown", f"the job of run {run.pk} has no file {name!r}")


# ---------------------------------------------------------------------------------------
# Signed reports


def report_signer(*, run_id: Any, attempt: Any, payload: Any, signature: Any) -> JobToken:
    """The token that signed a report of (run_id, attempt); Refused otherwise.

    A runner whose credential was revoked is refused with its report recorded on the run
    (operators see what it tried); every other refusal is only logged, since anyone who can
    publish on the broker could make it.
    """
    key = signature.get("key") if isinstance(signature, dict) else None
    if not isinstance(key, int) or isinstance(key, bool):
        raise Refused(401, "unsigned", f"a report for run {run_id!r} without a job token's signature")
    token = JobToken.objects.select_related("credential", "run").filter(pk=key).first()
    if token is None or token.run_id != run_id or token.attempt != attempt:
        raise Refused(403, "not_given", f"a report for run {run_id!r} signed with a token of another job")
    if not verify(payload, signature, key_digest=token.secret_digest):
        raise Refused(403, "signature_invalid", f"a report for run {run_id!r} whose signature does not match")
    if not token.credential.active:
        run_record_ignored(
            run=token.run,
            to_state=token.run.state,
            reason=f"refused a report of the runner {token.credential.name}: its credential was revoked",
        )
        raise Refused(403, "credential_revoked", f"the runner credential {token.credential.name} was revoked")
    if token.superseded_at is not None:
        run_record_ignored(
            run=token.run,
            to_state=token.run.state,
            reason=f"refused a report of the runner {token.credential.name}: another runner took the job over",
        )
        raise Refused(403, "token_superseded", "another runner took this job over")
    if token.expires_at <= timezone.now():
        raise Refused(403, "token_expired", f"a report for run {run_id} signed with a token that expired")
    return token


# ---------------------------------------------------------------------------------------
# Revocation


def runner_credential_revoke(*, credential: RunnerCredential, by: AbstractBaseUser | None) -> dict[str, int]:
    """Revoke a runner's credential and hand the runs it held to the other runners of its class.

    From now on the runner can claim nothing, fetch nothing and report nothing. A run it was
    measuring is queued again as a new attempt (submissions.services.run_requeue_lost); what
    it sends about it later is refused.
    """
    from submissions.services import run_requeue_lost

    if not runner_credential_mark_revoked(credential=credential, by=by):
        return {"requeued": 0, "failed": 0}
    log.warning("runner credential %s revoked by %s", credential.name, by.get_username() if by else "a command")
    counts = {"requeued": 0, "failed": 0}
    held = Run.objects.filter(
        state__in=Run.ACTIVE_STATES,
        tokens__credential=credential,
        tokens__superseded_at__isnull=True,
    ).distinct()
    for run in held:
        if not run.tokens.filter(credential=credential, attempt=run.attempt, superseded_at__isnull=True).exists():
            continue
        outcome = run_requeue_lost(
            run=run, lost=f"the credential of the runner {credential.name}, which was measuring it, was revoked"
        )
        if outcome:
            counts[outcome] += 1
    return counts
