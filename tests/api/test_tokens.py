"""Personal API tokens: made on a page or through the API, shown once, kept as a digest,
listed with their last use, and refused at once when revoked."""

from __future__ import annotations

import hashlib

import pytest
from rest_framework.test import APIClient

from api.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_token_made_through_the_api_is_shown_once_and_stored_as_a_digest(owner_api):
    made = owner_api.post("/api/v1/tokens/", {"name": "CI of my paper"}, format="json")
    assert made.status_code == 201
    key = made.json()["token"]
    assert key.startswith("fp_") and len(key) > 40
    stored = ApiToken.objects.get(pk=made.json()["id"])
    assert stored.key_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {
        getattr(stored, f.attname) for f in ApiToken._meta.fields if isinstance(getattr(stored, f.attname), str)
    }
    listed = owner_api.get("/api/v1/tokens/").json()["results"]
    assert "token" not in listed[0] and {t["name"] for t in listed} == {"tests", "CI of my paper"}


def test_a_revoked_token_stops_working_at_once_and_its_last_use_is_kept(owner):
    from api.services import api_token_create

    key = api_token_create(user=owner, name="laptop").key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/me/").json()["username"] == "ada"
    token = ApiToken.objects.get(name="laptop")
    assert token.last_used_at is not None
    assert client.delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    refused = client.get("/api/v1/me/")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert "revoked" in refused.json()["error"]["message"]
    # Even on public endpoints: a bad credential is an error, not anonymity.
    assert client.get("/api/v1/benchmarks/").status_code == 401
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_tokens_are_made_listed_and_revoked_on_a_page(owner_client, owner):
    page = owner_client.post("/account/tokens/", {"name": "from the page"})
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    key = page.context["new_key"]
    assert key.encode() in page.content
    token = ApiToken.objects.get(name="from the page")
    # Shown once: the list shows the prefix only.
    listed = owner_client.get("/account/tokens/")
    assert key.encode() not in listed.content and token.prefix.encode() in listed.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/me/").status_code == 200
    assert owner_client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 302
    assert client.get("/api/v1/me/").status_code == 401


def test_another_users_tokens_are_invisible_and_cannot_be_revoked(owner_api, stranger_api, stranger_client, owner):
    token = ApiToken.objects.get(user=owner)
    assert stranger_api.get(f"/api/v1/tokens/{token.pk}/").status_code == 404
    assert stranger_api.delete(f"/api/v1/tokens/{token.pk}/").status_code == 404
    assert stranger_client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_a_password_makes_a_token_for_the_command_line(owner):
    client = APIClient()
    made = client.post("/api/v1/auth/token/", {"username": "ada", "password": "ada-password-123"}, format="json")
    assert made.status_code == 201
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {made.json()['token']}")
    assert client.get("/api/v1/me/").json()["username"] == "ada"
    wrong = APIClient().post("/api/v1/auth/token/", {"username": "ada", "password": "nope"}, format="json")
    assert wrong.status_code == 401


def test_the_browser_session_works_with_csrf(owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get("/api/v1/me/").status_code == 200
    refused = client.post("/api/v1/tokens/", {"name": "x"}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]
