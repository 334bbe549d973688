"""What runners send survives what can go wrong on the way: bytes PostgreSQL refuses, a
database that goes away, reports out of order, a job stopped on a cancel."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError

from core.text import REPLACEMENT
from submissions import services
from submissions.models import Result, Run
from submissions.tasks import run_progress, run_result
from tests.factories.documents import failed_document, result_document
from tests.factories.rows import run_reported_measuring
from tests.factories.signing import signed_progress, signed_result

pytestmark = [pytest.mark.django_db, pytest.mark.hostile]


def test_a_nul_byte_in_a_log_tail_a_reason_or_method_json_does_not_lose_the_result(run):
    run_reported_measuring(run)
    document = result_document(run.pk)
    document["phases"]["compress"]["log_tail"] = "before\x00after \ud800 end\n"
    document["method"] = {"name": "nul\x00method", "note\x00key": ["a\x00b"]}
    run_result(*signed_result(document))
    run.refresh_from_db()
    assert run.state == Run.SUCCEEDED
    result = Result.objects.get(run=run)  # stored on PostgreSQL, which refuses NUL in jsonb and text
    assert result.document["method"]["name"] == f"nul{REPLACEMENT}method"
    assert f"note{REPLACEMENT}key" in result.document["method"]
    assert run.logs["compress"].startswith(f"before{REPLACEMENT}after")


def test_a_failure_reason_with_a_nul_byte_is_stored_with_it_replaced(run):
    run_reported_measuring(run)
    run_result(*signed_result(failed_document(run.pk, reason="compress exited\x00 with code 3", log_tail="boom\x00\n")))
    run.refresh_from_db()
    assert run.state == Run.FAILED and run.failure_reason == f"compress exited{REPLACEMENT} with code 3"


def test_a_progress_report_with_a_nul_byte_is_applied(run):
    run_progress(*signed_progress(run, 1, "staging", "loading\x00image", "host\x00name", "e1"))
    run.refresh_from_db()
    assert run.state == Run.STAGING and REPLACEMENT in run.transitions.last().reason


def test_a_database_error_while_storing_a_result_retries_until_it_is_stored(run, settings):
    run_reported_measuring(run)
    real = services.run_ingest_result
    calls: list[int] = []

    def flaky(*, document, signer=None):
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real(document=document, signer=signer)

    with mock.patch.object(services, "run_ingest_result", flaky):
        outcome = run_result.apply(args=signed_result(result_document(run.pk)))
    assert outcome.successful(), outcome.traceback
    run.refresh_from_db()
    assert len(calls) == 3 and run.state == Run.SUCCEEDED
    assert run_result.max_retries is None  # never given up while the database is away


def test_a_late_staging_report_of_the_same_execution_is_not_a_restart(run):
    run_progress(*signed_progress(run, 1, "staging", "loading", "host-a", "exec-1"))
    run_progress(*signed_progress(run, 1, "compressing", "compress", "host-a", "exec-1"))
    run_progress(*signed_progress(run, 1, "staging", "loading (delivered late)", "host-a", "exec-1"))
    run.refresh_from_db()
    assert (run.state, run.attempt) == (Run.COMPRESSING, 1)
    assert run.transitions.filter(ignored=True, reason__contains="a late 'staging' report").exists()


def test_staging_from_another_execution_is_a_restart_and_the_old_executions_reports_are_stale(run):
    run_progress(*signed_progress(run, 1, "staging", "loading", "host-a", "exec-1"))
    run_progress(*signed_progress(run, 1, "compressing", "compress", "host-a", "exec-1"))
    run_progress(*signed_progress(run, 1, "staging", "delivered again", "host-b", "exec-2", runner="runner-b"))
    run.refresh_from_db()
    assert (run.state, run.attempt, run.execution) == (Run.STAGING, 2, "exec-2")
    run_progress(*signed_progress(run, 1, "measuring", "from the killed first execution", "host-a", "exec-1"))
    run.refresh_from_db()
    assert run.state == Run.STAGING


def test_a_job_its_runner_stopped_on_a_cancel_ends_cancelled(run):
    run_reported_measuring(run)
    run_result(
        *signed_result(failed_document(run.pk, phase_name="measuring", code="cancelled", reason="cancelled by ada"))
    )
    run.refresh_from_db()
    assert run.state == Run.CANCELLED


def test_the_same_result_twice_is_stored_once(run):
    run_reported_measuring(run)
    document = result_document(run.pk)
    run_result(*signed_result(document))
    run_result(*signed_result(document))
    assert Result.objects.filter(run=run).count() == 1
