"""Sign-up, log in and log out: a researcher can get an account and submit."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_creates_an_account_and_logs_in(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {
            "username": "barbara",
            "email": "b@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/submissions/new/"
    assert get_user_model().objects.filter(username="barbara").exists()
    assert client.get("/submissions/new/").status_code == 200


def test_it_refuses_mismatched_passwords_with_the_reason(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {
            "username": "barbara",
            "email": "b@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "other-passphrase-42",
        },
    )
    assert response.status_code == 400
    assert "The two password fields didn" in response.content.decode()
    assert not get_user_model().objects.filter(username="barbara").exists()


def test_it_ignores_a_next_url_to_another_site(client: Client) -> None:
    response = client.post(
        "/accounts/signup/?next=https://evil.example/",
        {
            "username": "barbara",
            "email": "b@example.org",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response["Location"] == "/submissions/new/"


def test_log_in_and_log_out(client: Client, owner) -> None:
    response = client.post("/accounts/login/", {"username": "ada", "password": "ada-password-123"})
    assert response.status_code == 302
    assert "Log out" in client.get("/").content.decode()
    assert client.post("/accounts/logout/").status_code == 302
    assert "Log in" in client.get("/").content.decode()


def test_a_wrong_password_says_so(client: Client, owner) -> None:
    response = client.post("/accounts/login/", {"username": "ada", "password": "wrong"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


def test_sign_up_asks_for_an_email_address_where_a_reset_link_can_go(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {"username": "barbara", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )
    assert response.status_code == 400
    assert 'for="id_email"' in response.content.decode()
    assert not get_user_model().objects.filter(username="barbara").exists()
