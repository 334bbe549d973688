"""The run page while a run is not finished: its status as JSON, polled by the page, and
the owner's cancel and re-run."""

from __future__ import annotations

import pytest
from django.test import Client

from submissions.models import Run
from tests.factories.rows import make_run
from tests.factories.scenes import HOSTILE_LOG, Demo

pytestmark = pytest.mark.django_db


def test_the_status_says_state_phase_elapsed_time_and_phase_timings(client: Client, demo: Demo) -> None:
    run = make_run(submission=demo.fast, hardware_class=demo.hardware_class, state=Run.COMPRESSING)
    status = client.get(f"/runs/{run.pk}/status.json").json()
    assert (status["state"], status["terminal"]) == ("compressing", False)
    assert status["phase"].startswith("compressing: your compress runs")
    assert status["elapsed_s"] >= 0
    assert [phase["state"] for phase in status["phases"]] == ["queued", "staging", "compressing"]
    assert [phase["current"] for phase in status["phases"]] == [False, False, True]
    assert status["failure"] is None and status["result_url"] is None


def test_a_failed_run_says_what_to_fix_and_keeps_its_log_as_text(client: Client, demo: Demo) -> None:
    response = client.get(f"/runs/{demo.failed_run.pk}/status.json")
    status = response.json()
    assert status["terminal"] and status["failure"]["code"] == "compress_nonzero_exit"
    assert "Your compress command failed" in status["failure"]["what_to_do"]
    assert status["logs"][0]["text"] == HOSTILE_LOG  # JSON text: the page writes it with textContent
    assert response["Content-Type"] == "application/json"
    page = client.get(f"/runs/{demo.failed_run.pk}/").content.decode()
    assert 'id="failure-hint"' in page and "<script>alert" not in page


def test_a_succeeded_run_points_to_its_result(client: Client, demo: Demo) -> None:
    status = client.get(f"/runs/{demo.fast_run.pk}/status.json").json()
    assert status["state"] == "succeeded" and status["result_url"] == f"/runs/{demo.fast_run.pk}/"


def test_a_private_runs_status_is_a_404_to_others(client: Client, stranger_client: Client, demo: Demo) -> None:
    for other in (client, stranger_client):
        assert other.get(f"/runs/{demo.private_run.pk}/status.json").status_code == 404


def test_the_status_takes_a_few_queries(client: Client, demo: Demo, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(4):  # the run with what it shows, its transitions, its audits
        client.get(f"/runs/{demo.failed_run.pk}/status.json")


def test_the_owner_can_cancel_a_running_run_and_its_runner_is_told(
    owner_client: Client, demo: Demo, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from footprint.celery import app

    told: list[dict] = []
    monkeypatch.setattr(app.control, "broadcast", lambda command, arguments: told.append(arguments))
    run = make_run(submission=demo.fast, hardware_class=demo.hardware_class, state=Run.MEASURING)
    body = owner_client.get(f"/runs/{run.pk}/").content.decode()
    assert 'id="cancel-run"' in body
    with django_capture_on_commit_callbacks(execute=True):
        page = owner_client.post(f"/runs/{run.pk}/cancel/", follow=True).content.decode()
    assert "cancelled; its runner was told to stop it" in page
    run.refresh_from_db()
    assert run.state == Run.CANCELLED and run.cancel_requested_at is not None
    assert [arguments["run_id"] for arguments in told] == [run.pk]
    assert owner_client.get(f"/runs/{run.pk}/status.json").json()["cancel_requested"] is True


def test_the_owner_can_run_a_finished_run_again(
    owner_client: Client, demo: Demo, no_dispatch, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/runs/{demo.failed_run.pk}/rerun/")
    again = Run.objects.filter(submission=demo.broken).exclude(pk=demo.failed_run.pk).get()
    assert response["Location"] == f"/runs/{again.pk}/"
    assert again.state == Run.QUEUED and no_dispatch == [again.pk]


def test_nobody_else_can_cancel_or_rerun(stranger_client: Client, demo: Demo, no_dispatch) -> None:
    assert stranger_client.post(f"/runs/{demo.failed_run.pk}/rerun/").status_code == 404
    assert stranger_client.post(f"/runs/{demo.queued_run.pk}/cancel/").status_code == 404
    assert no_dispatch == []
