"""Writes of the API: personal tokens, uploads in pieces, and submissions made from them or
from a registry reference (through submissions.services.submission_create, like the web)."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from api.models import ApiToken, TarballUpload
from benchmarks.models import Benchmark, HardwareClass
from footprint.storage import storage_path
from papers.models import Paper
from submissions.models import Submission
from submissions.quotas import quota_precheck
from submissions.registry import registry_image_check
from submissions.services import submission_create, submission_create_from_tarball
from submissions.uploads import (
    InvalidImageTarball,
    TarballPieceRefused,
    inspect_image_tarball,
    sha256_file,
    store_tarball_file,
    tarball_piece_write,
    upload_max_bytes,
    upload_too_large_reason,
)

log = logging.getLogger(__name__)

TOKEN_PREFIX = "fp_"
# Characters of a token kept in clear to tell tokens apart in lists.
SHOWN_PREFIX_CHARS = 10
# last_used_at is written at most this often per token (not on every request).
LAST_USED_RESOLUTION_S = 60


# ---------------------------------------------------------------------------------------
# Tokens


def _digest(key: str) -> str:
    # A token is 256 random bits: a plain hash is enough (no dictionary to guess from).
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    key: str  # shown once, never stored


def api_token_create(*, user: AbstractBaseUser, name: str) -> NewToken:
    name = name.strip()
    if not name:
        raise ValueError("give the token a name that says where it is used")
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=key[:SHOWN_PREFIX_CHARS], key_sha256=_digest(key)
    )
    return NewToken(token=token, key=key)


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke at once: the next request with the token is refused (nothing caches it)."""
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        token.refresh_from_db()
    return token


