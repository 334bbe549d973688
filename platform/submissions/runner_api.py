"""The runners' HTTP API (runner-api/v1/): who a runner is, claiming a job, a job's files.

Runners authenticate with a bearer secret: their credential for `runner` and `claim`, the
job's token for its files. Thin views: each parses the request, calls one function of
benchmarks.credentials or submissions.claims, and shapes the answer; a refusal is JSON
`{"error": {"code", "message"}}` with its HTTP status. No cookie, so no CSRF.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from benchmarks.credentials import CredentialRefused, runner_credential_for_secret
from benchmarks.models import RunnerCredential
from submissions.claims import Refused, job_claim, job_file_path, job_token_for_files


def _bearer(request: HttpRequest) -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _credential(request: HttpRequest) -> RunnerCredential:
    try:
        return runner_credential_for_secret(secret=_bearer(request))
    except CredentialRefused as exc:
        raise Refused(401 if exc.code == "credential_unknown" else 403, exc.code, exc.message) from None


def _answers(view):
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Refused as exc:
            return _error(exc.status, exc.code, exc.message)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@require_GET
@_answers
def runner_identity(request: HttpRequest) -> HttpResponse:
    """The runner the credential names, its class, and the runtime image job specs name."""
    credential = _credential(request)
    return JsonResponse(
        {
            "runner": credential.name,
            "hardware_class": credential.hardware_class.name,
            "runtime_image": settings.FOOTPRINT_RUNTIME_IMAGE,
            "key": credential.pk,
        }
    )


@csrf_exempt
@require_POST
@_answers
def run_claim(request: HttpRequest, run_id: int) -> HttpResponse:
    credential = _credential(request)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _error(400, "invalid_request", "the claim's body is not JSON")
    if not isinstance(body, dict) or not isinstance(body.get("attempt"), int):
        return _error(400, "invalid_request", 'a claim names the attempt: {"attempt": 1, "execution": "..."}')
    claimed = job_claim(
        credential=credential, run_id=run_id, attempt=body["attempt"], execution=str(body.get("execution") or "")
    )
    return JsonResponse(
        {"token_id": claimed.token.pk, "token": claimed.secret, "expires_at": claimed.token.expires_at.isoformat()}
    )


@require_GET
@_answers
def run_file(request: HttpRequest, run_id: int, name: str) -> HttpResponse:
    token = job_token_for_files(secret=_bearer(request), run_id=run_id)
    stored = job_file_path(token=token, name=name)
    try:
        handle = open(stored, "rb")
    except FileNotFoundError:
        return _error(404, "file_missing", f"the stored file {name} of run {run_id} is missing on the platform")
    # Never rendered by a browser: a download of bytes the runner checks against their sha256.
    response = FileResponse(handle, content_type="application/octet-stream")
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("runner-api/v1/runner", runner_identity, name="runner-api-identity"),
    path("runner-api/v1/runs/<int:run_id>/claim", run_claim, name="runner-api-claim"),
    path("runner-api/v1/runs/<int:run_id>/files/<path:name>", run_file, name="runner-api-file"),
]
