"""Runner credentials: made by an operator, presented by a runner, revoked at once.

A credential's secret reads `<runner id>.<random>`: the runner knows its own id from it, the
platform finds the row by that name and compares digests (runners.signing.secret_digest) in
constant time. The secret is shown once, when it is made; only its digest is stored.
(Revoking, which also hands the runner's jobs to others, is submissions.claims.)
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from benchmarks.models import HardwareClass, RunnerCredential
from runners.signing import secret_digest, verify

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# last_used is written at most this often per credential (not on every request).
LAST_USED_RESOLUTION_S = 60


class CredentialRefused(Exception):
    """A secret that opens nothing: unknown, malformed or revoked. `code` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class IssuedCredential:
    credential: RunnerCredential
    # Shown once to the operator, never stored.
    secret: str


def runner_credential_create(
    *, name: str, hardware_class: HardwareClass, by: AbstractBaseUser | None = None
) -> IssuedCredential:
    """A new credential for the runner `name` of `hardware_class`, with its secret."""
    if not _NAME.match(name):
        raise ValueError(f"the runner id {name!r} must be lower-case letters, digits and dashes (at most 64)")
    secret = f"{name}.{secrets.token_urlsafe(32)}"
    credential = RunnerCredential.objects.create(
        name=name, hardware_class=hardware_class, secret_digest=secret_digest(secret), created_by=by
    )
    return IssuedCredential(credential=credential, secret=secret)


def runner_credential_rotate(*, credential: RunnerCredential) -> IssuedCredential:
    """A new secret for an existing credential (the old one stops working); revoked ones stay revoked."""
    secret = f"{credential.name}.{secrets.token_urlsafe(32)}"
    RunnerCredential.objects.filter(pk=credential.pk).update(secret_digest=secret_digest(secret))
    credential.refresh_from_db()
    return IssuedCredential(credential=credential, secret=secret)


def runner_credential_for_secret(*, secret: str) -> RunnerCredential:
    """The active credential whose secret this is; CredentialRefused otherwise."""
    name, dot, _ = (secret or "").partition(".")
    credential = (
        RunnerCredential.objects.select_related("hardware_class").filter(name=name).first() if dot and name else None
    )
    if credential is None or not hmac.compare_digest(credential.secret_digest, secret_digest(secret)):
        raise CredentialRefused("credential_unknown", "this runner credential is not one the platform made")
    if not credential.active:
        raise CredentialRefused(
            "credential_revoked",
            f"the runner credential {credential.name} was revoked on {credential.revoked_at:%Y-%m-%d %H:%M} UTC",
        )
    now = timezone.now()
    if credential.last_used is None or (now - credential.last_used).total_seconds() > LAST_USED_RESOLUTION_S:
        RunnerCredential.objects.filter(pk=credential.pk).update(last_used=now)
    return credential


def runner_credential_mark_revoked(*, credential: RunnerCredential, by: AbstractBaseUser | None) -> bool:
    """Revoke; False when it was revoked already (the first decision stands)."""
    with transaction.atomic():
        return bool(
            RunnerCredential.objects.filter(pk=credential.pk, revoked_at__isnull=True).update(
                revoked_at=timezone.now(), revoked_by=by
            )
        )


def runner_credential_for_signed(*, payload: Any, signature: Any, runner_id: Any) -> RunnerCredential:
    """The active credential of `runner_id` that signed `payload` (a heartbeat); CredentialRefused otherwise."""
    credential = RunnerCredential.objects.filter(name=str(runner_id)[:64]).first() if runner_id else None
    if credential is None or not verify(payload, signature, key_digest=credential.secret_digest):
        raise CredentialRefused("signature_invalid", f"not signed by the credential of runner {runner_id!r}")
    if not credential.active:
        raise CredentialRefused("credential_revoked", f"the runner credential {credential.name} was revoked")
    return credential
