"""A result document's flags are stored with the result, and checked like the rest of it."""

from __future__ import annotations

import pytest

from submissions.models import Result
from submissions.services import run_ingest_result
from tests.factories.documents import figure, result_document
from tests.factories.rows import run_reported_measuring

pytestmark = pytest.mark.django_db


def test_it_stores_the_flags_of_a_document(run):
    run_reported_measuring(run)
    document = result_document(run.pk)
    document["flags"] = ["cache_suspected", "unstable"]
    document["figures"].append(figure("submission", "throughput", 5400.0, "samples/s"))
    run_ingest_result(document=document)
    run.refresh_from_db()
    assert run.state == "succeeded"
    result = Result.objects.get(run=run)
    assert result.flags == ["cache_suspected", "unstable"]
    assert result.figures.get(name="throughput").unit == "samples/s"


def test_a_document_without_flags_stores_none(run):
    run_reported_measuring(run)
    run_ingest_result(document=result_document(run.pk))
    assert Result.objects.get(run=run).flags == []


def test_a_malformed_flag_fails_the_run_saying_why(run):
    run_reported_measuring(run)
    document = result_document(run.pk)
    document["flags"] = ["Not A Flag"]
    run_ingest_result(document=document)
    run.refresh_from_db()
    assert run.state == "failed"
    assert run.failure_code == "invalid_result_document"
    assert "flags" in run.failure_reason
