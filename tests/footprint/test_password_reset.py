"""Password reset by email: the link in the mail sets a new password, once."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_embedded_default_prints_mails_on_the_console(settings) -> None:
    from footprint import settings as footprint_settings

    assert footprint_settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"


def test_a_reset_link_is_mailed_and_sets_a_new_password_once(client: Client, owner) -> None:
    owner.email = "ada@example.org"
    owner.save()
    response = client.post("/accounts/password/reset/", {"email": "ada@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    [message] = mail.outbox
    assert message.to == ["ada@example.org"] and "ada" in message.body
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    # The first visit trades the token for a session-bound form (Django hides the token from the URL).
    form_url = client.get(link)["Location"]
    page = client.get(form_url)
    assert 'id="password-set"' in page.content.decode() and 'for="id_new_password1"' in page.content.decode()
    done = client.post(form_url, {"new_password1": "brand-new-passphrase-7", "new_password2": "brand-new-passphrase-7"})
    assert done["Location"] == "/accounts/password/reset/done/"
    assert get_user_model().objects.get(pk=owner.pk).check_password("brand-new-passphrase-7")
    assert 'id="reset-invalid"' in client.get(link, follow=True).content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client: Client, owner) -> None:
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_the_login_page_links_the_reset(client: Client) -> None:
    assert 'href="/accounts/password/reset/"' in client.get("/accounts/login/").content.decode()
