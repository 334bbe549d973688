"""Celery entry points of the API app."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from api.services import tarball_uploads_expire

log = logging.getLogger(__name__)


@shared_task(name="footprint.expire_uploads")
def expire_uploads() -> int:
    removed = tarball_uploads_expire(idle_s=settings.FOOTPRINT_UPLOAD_EXPIRY_S)
    if removed:
        log.info("removed %s uploads left unfinished for %s s", removed, settings.FOOTPRINT_UPLOAD_EXPIRY_S)
    return removed
