"""Rate limits of sign-up, login and upload (django-ratelimit), read from the settings when
a request is counted, so that a deployment and a test can set them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited

# One count for every path an image tarball comes in by: the web form, an API upload in
# pieces, an API multipart submission.
UPLOAD_GROUP = "upload"


def signup_rate(group: str, request: HttpRequest) -> str:
    return settings.FOOTPRINT_RATE_SIGNUP


def login_rate(group: str, request: HttpRequest) -> str:
    return settings.FOOTPRINT_RATE_LOGIN


def upload_rate(group: str, request: HttpRequest) -> str:
    return settings.FOOTPRINT_RATE_UPLOAD


def client_address(group: str, request: HttpRequest) -> str:
    """The key of per-address limits: the peer's address (a proxy in front sets it, with
    RATELIMIT_IP_META_KEY naming its header); "" for a caller without one (a WSGI client)."""
    return request.META.get("REMOTE_ADDR", "")


def upload_count(request: Any) -> None:
    """Count an upload against the user's upload rate; Ratelimited (a 429) past it."""
    # The same method as the web form's decorator: django-ratelimit keys its counts by it.
    if is_ratelimited(request, group=UPLOAD_GROUP, key="user", rate=upload_rate, method="POST", increment=True):
        raise Ratelimited()
