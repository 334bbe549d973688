"""Clients of the API: anonymous, and with a personal token of the owner or of a stranger."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from api.services import api_token_create


def token_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='tests').key}")
    return client


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()


@pytest.fixture
def owner_api(owner: Any) -> APIClient:
    return token_client(owner)


@pytest.fixture
def stranger_api(stranger: Any) -> APIClient:
    return token_client(stranger)


@pytest.fixture
def roomy_throttles(settings: Any) -> None:
    """Throttles that no test of behaviour reaches (the throttle tests set their own)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/h", "user": "100000/h", "uploads": "100000/h"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Each test counts its throttles and rate limits from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
