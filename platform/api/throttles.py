"""DRF throttles whose rates are read from the settings at each request (DRF's own classes read
them once at import, which a deployment's or a test's settings then cannot change).

They count in the default cache, which settings.FOOTPRINT_CACHE_URL makes shared by every
process (the database, or Redis in a deployment). Throttles smooth traffic; quotas, in the
database, are what holds (submissions.quotas).
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class _SettingsRate:
    scope: str | None

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[arg-type]


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    pass


class UserThrottle(_SettingsRate, UserRateThrottle):
    """Authenticated callers only: AnonThrottle counts the others (one count per request)."""

    def get_cache_key(self, request, view) -> str | None:  # type: ignore[no-untyped-def]
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class UploadThrottle(_SettingsRate, SimpleRateThrottle):
    """The `uploads` scope: starting uploads and creating submissions, per user."""

    scope = "uploads"

    def get_cache_key(self, request, view) -> str:  # type: ignore[no-untyped-def]
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
