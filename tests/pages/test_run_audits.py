"""The run page shows a result's audits with their verdicts, and an invalidation above the evidence."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from submissions.models import Run
from submissions.services import result_invalidate, run_ingest_result
from tests.factories.documents import audit, failed_document, failed_timed_predictions, figure, result_document
from tests.factories.rows import make_submission, run_reported_measuring
from tests.factories.scenes import Demo

pytestmark = pytest.mark.django_db


def _ingested(demo: Demo, **document_fields) -> Run:
    """A run of a new demo submission, measured through ingestion with `document_fields` added."""
    submission = make_submission(owner=demo.owner, benchmark=demo.benchmark, name="audited")
    run = run_reported_measuring(Run.objects.create(submission=submission, hardware_class=demo.hardware_class))
    document = result_document(run.pk)
    document.update(document_fields)
    run_ingest_result(document=document)
    run.refresh_from_db()
    return run


def _audit_rows(body: str) -> dict[str, str]:
    table = re.search(r'<table id="audits">(.*?)</table>', body, re.DOTALL).group(1)
    return dict(re.findall(r'<tr data-audit="([a-z_]+)" data-verdict="([a-z_]+)">', table))


def test_the_run_page_shows_every_audit_with_its_verdict_figure_and_sentence(client: Client, demo: Demo) -> None:
    run = _ingested(
        demo,
        audits=[
            failed_timed_predictions(rate=0.9),
            audit("caching", "passed", figure="repeat_latency_ratio", value=1.01, threshold=0.8, unit="ratio"),
            audit("offline_predictions", "not_run", sentence="No batch sizes declared: no offline throughput run."),
        ],
    )
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert _audit_rows(body) == {"timed_predictions": "failed", "caching": "passed", "offline_predictions": "not_run"}
    assert "90% of the timed replies differ" in body and "No batch sizes declared" in body
    assert "1.01\u00d7" in body and "0.80\u00d7" in body  # the caching ratio and its threshold
    assert '<div class="error" id="not-ranked" data-standing="audit_failed">' in body
    assert "Not ranked: 1 audit failed." in body


def test_a_result_whose_audits_passed_is_not_said_to_be_unranked(client: Client, demo: Demo) -> None:
    run = _ingested(demo, audits=[audit("timed_predictions", "passed")])
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert _audit_rows(body) == {"timed_predictions": "passed"}
    assert 'id="not-ranked"' not in body and 'id="invalidation"' not in body


def test_an_older_result_says_its_audits_were_read_from_its_flags(client: Client, demo: Demo) -> None:
    document = result_document(0)
    run = _ingested(
        demo,
        flags=["predictions_differ"],
        figures=[*document["figures"], figure("submission", "prediction_mismatch_rate", 0.25, "fraction")],
    )
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert _audit_rows(body) == {"timed_predictions": "failed"}
    assert "its flags were read as failed audits" in body and "from a flag" in body


def test_an_older_result_without_flags_says_it_has_no_audit(client: Client, demo: Demo) -> None:
    body = client.get(f"/runs/{demo.fast_run.pk}/").content.decode()
    assert 'id="no-audits"' in body and "older than audits" in body


def test_an_invalidated_result_shows_the_decision_and_keeps_all_its_evidence(client: Client, demo: Demo) -> None:
    run = _ingested(demo, audits=[failed_timed_predictions()])
    result_invalidate(result=run.result, by=demo.owner, reason="replies sent ahead <b>twice</b>")
    body = client.get(f"/runs/{run.pk}/").content.decode()
    notice = re.search(r'<div class="error" id="invalidation"[^>]*>(.*?)</div>\s*</div>', body, re.DOTALL).group(1)
    assert "Invalidated by an operator on " in notice
    assert "replies sent ahead &lt;b&gt;twice&lt;/b&gt;" in notice
    assert 'id="not-ranked"' not in body  # the invalidation says it first
    # The evidence stays: figures, audits, transitions, logs.
    assert 'id="figures"' in body and _audit_rows(body) == {"timed_predictions": "failed"}
    assert 'id="transitions"' in body and "compressed 2 layers" in body


def test_a_failed_run_without_audits_has_no_audits_section(client: Client, demo: Demo) -> None:
    submission = make_submission(owner=demo.owner, benchmark=demo.benchmark, name="crashes in compress")
    run = run_reported_measuring(Run.objects.create(submission=submission, hardware_class=demo.hardware_class))
    run_ingest_result(document={**failed_document(run.pk), "audits": []})
    run.refresh_from_db()
    assert run.state == Run.FAILED and run.result is not None  # a result, with the failure's log tails
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert "<h2>Audits</h2>" not in body and 'id="not-ranked"' not in body
