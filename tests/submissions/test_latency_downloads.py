"""GET /runs/<id>/latencies.csv and .json: every timed latency, visible like the run page."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from submissions.models import Run
from submissions.services import run_ingest_result
from tests.factories.documents import LATENCY_SAMPLES_US, energy_result_document
from tests.factories.rows import make_submission
from tests.factories.scenes import Demo

pytestmark = pytest.mark.django_db


def _run_with_samples(demo: Demo, *, published: bool = True) -> Run:
    submission = make_submission(owner=demo.owner, benchmark=demo.benchmark, published=published)
    run = Run.objects.create(submission=submission, hardware_class=demo.hardware_class)
    run_ingest_result(document=energy_result_document(run.pk))
    return Run.objects.get(pk=run.pk)


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_lists_every_latency_by_subject_repeat_and_query(client: Client, demo: Demo) -> None:
    run = _run_with_samples(demo)
    response = client.get(reverse("run-latencies", args=[run.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="footprint-run-{run.pk}-latencies.csv"'
    rows = _csv(response)
    assert rows[0] == ["subject", "repeat", "query", "latency_us"]
    assert rows[1:7] == [
        ["reference", "1", "1", "150.0"],
        ["reference", "1", "2", "151.5"],
        ["reference", "1", "3", "149.25"],
        ["reference", "2", "1", "160.0"],
        ["reference", "2", "2", "158.75"],
        ["submission", "1", "1", "100.0"],
    ]
    assert len(rows) == 1 + sum(len(samples) for samples in LATENCY_SAMPLES_US.values())
    assert rows[-1] == ["null", "1", "2", "9.5"]


def test_the_json_holds_the_same_rows(client: Client, demo: Demo) -> None:
    run = _run_with_samples(demo)
    response = client.get(f"/runs/{run.pk}/latencies.json")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="footprint-run-{run.pk}-latencies.json"'
    document = json.loads(response.content)
    assert (document["run_id"], document["unit"]) == (run.pk, "us")
    assert document["columns"] == ["subject", "repeat", "query", "latency_us"]
    csv_rows = _csv(client.get(f"/runs/{run.pk}/latencies.csv"))[1:]
    assert [[str(value) for value in row] for row in document["rows"]] == csv_rows


def test_a_repeat_without_known_boundaries_is_an_empty_field(client: Client, demo: Demo) -> None:
    run = _run_with_samples(demo)
    result = run.result
    result.provenance["latency_repeats"]["submission"][0]["queries"] = 99
    result.save(update_fields=["provenance"])
    rows = _csv(client.get(f"/runs/{run.pk}/latencies.csv"))
    assert ["submission", "", "1", "100.0"] in rows
    assert json.loads(client.get(f"/runs/{run.pk}/latencies.json").content)["rows"][5] == [
        "submission",
        None,
        1,
        100.0,
    ]


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_a_private_run_is_a_404_for_strangers_and_anonymous_visitors(
    client: Client, stranger_client: Client, demo: Demo, suffix: str
) -> None:
    run = _run_with_samples(demo, published=False)
    for visitor in (client, stranger_client):
        response = visitor.get(f"/runs/{run.pk}/latencies.{suffix}")
        assert response.status_code == 404
        assert f"No raw latencies for run {run.pk}" not in response.content.decode()  # existence not revealed


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_the_owner_and_a_superuser_download_a_private_runs_latencies(
    owner_client: Client, django_user_model, demo: Demo, suffix: str
) -> None:
    run = _run_with_samples(demo, published=False)
    assert owner_client.get(f"/runs/{run.pk}/latencies.{suffix}").status_code == 200
    admin = Client()
    admin.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "root-pw-123"))
    assert admin.get(f"/runs/{run.pk}/latencies.{suffix}").status_code == 200


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_a_run_without_a_result_is_a_404_that_says_why(client: Client, demo: Demo, suffix: str) -> None:
    response = client.get(f"/runs/{demo.queued_run.pk}/latencies.{suffix}")
    assert response.status_code == 404
    body = response.content.decode()
    assert f"No raw latencies for run {demo.queued_run.pk}" in body
    assert f"Run {demo.queued_run.pk} has no result yet (it is queued)" in body


def test_a_result_without_samples_is_a_404_that_says_why(client: Client, demo: Demo) -> None:
    response = client.get(f"/runs/{demo.fast_run.pk}/latencies.csv")
    assert response.status_code == 404
    assert "keeps no raw per-query latencies" in response.content.decode()


def test_a_run_that_does_not_exist_is_a_404(client: Client, demo: Demo) -> None:
    assert client.get("/runs/999999/latencies.csv").status_code == 404


def test_the_run_page_links_both_downloads_next_to_the_figures(client: Client, demo: Demo) -> None:
    run = _run_with_samples(demo)
    body = client.get(f"/runs/{run.pk}/").content.decode()
    links = body[body.index('id="latency-downloads"') : body.index('<table id="figures">')]
    assert f'href="/runs/{run.pk}/latencies.csv"' in links
    assert f'href="/runs/{run.pk}/latencies.json"' in links
