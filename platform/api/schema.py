"""The OpenAPI schema's shared parts: the one error shape, documented on every operation."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "stable, for programs: not_found, invalid, quota_exceeded…"},
                "message": {"type": "string", "description": "for people"},
                "fields": {"type": "object", "description": "the messages of each invalid input field"},
            },
        },
        "retry_after_s": {"type": "integer", "description": "429s: seconds until a throttle lets the next through"},
        "quota": {"type": "object", "description": "429s of a quota: its name, limit, use and when it frees"},
    },
}
ERRORS = {
    "400": "the request is not valid (fields says which inputs)",
    "401": "no credentials, or a token that is not valid or was revoked",
    "403": "not yours to change, or hidden",
    "404": "no such object, or one you may not see",
    "409": "the object is not in a state that allows this",
    "413": "larger than the upload limit",
    "415": "unsupported media type",
    "429": "throttled, rate limited or over a quota: Retry-After says when to try again",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the error shape for every error status of every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete", "head", "options"):
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                        **(
                            {"headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}}
                            if code == "429"
                            else {}
                        ),
                    },
                )
    return result


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Personal API tokens in the schema: `Authorization: Bearer fp_...`."""

    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "a personal API token, made on /account/tokens/ or with POST /api/v1/auth/token/",
        }
