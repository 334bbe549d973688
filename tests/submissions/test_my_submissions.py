"""The "my submissions" page: a user's own submissions, with publish and withdraw."""

from __future__ import annotations

import pytest
from django.test import Client

from submissions.models import Submission
from tests.factories.rows import make_run, make_submission

pytestmark = pytest.mark.django_db


def test_it_lists_only_the_users_own_submissions_with_their_runs(
    owner_client: Client, owner, stranger, benchmark, hardware_class
) -> None:
    mine = make_submission(owner=owner, benchmark=benchmark, name="my method", published=False)
    make_run(submission=mine, hardware_class=hardware_class)
    make_submission(owner=stranger, benchmark=benchmark, name="someone else's")
    body = owner_client.get("/accounts/submissions/").content.decode()
    assert "my method" in body and "someone else" not in body
    assert "cpu-test: succeeded" in body
    assert "<title>My submissions" in body


def test_its_queries_do_not_grow_with_the_submissions(
    owner_client: Client, owner, benchmark, hardware_class, django_assert_max_num_queries
) -> None:
    for _ in range(6):
        make_run(submission=make_submission(owner=owner, benchmark=benchmark), hardware_class=hardware_class)
    # session, user, submissions, their runs with classes
    with django_assert_max_num_queries(4):
        assert owner_client.get("/accounts/submissions/").status_code == 200


def test_publish_and_withdraw_from_the_list_come_back_to_it(owner_client: Client, owner, benchmark) -> None:
    submission = make_submission(owner=owner, benchmark=benchmark, published=False)
    response = owner_client.post(f"/submissions/{submission.pk}/publish/", {"published": "on", "next": "mine"})
    assert response["Location"] == "/accounts/submissions/"
    assert Submission.objects.get(pk=submission.pk).published
    owner_client.post(f"/submissions/{submission.pk}/publish/", {"published": "", "next": "mine"})
    assert not Submission.objects.get(pk=submission.pk).published


def test_it_asks_an_anonymous_visitor_to_log_in(client: Client) -> None:
    response = client.get("/accounts/submissions/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
