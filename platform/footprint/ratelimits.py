"""Rate limits of sign-up, login and upload (django-ratelimit), read from the settings when
a request is counted, so that a deployment and a test can set them."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


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
