"""/healthz: the site is up and reaches its database (the compose file's health check)."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse


def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any database error means unhealthy
        return HttpResponse(
            f"the database does not answer: {type(exc).__name__}\n", status=503, content_type="text/plain"
        )
    return HttpResponse("ok\n", content_type="text/plain")
