"""Private submissions and runs are the owner's: strangers get a 404, never a hint."""

from __future__ import annotations

import pytest
from django.test import Client

from submissions.models import Run, Submission
from tests.factories.scenes import Demo

pytestmark = pytest.mark.django_db


def test_a_private_submission_is_a_404_for_strangers_and_anonymous_visitors(
    client: Client, stranger_client: Client, demo: Demo
) -> None:
    for visitor in (client, stranger_client):
        assert visitor.get(f"/submissions/{demo.private.pk}/").status_code == 404
        assert visitor.get(f"/runs/{demo.private_run.pk}/").status_code == 404


def test_the_owner_sees_a_private_submission_and_its_run(owner_client: Client, demo: Demo) -> None:
    body = owner_client.get(f"/submissions/{demo.private.pk}/").content.decode()
    assert "secret" in body
    assert "private (only you can see it)" in body
    assert owner_client.get(f"/runs/{demo.private_run.pk}/").status_code == 200


def test_a_superuser_sees_a_private_submission(django_user_model, demo: Demo) -> None:
    admin = django_user_model.objects.create_superuser(username="root", password="root-pw-123")
    client = Client()
    client.force_login(admin)
    assert client.get(f"/submissions/{demo.private.pk}/").status_code == 200


def test_a_private_result_stays_off_the_leaderboard(client: Client, demo: Demo) -> None:
    body = client.get(demo.leaderboard_url).content.decode()
    assert "secret" not in body


def test_the_owner_publishes_and_unpublishes(owner_client: Client, demo: Demo) -> None:
    url = f"/submissions/{demo.private.pk}/publish/"
    assert owner_client.post(url, {"published": "on"}).status_code == 302
    assert Submission.objects.get(pk=demo.private.pk).published is True
    assert "secret" in owner_client.get(demo.leaderboard_url).content.decode()
    assert owner_client.post(url, {"published": ""}).status_code == 302
    assert Submission.objects.get(pk=demo.private.pk).published is False


def test_a_stranger_cannot_publish_or_unpublish(stranger_client: Client, demo: Demo) -> None:
    assert stranger_client.post(f"/submissions/{demo.private.pk}/publish/", {"published": "on"}).status_code == 404
    assert stranger_client.post(f"/submissions/{demo.fast.pk}/publish/", {"published": ""}).status_code == 404
    assert Submission.objects.get(pk=demo.private.pk).published is False
    assert Submission.objects.get(pk=demo.fast.pk).published is True


def test_publishing_needs_a_post_with_a_csrf_token(owner: object, demo: Demo) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    url = f"/submissions/{demo.private.pk}/publish/"
    assert client.get(url).status_code == 405
    assert client.post(url, {"published": "on"}).status_code == 403
    assert Submission.objects.get(pk=demo.private.pk).published is False


def test_only_the_owner_sees_the_publish_and_cancel_buttons(
    owner_client: Client, stranger_client: Client, demo: Demo
) -> None:
    url = f"/submissions/{demo.waiting.pk}/"
    owner_page = owner_client.get(url).content.decode()
    stranger_page = stranger_client.get(url).content.decode()
    assert 'id="publish-form"' in owner_page and f"/runs/{demo.queued_run.pk}/cancel/" in owner_page
    assert 'id="publish-form"' not in stranger_page
    assert f"/runs/{demo.queued_run.pk}/cancel/" not in stranger_page


def test_the_owner_cancels_a_queued_run(owner_client: Client, demo: Demo) -> None:
    response = owner_client.post(f"/runs/{demo.queued_run.pk}/cancel/", {"next": "submission"})
    assert response.status_code == 302
    assert response["Location"] == f"/submissions/{demo.waiting.pk}/"
    run = Run.objects.get(pk=demo.queued_run.pk)
    assert run.state == Run.CANCELLED
    assert run.transitions.last().reason == "cancelled by ada"


def test_cancelling_a_finished_run_says_why_it_did_not(owner_client: Client, demo: Demo) -> None:
    response = owner_client.post(f"/runs/{demo.fast_run.pk}/cancel/", follow=True)
    assert response.status_code == 200
    assert "The run was not cancelled: only a queued or running run can be cancelled" in response.content.decode()
    assert Run.objects.get(pk=demo.fast_run.pk).state == Run.SUCCEEDED


def test_a_stranger_cannot_cancel_a_run(stranger_client: Client, demo: Demo) -> None:
    assert stranger_client.post(f"/runs/{demo.queued_run.pk}/cancel/").status_code == 404
    assert Run.objects.get(pk=demo.queued_run.pk).state == Run.QUEUED