def api_token_authenticate(*, key: str) -> ApiToken | None:
    """The active token with this key, its last use recorded; None for no such token."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_sha256=_digest(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_S:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# ---------------------------------------------------------------------------------------
# Uploads in pieces


class UploadRefused(ValueError):
    def __init__(self, reason: str, *, code: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.status = status


def tarball_upload_begin(*, owner: AbstractBaseUser, size_bytes: int, sha256: str = "") -> TarballUpload:
    """Start an upload of `size_bytes` (within the upload limit, and the owner's quota)."""
    if size_bytes > upload_max_bytes():
        raise UploadRefused(upload_too_large_reason(upload_max_bytes()), code="too_large", status=413)
    quota_precheck(user=owner)
    name = f"uploads/{secrets.token_hex(16)}.part"
    path = storage_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    return TarballUpload.objects.create(owner=owner, size_bytes=size_bytes, declared_sha256=sha256.lower(), path=name)


def tarball_upload_append(*, upload: TarballUpload, offset: int, stream: IO[bytes]) -> TarballUpload:
    """Append a piece at `offset`, which must be the upload's offset (else 409, saying it)."""
    if upload.consumed_at is not None:
        raise UploadRefused("this upload was made into a submission already", code="upload_consumed", status=409)
    path = storage_path(upload.path)
    with open(path, "r+b") as lock:
        try:
            # One writer per upload: a second request at the same time is refused, not interleaved.
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadRefused(
                "another request is writing to this upload now", code="upload_busy", status=409
            ) from None
        upload.refresh_from_db()
        if offset != upload.offset_bytes:
            raise UploadRefused(
                f"this upload is at offset {upload.offset_bytes}, not {offset}; continue from there "
                "(HEAD the upload to read its Upload-Offset)",
                code="offset_mismatch",
                status=409,
            )
        try:
            tarball_piece_write(path=path, offset=offset, stream=stream, total_bytes=upload.size_bytes)
        except TarballPieceRefused as exc:
            raise UploadRefused(exc.reason, code=exc.code, status=413 if exc.code == "too_large" else 400) from None
        finally:
            # What arrived stays, whether the piece ended, was refused or broke off.
            TarballUpload.objects.filter(pk=upload.pk).update(
                offset_bytes=min(os.path.getsize(path), upload.size_bytes), updated=timezone.now()
            )
    upload.refresh_from_db()
    return upload


# ---------------------------------------------------------------------------------------
# Submissions


@dataclass(frozen=True)
class SubmissionDraft:
    """What a submission says about itself, whatever carries its image."""

    owner: AbstractBaseUser
    benchmark: Benchmark
    name: str
    description: str
    division: str
    hardware_classes: list[HardwareClass] | None
    paper: Paper | None


def _created(
    draft: SubmissionDraft, *, create: Callable[..., Submission] = submission_create, **image: Any
) -> Submission:
    """The submission made by `create` (a submissions service) from the draft and the image,
    linked to the draft's paper in the same transaction."""
    with transaction.atomic():
        submission = create(
            owner=draft.owner,
            benchmark=draft.benchmark,
            name=draft.name,
            description=draft.description,
            division=draft.division,
            hardware_classes=draft.hardware_classes,
            **image,
        )
        if draft.paper is not None:
            draft.paper.submissions.add(submission)
    return submission


def submission_create_from_upload(*, draft: SubmissionDraft, upload: TarballUpload) -> Submission:
    """Check a complete upload (digest, tarball) and make it a submission.

    A refusal by the quota leaves the upload as it is, to be used again once the quota frees.
    """
    if upload.consumed_at is not None:
        raise UploadRefused("this upload was made into a submission already", code="upload_consumed", status=409)
    if not upload.complete:
        raise UploadRefused(
            f"this upload has {upload.offset_bytes} of its {upload.size_bytes} bytes; send the rest first",
            code="upload_incomplete",
            status=409,
        )
    path = storage_path(upload.path)
    digest = sha256_file(path)
    if upload.declared_sha256 and digest != upload.declared_sha256:
        raise UploadRefused(
            f"the uploaded bytes hash to sha256:{digest}, not the sha256:{upload.declared_sha256} declared; "
            "the file changed or a piece was damaged: begin a new upload",
            code="digest_mismatch",
        )
    try:
        image = inspect_image_tarball(path, sha256=digest)
    except InvalidImageTarball as exc:
        raise UploadRefused(exc.reason, code="invalid_tarball") from None
    try:
        stored = store_tarball_file(path)  # without the names docker load would apply
    except InvalidImageTarball as exc:
        raise UploadRefused(exc.reason, code="invalid_tarball") from None
    final_path = storage_path(stored.path_relative)
    try:
        submission = _created(
            draft,
            image_id=image.image_id,
            tarball_path=stored.path_relative,
            tarball_sha256=stored.sha256,
            size_bytes=stored.size_bytes,
        )
    except BaseException:
        final_path.unlink(missing_ok=True)
        raise
    TarballUpload.objects.filter(pk=upload.pk).update(consumed_at=timezone.now())
    path.unlink(missing_ok=True)
    return submission


def submission_create_from_file(*, draft: SubmissionDraft, uploaded: Any) -> Submission:
    """A small tarball sent in one multipart request (streamed, capped and hashed by
    submissions.uploads' handler, like the web upload's)."""
    path = getattr(uploaded, "temporary_file_path", None)
    if path is None:
        raise UploadRefused("the upload did not reach the server as a file; try again", code="not_on_disk")
    try:
        image = inspect_image_tarball(path(), sha256=getattr(uploaded, "sha256", None) or None)
    except InvalidImageTarball as exc:
        raise UploadRefused(exc.reason, code="invalid_tarball") from None
    return _created(draft, create=submission_create_from_tarball, uploaded=uploaded, image=image)


def submission_create_from_reference(*, draft: SubmissionDraft, reference: str) -> Submission:
    """Check a registry reference with its registry (submissions.registry) and record it."""
    quota_precheck(user=draft.owner)
    image = registry_image_check(reference)
    return _created(draft, image_id=image.image_id, image_reference=image.reference)


def tarball_uploads_expire(*, idle_s: int, now: Any = None) -> int:
    """Remove uploads nobody wrote to for `idle_s` seconds and no submission took (their
    files first); the number removed. Consumed uploads keep their row, without a file."""
    from datetime import timedelta

    now = now or timezone.now()
    stale = TarballUpload.objects.filter(consumed_at__isnull=True, updated__lt=now - timedelta(seconds=idle_s))
    removed = 0
    for upload in stale:
        storage_path(upload.path).unlink(missing_ok=True)
        removed += TarballUpload.objects.filter(pk=upload.pk, updated=upload.updated).delete()[0]
    return removed
