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
