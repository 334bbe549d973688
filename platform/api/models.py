"""Rows of the API: personal tokens, and uploads that arrive in pieces."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A personal API token. Only its sha256 is stored: the token is shown once, when made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="what the token is for, e.g. 'CI of my paper'")
    # The first characters of the token, to tell tokens apart in lists (not enough to use it).
    prefix = models.CharField(max_length=16)
    key_sha256 = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created", "-id")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class TarballUpload(models.Model):
    """An image tarball sent in pieces (PATCH with Upload-Offset), so that a broken upload
    of gigabytes continues where it stopped. The bytes go to a temporary file of the storage
    (never served); a submission made from the upload moves them to their final name."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tarball_uploads")
    size_bytes = models.PositiveBigIntegerField(help_text="the whole tarball's size, declared when the upload starts")
    # The digest the client declared (hex), checked once every byte is there; "" for none.
    declared_sha256 = models.CharField(max_length=64, blank=True)
    offset_bytes = models.PositiveBigIntegerField(default=0)
    # Relative to the storage root, under a random name.
    path = models.CharField(max_length=500)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now)
    # Set once a submission took the bytes; the upload cannot be used again.
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created", "-id")

    def __str__(self) -> str:
        return f"upload {self.pk}: {self.offset_bytes}/{self.size_bytes} bytes"

    @property
    def complete(self) -> bool:
        return self.offset_bytes == self.size_bytes
