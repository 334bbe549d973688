"""Reports signed as a runner signs them (runners.signing): the tasks read nothing unsigned.

signed_progress(run, 1, "staging", "go") -> the arguments of footprint.run_progress, signed
with a job token of the runner "runner-a" (credential and token made on first use);
signed_result(document) and signed_heartbeat(status) likewise.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.utils import timezone

from benchmarks.credentials import runner_credential_create
from benchmarks.models import HardwareClass, RunnerCredential
from runners.signing import progress_payload, secret_digest, sign
from submissions.models import JobToken, Run

# The secrets of the credentials and tokens made here, by their digest.
_SECRETS: dict[str, str] = {}


def runner_credential(
    *, name: str = "runner-a", hardware_class: HardwareClass | None = None
) -> tuple[RunnerCredential, str]:
    """The credential of the test runner `name` and its secret (made once per test database)."""
    credential = RunnerCredential.objects.filter(name=name).first()
    if credential is not None and credential.secret_digest in _SECRETS:
        return credential, _SECRETS[credential.secret_digest]
    if credential is not None:
        credential.delete()
    hardware_class = hardware_class or HardwareClass.objects.order_by("pk").first()
    if hardware_class is None:
        hardware_class = HardwareClass.objects.create(name="signing-class", cpuset="0")
    issued = runner_credential_create(name=name, hardware_class=hardware_class)
    _SECRETS[issued.credential.secret_digest] = issued.secret
    return issued.credential, issued.secret


def job_token(run: Run, *, attempt: int = 1, runner: str = "runner-a") -> tuple[JobToken, str]:
    """A live token of `runner` for (run, attempt), as a claim would make it."""
    credential, _ = runner_credential(name=runner, hardware_class=run.hardware_class)
    for token in JobToken.objects.filter(run=run, attempt=attempt, credential=credential, superseded_at__isnull=True):
        if token.secret_digest in _SECRETS:
            return token, _SECRETS[token.secret_digest]
    secret = secrets.token_urlsafe(16)
    token = JobToken.objects.create(
        run=run,
        attempt=attempt,
        credential=credential,
        secret_digest=secret_digest(secret),
        expires_at=timezone.now() + timedelta(hours=1),
    )
    _SECRETS[token.secret_digest] = secret
    return token, secret


def signed_progress(
    run: Run,
    attempt: int,
    state: str,
    reason: str,
    host: str | None = None,
    execution: str | None = None,
    *,
    runner: str | None = None,
) -> list[Any]:
    token, secret = job_token(run, attempt=attempt, runner=runner or "runner-a")
    args = progress_payload(run.pk, attempt, state, reason, host, execution)
    return [*args, sign(args, secret=secret, key_id=token.pk)]


def signed_result(document: dict, *, runner: str = "runner-a") -> list[Any]:
    run = Run.objects.get(pk=document["run_id"])
    token, secret = job_token(run, attempt=document.get("attempt", 1), runner=runner)
    return [document, sign(document, secret=secret, key_id=token.pk)]


def signed_heartbeat(status: dict) -> list[Any]:
    name = str(status.get("runner_id") or status.get("host") or "runner-a")
    credential, secret = runner_credential(
        name=name, hardware_class=HardwareClass.objects.filter(name=status.get("hardware_class")).first()
    )
    status = {**status, "runner_id": credential.name}
    return [status, sign(status, secret=secret, key_id=credential.name)]
