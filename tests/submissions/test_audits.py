"""Ingestion stores a result's audits, read once: the runner's as sent, an older runner's from its flags."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from submissions.models import Audit, Result
from submissions.services import run_ingest_result
from tests.factories.documents import audit, failed_timed_predictions, figure, result_document
from tests.factories.rows import make_entry, run_reported_measuring

pytestmark = pytest.mark.django_db


def _ingest(run, document) -> Result | None:
    run_reported_measuring(run)
    run_ingest_result(document=document)
    run.refresh_from_db()
    return Result.objects.filter(run=run).first()


def _audits(result: Result) -> list[tuple]:
    return [
        (a.name, a.subject, a.verdict, a.figure, a.value, a.threshold, a.unit, a.source) for a in result.audits.all()
    ]


def test_the_runners_audits_are_stored_with_the_result_as_it_sent_them(run):
    document = result_document(run.pk)
    document["audits"] = [
        failed_timed_predictions(rate=0.9),
        audit("caching", "passed", figure="repeat_latency_ratio", value=1.02, threshold=0.8, unit="ratio"),
        audit("offline_predictions", "not_run", sentence="No batch sizes declared: no offline throughput run."),
        audit("caching", "passed", subject="reference", figure="repeat_latency_ratio", value=0.99, unit="ratio"),
    ]
    result = _ingest(run, document)
    assert run.state == "succeeded"  # a failed audit keeps the result off the ranking, it does not fail the run
    assert _audits(result) == [
        ("timed_predictions", "submission", "failed", "prediction_mismatch_rate", 0.9, 0.001, "fraction", "runner"),
        ("caching", "submission", "passed", "repeat_latency_ratio", 1.02, 0.8, "ratio", "runner"),
        ("offline_predictions", "submission", "not_run", "", None, None, "", "runner"),
        ("caching", "reference", "passed", "repeat_latency_ratio", 0.99, None, "ratio", "runner"),
    ]
    assert result.audits.first().sentence == (
        "90% of the timed replies differ from the accuracy pass's predictions for the same inputs."
    )


def test_a_document_with_audits_is_taken_at_its_word_and_its_flags_are_not_read_as_audits(run):
    document = result_document(run.pk)
    document["flags"] = ["predictions_differ"]
    document["audits"] = [audit("timed_predictions", "passed")]
    result = _ingest(run, document)
    assert [(a.name, a.verdict) for a in result.audits.all()] == [("timed_predictions", "passed")]


def test_an_older_runners_flags_become_failed_audits_with_their_figures_and_a_plain_sentence(run):
    document = result_document(run.pk)
    document["flags"] = ["unstable", "predictions_differ", "cache_suspected"]
    document["figures"] += [
        figure("submission", "prediction_mismatch_rate", 0.9, "fraction"),
        figure("submission", "repeat_latency_ratio", 0.35, "ratio"),
    ]
    document["provenance"]["flag_thresholds"] = {"prediction_mismatch_rate": 0.001, "repeat_latency_ratio": 0.8}
    result = _ingest(run, document)
    assert _audits(result) == [
        ("timed_predictions", "submission", "failed", "prediction_mismatch_rate", 0.9, 0.001, "fraction", "flag"),
        ("caching", "submission", "failed", "repeat_latency_ratio", 0.35, 0.8, "ratio", "flag"),
    ]
    timed, caching = result.audits.all()
    assert timed.sentence.startswith("90.0% of the timed single-stream replies differ from the accuracy run's")
    assert "0.35x the median time of unseen inputs" in caching.sentence
    assert "Read from the flag cache_suspected: this result's runner is older than audits." in caching.sentence


def test_an_older_flag_without_its_figure_or_threshold_leaves_them_unknown_rather_than_made_up(run):
    document = result_document(run.pk)
    document["flags"] = ["predictions_differ"]
    result = _ingest(run, document)
    timed = result.audits.get()
    assert (timed.verdict, timed.value, timed.threshold) == ("failed", None, None)
    assert "n/a of the timed single-stream replies" in timed.sentence


def test_an_older_document_flagged_only_unstable_has_no_audit(run):
    document = result_document(run.pk)
    document["flags"] = ["unstable"]
    assert _audits(_ingest(run, document)) == []


def test_an_audit_given_twice_makes_the_document_invalid_and_fails_the_run(run):
    document = result_document(run.pk)
    document["audits"] = [audit("caching", "passed"), audit("caching", "failed")]
    assert _ingest(run, document) is None
    assert (run.state, run.failure_code) == ("failed", "invalid_result_document")
    assert "the audit 'caching' of the submission appears twice" in run.failure_reason


def test_an_audit_with_an_unknown_verdict_fails_the_run_saying_why(run):
    document = result_document(run.pk)
    document["audits"] = [audit("caching", "dubious")]
    assert _ingest(run, document) is None
    assert run.failure_code == "invalid_result_document" and "audits" in run.failure_reason


def test_the_migration_reads_results_stored_before_audits_through_their_flags(owner, benchmark, hardware_class):
    flagged = make_entry(owner=owner, benchmark=benchmark, hardware_class=hardware_class, name="flagged")
    audited = make_entry(owner=owner, benchmark=benchmark, hardware_class=hardware_class, name="audited")
    # As stored before audits existed: flags on the result, no audit rows.
    Result.objects.filter(pk=flagged.result.pk).update(flags=["cache_suspected"])
    Result.objects.filter(pk=audited.result.pk).update(
        document={"schema": "footprint.result/1", "status": "succeeded", "audits": [failed_timed_predictions()]}
    )
    migration = importlib.import_module("submissions.migrations.0004_audits_of_stored_results")
    migration.audits_of_stored_results(apps, None)
    migration.audits_of_stored_results(apps, None)  # running it again adds nothing
    assert [(a.name, a.verdict, a.source) for a in Audit.objects.filter(result=flagged.result)] == [
        ("caching", "failed", "flag")
    ]
    assert [(a.name, a.verdict, a.source) for a in Audit.objects.filter(result=audited.result)] == [
        ("timed_predictions", "failed", "runner")
    ]
