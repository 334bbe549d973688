"""The API's one error shape: {"error": {"code", "message", "fields"}} with the HTTP status.

`code` is stable for programs (not_found, invalid, not_authenticated, permission_denied,
throttled, quota_exceeded, conflict, ...), `message` is meant for people, `fields` holds
the messages of each invalid input field (empty when none). 429s carry Retry-After.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from footprint.views import RATE_LIMIT_RETRY_S
from submissions.quotas import QuotaExceeded


class ApiError(exceptions.APIException):
    """An error with a code of ours and an HTTP status."""

    def __init__(self, message: str, *, code: str, status_code: int = status.HTTP_400_BAD_REQUEST) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code


def error_body(*, code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _first_message(fields: dict[str, Any]) -> str:
    for name, messages in fields.items():
        text = messages[0] if isinstance(messages, list) and messages else messages
        if isinstance(text, dict):
            return _first_message(text)
        return str(text) if name == "non_field_errors" else f"{name}: {text}"
    return "the request is not valid"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    request = context.get("request")
    if request is not None and getattr(getattr(request, "accepted_renderer", None), "format", "json") != "json":
        # An error is JSON in the one shape, whatever format (CSV) the request asked for.
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
    if isinstance(exc, QuotaExceeded):
        response = Response(
            error_body(code="quota_exceeded", message=exc.message)
            | {"quota": {"name": exc.quota, "limit": exc.limit, "used": exc.used, "retry_after_s": exc.retry_after_s}},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
        )
        if exc.retry_after_s is not None:
            response["Retry-After"] = str(exc.retry_after_s)
        return response
    if isinstance(exc, Ratelimited):
        return Response(
            error_body(code="rate_limited", message="too many attempts from here in a short time; wait and try again"),
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(RATE_LIMIT_RETRY_S)},
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail) if isinstance(exc.detail, dict) else {"non_field_errors": _flatten(exc.detail)}
        response.data = error_body(code="invalid", message=_first_message(fields), fields=fields)
        return response
    code = getattr(exc, "error_code", None) or (exc.get_codes() if isinstance(exc, exceptions.APIException) else None)
    if not isinstance(code, str):
        code = "error"
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = error_body(code=code, message=str(detail))
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response.data["retry_after_s"] = int(exc.wait) + 1
    return response
