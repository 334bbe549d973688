"""footprint.run_result: result documents become Results, Figures, log tails and a final state."""

from __future__ import annotations

import copy

import pytest

from runners.signing import sign
from submissions.models import Figure, Result, Run, RunTransition
from submissions.services import run_ingest_result
from submissions.tasks import run_result
from tests.factories.documents import failed_document, result_document
from tests.factories.rows import make_submission, run_reported_measuring
from tests.factories.signing import signed_result

pytestmark = pytest.mark.django_db


def test_a_good_document_stores_the_result_its_figures_and_log_tails(run):
    run_reported_measuring(run)
    document = result_document(run.pk, accuracy=0.975, reference_accuracy=0.98)
    run_result(*signed_result(document))
    run.refresh_from_db()
    assert run.state == "succeeded"
    # The runner whose job token signed the result, not a host name the document gives.
    assert run.runner_host == "runner-a"
    assert run.logs["compress"] == "compressing...\ncompressed 2 layers\n"
    result = Result.objects.get(run=run)
    # Stored as sent, but for which machine measured it: the run keeps that, for operators.
    assert result.document == {
        **document,
        "provenance": {**document["provenance"], "runner": {"cpu_model": "test CPU"}},
    }
    assert "host" not in result.provenance["runner"]
    assert result.meets_accuracy_floor is True
    figures = {(f.subject, f.name): (f.value, f.unit, f.label) for f in result.figures.all()}
    assert len(figures) == len(document["figures"])
    assert figures[("submission", "speedup")] == (1.5, "ratio", "measured")
    assert figures[("reference", "latency_p50")] == (150.0, "us", "measured")


def test_the_floor_uses_the_reference_accuracy_measured_in_the_same_job(run):
    # Stored reference accuracy is 0.98 (floor 0.9604), but in this job the reference
    # measured 0.99: the floor is 0.98 x 0.99 = 0.9702.
    run_ingest_result(document=result_document(run.pk, accuracy=0.97, reference_accuracy=0.99))
    assert Result.objects.get(run=run).meets_accuracy_floor is False


def test_an_accuracy_exactly_at_the_floor_meets_it(run, benchmark):
    benchmark.accuracy_floor_fraction = 0.9
    benchmark.save()
    run_ingest_result(document=result_document(run.pk, accuracy=0.9 * 0.7, reference_accuracy=0.7))
    assert Result.objects.get(run=run).meets_accuracy_floor is True


def test_a_failed_document_fails_the_run_with_its_reason_and_keeps_the_logs(run):
    run_reported_measuring(run)
    run_result(*signed_result(failed_document(run.pk, reason="compress exited with code 3; see the log")))
    run.refresh_from_db()
    assert run.state == "failed"
    assert (run.failure_phase, run.failure_code) == ("compress", "compress_nonzero_exit")
    assert run.failure_reason == "compress exited with code 3; see the log"
    assert run.logs == {"compress": "Traceback: boom\n"}
    assert Result.objects.get(run=run).meets_accuracy_floor is None


def test_an_invalid_document_fails_the_run_saying_why(run):
    run_reported_measuring(run)
    document = result_document(run.pk)
    document["figures"][0]["label"] = "guessed"
    run_result(*signed_result(document))
    run.refresh_from_db()
    assert run.state == "failed"
    assert run.failure_code == "invalid_result_document"
    assert run.failure_reason.startswith("the runner sent an invalid result document: ")
    assert "figures/0/label" in run.failure_reason
    # The log tails are kept even though the document was refused.
    assert run.logs["compress"].startswith("compressing")
    assert not Result.objects.filter(run=run).exists()


def test_a_document_with_a_figure_twice_is_invalid(run):
    document = result_document(run.pk)
    document["figures"].append(copy.deepcopy(document["figures"][0]))
    run_ingest_result(document=document)
    run.refresh_from_db()
    assert run.state == "failed"
    assert "'accuracy' of the submission appears twice" in run.failure_reason


def test_a_succeeded_document_without_the_reference_accuracy_is_invalid(run):
    document = result_document(run.pk)
    document["figures"] = [f for f in document["figures"] if (f["subject"], f["name"]) != ("reference", "accuracy")]
    run_ingest_result(document=document)
    run.refresh_from_db()
    assert run.state == "failed"
    assert "no accuracy figure for the reference" in run.failure_reason


def test_a_duplicate_result_for_a_finished_run_is_ignored_and_logged(run, caplog):
    run_result(*signed_result(result_document(run.pk, accuracy=0.975)))
    second = result_document(run.pk, accuracy=0.5)
    run_result(*signed_result(second))
    run.refresh_from_db()
    assert run.state == "succeeded"
    assert Result.objects.filter(run=run).count() == 1
    assert Figure.objects.get(result__run=run, subject="submission", name="accuracy").value == 0.975
    assert RunTransition.objects.filter(run=run, ignored=True).count() == 1
    assert "ignored a late report" in caplog.text


def test_a_result_for_a_stale_copy_of_a_finished_run_is_ignored(run):
    from submissions.models import Run

    stale = Run.objects.get(pk=run.pk)
    run_ingest_result(document=result_document(run.pk))
    # A worker that loaded the run before it finished takes the duplicate path.
    from submissions.services import _finish

    assert _finish(run=stale, to_state="succeeded", logs={}, reason="again") is False
    assert Result.objects.filter(run=run).count() == 1


def test_a_document_that_names_no_run_is_logged(caplog):
    run_ingest_result(document={"schema": "footprint.result/1", "status": "succeeded"})
    assert "names no run" in caplog.text


def test_a_document_for_an_unknown_run_is_logged(caplog):
    run_ingest_result(document=result_document(987654))
    assert "run 987654, which does not exist" in caplog.text


def test_a_result_without_its_job_tokens_signature_is_refused_and_logged(run, caplog):
    run_result(result_document(run.pk))
    run.refresh_from_db()
    assert run.state == Run.QUEUED and not Result.objects.exists()
    assert "refused a runner's report (unsigned)" in caplog.text


def test_a_result_signed_with_the_token_of_another_run_is_refused(run, submission, hardware_class, caplog):
    from tests.factories.signing import job_token

    other = Run.objects.create(
        submission=make_submission(owner=submission.owner, benchmark=submission.benchmark),
        hardware_class=hardware_class,
    )
    token, secret = job_token(other)
    document = result_document(run.pk)
    run_result(document, sign(document, secret=secret, key_id=token.pk))
    run.refresh_from_db()
    assert run.state == Run.QUEUED and not Result.objects.exists()
    assert "refused a runner's report (not_given)" in caplog.text


def test_a_result_whose_bytes_changed_after_signing_is_refused(run, caplog):
    document = result_document(run.pk)
    args = signed_result(document)
    args[0] = {**document, "status": "failed"}
    run_result(*args)
    assert not Result.objects.exists()
    assert "refused a runner's report (signature_invalid)" in caplog.text
