"""What a runner asks the platform over HTTP(S): who it is, a job's token, a job's files.

A runner host has no database credentials and no access to the platform's storage. It holds
a runner credential (made by an operator in the admin) and the platform's URL:

- `whoami()` — the credential is valid, which runner and hardware class it names, and the
  runtime image the platform pins;
- `claim(run_id, attempt)` — takes a job: the platform records which runner took it and
  answers with that job's token, which expires and opens only that job's files;
- `fetch(url, sha256)` — one of the job's files, with the token, checked against the sha256
  the job spec names and kept in a cache by hash (a benchmark's files are fetched once per
  host, not once per job).

Only the platform's own origin ever sees a credential or a token.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

API_PREFIX = "/runner-api/v1"
REQUEST_TIMEOUT_S = 60.0
CHUNK_BYTES = 1 << 20
# What the cache of fetched files may hold before the least recently used go.
DEFAULT_CACHE_BYTES = 20 * 2**30


class PlatformError(Exception):
    """The platform refused or could not answer; `status` is the HTTP status (0: no answer)."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.status, self.code, self.reason = status, code, reason

    @property
    def credential_refused(self) -> bool:
        return self.status in (401, 403) and self.code in ("credential_unknown", "credential_revoked")


@dataclass(frozen=True)
class JobToken:
    token_id: int
    secret: str
    expires_at: str


@dataclass(frozen=True)
class RunnerIdentity:
    runner_id: str
    hardware_class: str
    # The runtime image the platform names in its job specs (an id in a deployment).
    runtime_image: str
    credential_key: int


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class PlatformClient:
    def __init__(self, base_url: str, credential: str, *, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError(f"FOOTPRINT_PLATFORM_URL={base_url!r}: expected http(s)://host[:port]")
        self.base_url = base_url.rstrip("/")
        self.credential = credential
        self.timeout_s = timeout_s

    # -- requests ---------------------------------------------------------------------------

    def _open(self, url: str, *, bearer: str, data: dict | None = None) -> Any:
        if origin(url) != origin(self.base_url):
            raise PlatformError(
                0,
                "foreign_location",
                f"{url} is not on the platform this runner talks to ({self.base_url}); it sends its "
                "secrets nowhere else (set FOOTPRINT_RUNNER_FILES_URL on the platform to the URL runners use)",
            )
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
        request.add_header("Authorization", f"Bearer {bearer}")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        try:
            return urllib.request.urlopen(request, timeout=self.timeout_s)  # noqa: S310 - http(s) only, checked
        except urllib.error.HTTPError as exc:
            raise _refusal(exc) from None
        except (OSError, urllib.error.URLError) as exc:
            raise PlatformError(0, "platform_unreachable", f"the platform at {self.base_url} did not answer: {exc}")

    def _json(self, path: str, *, bearer: str, data: dict | None = None) -> dict[str, Any]:
        with self._open(self.base_url + API_PREFIX + path, bearer=bearer, data=data) as response:
            return json.loads(response.read(1 << 20))

    def whoami(self) -> RunnerIdentity:
        answer = self._json("/runner", bearer=self.credential)
        return RunnerIdentity(
            runner_id=str(answer["runner"]),
            hardware_class=str(answer["hardware_class"]),
            runtime_image=str(answer.get("runtime_image") or ""),
            credential_key=int(answer["key"]),
        )

    def claim(self, *, run_id: int, attempt: int, execution: str) -> JobToken:
        answer = self._json(
            f"/runs/{int(run_id)}/claim", bearer=self.credential, data={"attempt": attempt, "execution": execution}
        )
        return JobToken(token_id=int(answer["token_id"]), secret=str(answer["token"]), expires_at=answer["expires_at"])

    # -- files ------------------------------------------------------------------------------

    def fetch(self, url: str, *, sha256: str, token: JobToken, cache_dir: Path) -> Path:
        """The file at `url` whose content has this sha256, from the cache or downloaded."""
        cache_dir.mkdir(parents=True, exist_ok=True)
        cached = cache_dir / sha256
        if cached.is_file():
            os.utime(cached)  # recently used: the last to be evicted
            return cached
        partial = cache_dir / f".{sha256}.{secrets.token_hex(4)}.partial"
        digest = hashlib.sha256()
        started = time.monotonic()
        size = 0
        try:
            with self._open(url, bearer=token.secret) as response, open(partial, "wb") as out:
                for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            if digest.hexdigest() != sha256:
                raise PlatformError(
                    0,
                    "checksum_mismatch",
                    f"{url} has sha256 {digest.hexdigest()}, not the {sha256} the job names: not used",
                )
            partial.chmod(0o644)
            os.replace(partial, cached)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        log.info("fetched %s (%d bytes) in %.1f s", url, size, time.monotonic() - started)
        return cached


def _refusal(exc: urllib.error.HTTPError) -> PlatformError:
    try:
        answer = json.loads(exc.read(1 << 16))
        error = answer.get("error", {}) if isinstance(answer, dict) else {}
        return PlatformError(exc.code, str(error.get("code") or "refused"), str(error.get("message") or exc.reason))
    except (ValueError, OSError):
        return PlatformError(exc.code, "refused", f"HTTP {exc.code} {exc.reason}")


def prune_cache(cache_dir: Path, *, max_bytes: int = DEFAULT_CACHE_BYTES, keep: set[str] = frozenset()) -> list[str]:
    """Remove the least recently used cached files until the cache holds at most max_bytes."""
    try:
        entries = [(p.stat().st_mtime, p.stat().st_size, p) for p in cache_dir.iterdir() if p.is_file()]
    except OSError:
        return []
    total = sum(size for _, size, _ in entries)
    removed = []
    for _, size, path in sorted(entries, key=lambda entry: entry[0]):
        if total <= max_bytes:
            break
        if path.name in keep:
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        total -= size
        removed.append(path.name)
    return removed
