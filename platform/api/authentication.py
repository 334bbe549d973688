"""Personal API tokens in the Authorization header: `Bearer fp_...` (or `Token fp_...`)."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from api.services import api_token_authenticate

KEYWORDS = (b"bearer", b"token")


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("this API token is not valid") from None
        token = api_token_authenticate(key=key)
        if token is None:
            raise AuthenticationFailed("this API token is not valid, or it was revoked")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # A 401 (not a 403) for requests without credentials, saying how to send them.
        return 'Bearer realm="api"'
