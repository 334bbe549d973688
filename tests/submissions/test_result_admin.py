"""An operator invalidates a result from the admin with a reason; nothing there deletes one."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from submissions.models import Result, ResultInvalidation
from tests.factories.documents import failed_timed_predictions

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/submissions/result/"


@pytest.fixture
def results(add_entry):
    return [add_entry(name="fast").result, add_entry(name="honest").result]


def _action(result_ids, **extra):
    return {"action": "invalidate", "_selected_action": [str(pk) for pk in result_ids], **extra}


def test_the_action_asks_for_the_reason_before_it_changes_anything(admin_client, results):
    response = admin_client.post(CHANGELIST, _action([results[0].pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="reason"' in body and "Nothing is deleted" in body and "fast on cpu-test" in body
    assert not ResultInvalidation.objects.exists()


def test_an_operator_invalidates_a_result_with_a_reason_that_records_who_and_when(admin_client, results):
    reason = "The server reads the test split's labels from a file baked into its image."
    response = admin_client.post(CHANGELIST, _action([results[0].pk], apply="Invalidate", reason=reason))
    assert response.status_code == 302
    invalidation = ResultInvalidation.objects.get()
    assert invalidation.result == results[0] and invalidation.reason == reason
    assert invalidation.by == get_user_model().objects.get(username="admin")
    assert Result.objects.count() == 2  # kept
    assert not hasattr(Result.objects.get(pk=results[1].pk), "invalidation")


def test_a_blank_reason_is_asked_for_again(admin_client, results):
    response = admin_client.post(CHANGELIST, _action([results[0].pk], apply="Invalidate", reason=""))
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not ResultInvalidation.objects.exists()


def test_invalidating_again_keeps_the_first_decision_and_says_so(admin_client, results):
    admin_client.post(CHANGELIST, _action([results[0].pk], apply="Invalidate", reason="first"))
    response = admin_client.post(CHANGELIST, _action([results[0].pk], apply="Invalidate", reason="second"), follow=True)
    assert "already invalidated on" in response.content.decode()
    assert ResultInvalidation.objects.get().reason == "first"


def test_the_admin_shows_a_results_audits_and_cannot_delete_it(admin_client, add_entry):
    result = add_entry(audits=[failed_timed_predictions()]).result
    page = admin_client.get(f"{CHANGELIST}{result.pk}/change/").content.decode()
    assert "timed_predictions" in page and "prediction_mismatch_rate" in page
    assert admin_client.get(f"{CHANGELIST}{result.pk}/delete/").status_code == 403
    assert Result.objects.filter(pk=result.pk).exists()
