"""Signatures of what a runner sends through the broker, and the secrets behind them.

A runner holds two secrets: its **credential** (an operator made it in the admin; it names the
runner) and, for each job it claimed, that **job's token** (the platform gave it at the claim,
runners/platform_client.py). Each report travels with a signature: an HMAC-SHA256 of the
report's canonical JSON, keyed by the secret's digest. The platform stores only digests, so
it can verify a report and check a secret a runner presents without keeping the secret
itself. A progress report or a result is signed with the job's token, so that a runner can
report only the jobs it was given; a heartbeat with the credential.

The platform imports this module (a contract module, like runners.broker); it imports
nothing but the standard library.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any


def secret_digest(secret: str) -> str:
    """The digest the platform keeps of a secret: a credential's or a job token's."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def canonical_json(payload: Any) -> bytes:
    """One byte string per JSON value, whatever the key order or spacing it was sent with."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def signature(payload: Any, *, key_digest: str) -> str:
    return hmac.new(key_digest.encode("ascii"), canonical_json(payload), hashlib.sha256).hexdigest()


def sign(payload: Any, *, secret: str, key_id: int | str) -> dict[str, Any]:
    """The signature block sent next to `payload`: which key signed it, and the HMAC."""
    return {"key": key_id, "hmac": signature(payload, key_digest=secret_digest(secret))}


def verify(payload: Any, block: Any, *, key_digest: str) -> bool:
    """Whether `block` (from sign) is `payload` signed with the secret whose digest is given."""
    if not isinstance(block, dict) or not isinstance(block.get("hmac"), str):
        return False
    try:
        expected = signature(payload, key_digest=key_digest)
    except (TypeError, ValueError):  # not JSON (NaN, a set...): nothing a runner signed
        return False
    return hmac.compare_digest(expected, block["hmac"])


def progress_payload(run_id: Any, attempt: Any, state: Any, reason: Any, host: Any, execution: Any) -> list[Any]:
    """What a progress report's signature covers: every argument of footprint.run_progress."""
    return [run_id, attempt, state, reason, host, execution]
