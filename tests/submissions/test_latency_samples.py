"""run_latency_samples: a result's raw latencies cut into its repeats, as runners/job.py stores them."""

from __future__ import annotations

import pytest

from submissions.models import Result, Run
from submissions.selectors import NoLatencySamples, latency_rows, run_has_latency_samples, run_latency_samples
from submissions.services import run_ingest_result
from tests.factories.documents import LATENCY_SAMPLES_US, energy_result_document, failed_document, result_document

pytestmark = pytest.mark.django_db


def _ingest(run: Run, document: dict) -> Run:
    run_ingest_result(document=document)
    return Run.objects.get(pk=run.pk)


def _set_provenance(run: Run, **fields) -> Run:
    result = run.result
    result.provenance = {**result.provenance, **fields}
    result.save(update_fields=["provenance"])
    return Run.objects.get(pk=run.pk)


def test_each_repeat_starts_after_the_queries_of_the_ones_before(run):
    run = _ingest(run, energy_result_document(run.pk))
    series = run_latency_samples(run=run)
    assert [(s.subject, s.repeat, s.samples_us) for s in series] == [
        ("reference", 1, [150.0, 151.5, 149.25]),
        ("reference", 2, [160.0, 158.75]),
        ("submission", 1, [100.0, 101.0, 99.5, 98.0]),
        ("null", 1, [9.0, 9.5]),
    ]


def test_rows_number_queries_from_one_within_each_repeat(run):
    run = _ingest(run, energy_result_document(run.pk))
    rows = list(latency_rows(series=run_latency_samples(run=run)))
    assert rows[:5] == [
        ("reference", 1, 1, 150.0),
        ("reference", 1, 2, 151.5),
        ("reference", 1, 3, 149.25),
        ("reference", 2, 1, 160.0),
        ("reference", 2, 2, 158.75),
    ]
    assert len(rows) == sum(len(samples) for samples in LATENCY_SAMPLES_US.values())


def test_counts_that_do_not_add_up_claim_no_repeat(run):
    run = _ingest(run, energy_result_document(run.pk))
    repeats = run.result.provenance["latency_repeats"]
    repeats["reference"][0]["queries"] = 4  # 4 + 2 != 5 samples
    run = _set_provenance(run, latency_repeats=repeats)
    reference = [s for s in run_latency_samples(run=run) if s.subject == "reference"]
    assert [(s.repeat, len(s.samples_us)) for s in reference] == [(None, 5)]


def test_a_result_from_before_repeats_is_one_repeat(run):
    run = _ingest(run, result_document(run.pk))
    run = _set_provenance(run, latency_samples_us={"submission": [1.0, 2.0]})
    assert [(s.subject, s.repeat, s.samples_us) for s in run_latency_samples(run=run)] == [
        ("submission", 1, [1.0, 2.0])
    ]
    run = _set_provenance(run, repeats=3)  # several repeats, boundaries unknown
    assert [s.repeat for s in run_latency_samples(run=run)] == [None]


def test_a_subject_whose_samples_are_not_numbers_is_left_out(run):
    run = _ingest(run, energy_result_document(run.pk))
    samples = dict(run.result.provenance["latency_samples_us"])
    samples["null"] = [1.0, "fast"]
    run = _set_provenance(run, latency_samples_us=samples)
    assert {s.subject for s in run_latency_samples(run=run)} == {"reference", "submission"}


def test_a_run_without_a_result_says_so(run):
    with pytest.raises(NoLatencySamples, match=f"Run {run.pk} has no result yet \\(it is queued\\)"):
        run_latency_samples(run=run)
    assert not run_has_latency_samples(run=run)


def test_a_result_without_samples_says_so(run):
    run = _ingest(run, result_document(run.pk))
    with pytest.raises(NoLatencySamples, match="keeps no raw per-query latencies"):
        run_latency_samples(run=run)
    assert not run_has_latency_samples(run=run)


def test_a_failed_run_says_no_latency_was_timed(run):
    run = _ingest(run, failed_document(run.pk))
    assert run.state == Run.FAILED and Result.objects.filter(run=run).exists()
    with pytest.raises(NoLatencySamples, match="failed before any latency was timed"):
        run_latency_samples(run=run)
