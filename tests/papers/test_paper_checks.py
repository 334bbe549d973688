"""Which run a claim is compared with, and who sees what (papers.claims.paper_checks)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from papers.claims import Status, paper_check, paper_checks
from papers.models import Claim, Paper
from submissions.models import Run
from submissions.services import result_invalidate
from tests.factories.documents import failed_timed_predictions
from tests.factories.figures import figures
from tests.factories.rows import (
    make_benchmark,
    make_claim,
    make_hardware_class,
    make_run,
    make_submission,
    submission_with_run,
)

pytestmark = pytest.mark.django_db


def test_a_claim_without_a_submission_is_pending(paper, benchmark, hardware_class, owner) -> None:
    make_claim(paper=paper, benchmark=benchmark, hardware_class=hardware_class, claimed_speedup=2.0)
    check = paper_check(paper=paper, viewer=owner)
    assert check.status == Status.PENDING
    assert check.claims[0].status == Status.PENDING
    assert check.claims[0].reason == "no submission measures it yet"


def test_a_claim_whose_run_is_queued_or_failed_is_pending(paper, benchmark, hardware_class, owner) -> None:
    submission, _ = submission_with_run(
        owner=owner, benchmark=benchmark, hardware_class=hardware_class, paper=paper, run_figures=None, state=Run.FAILED
    )
    make_run(submission=submission, hardware_class=hardware_class, state=Run.QUEUED)
    make_claim(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2.0
    )
    claim = paper_check(paper=paper, viewer=owner).claims[0]
    assert (claim.status, claim.run) == (Status.PENDING, None)
    assert "no succeeded run" in claim.reason


def test_a_claim_measured_on_another_hardware_class_is_pending(paper, benchmark, hardware_class, owner) -> None:
    other = make_hardware_class(name="gpu-a100", cpuset="0")
    submission, _ = submission_with_run(
        owner=owner,
        benchmark=benchmark,
        hardware_class=other,
        paper=paper,
        run_figures=figures(speedup=(2.0, "ratio")),
    )
    make_claim(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2.0
    )
    assert paper_check(paper=paper, viewer=owner).claims[0].status == Status.PENDING


def test_a_run_without_any_claimed_figure_leaves_the_claim_pending(paper, benchmark, hardware_class, owner) -> None:
    submission, run = submission_with_run(
        owner=owner,
        benchmark=benchmark,
        hardware_class=hardware_class,
        paper=paper,
        run_figures=figures(accuracy=(0.97, "fraction")),
    )
    make_claim(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_search_kwh=1.0
    )
    claim = paper_check(paper=paper, viewer=owner).claims[0]
    assert claim.status == Status.PENDING
    assert claim.reason == f"run {run.pk} measured none of the claimed figures"


def test_the_latest_succeeded_run_is_compared_and_newer_failures_are_ignored(
    paper, benchmark, hardware_class, owner
) -> None:
    now = timezone.now()
    submission = make_submission(owner=owner, benchmark=benchmark)
    paper.submissions.add(submission)
    make_run(
        submission=submission,
        hardware_class=hardware_class,
        figures=figures(speedup=(1.0, "ratio")),
        finished_at=now - timedelta(hours=2),
    )
    latest = make_run(
        submission=submission,
        hardware_class=hardware_class,
        figures=figures(speedup=(2.0, "ratio")),
        finished_at=now - timedelta(hours=1),
    )
    make_run(submission=submission, hardware_class=hardware_class, state=Run.FAILED, finished_at=now)
    make_claim(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2.0
    )
    claim = paper_check(paper=paper, viewer=owner).claims[0]
    assert claim.run == latest
    assert (claim.status, claim.quantities[0].measured) == (Status.REPRODUCED, 2.0)


def test_a_private_submission_is_pending_for_strangers_and_anonymous_visitors_only(
    paper, benchmark, hardware_class, owner, stranger
) -> None:
    submission, run = submission_with_run(
        owner=owner,
        benchmark=benchmark,
        hardware_class=hardware_class,
        paper=paper,
        run_figures=figures(speedup=(2.0, "ratio")),
        published=False,
    )
    make_claim(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2.0
    )
    for viewer in (AnonymousUser(), stranger):
        claim = paper_check(paper=paper, viewer=viewer).claims[0]
        assert (claim.status, claim.run, claim.quantities) == (Status.PENDING, None, [])
        # The same words as a claim without a submission: its existence is not revealed.
        assert claim.reason == "no submission measures it yet"
    claim = paper_check(paper=paper, viewer=owner).claims[0]
    assert (claim.status, claim.run) == (Status.REPRODUCED, run)


def test_a_submission_unlinked_from_the_paper_leaves_its_claim_pending(paper, benchmark, hardware_class, owner) -> None:
    submission, _ = submission_with_run(
        owner=owner,
        benchmark=benchmark,
        hardware_class=hardware_class,
        paper=paper,
        run_figures=figures(speedup=(2.0, "ratio")),
    )
    make_claim(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2.0
    )
    paper.submissions.remove(submission)
    claim = paper_check(paper=paper, viewer=owner).claims[0]
    assert claim.status == Status.PENDING
    assert "not linked" in claim.reason


def test_claims_and_papers_aggregate(paper, benchmark, hardware_class, owner) -> None:
    good, _ = submission_with_run(
        owner=owner,
        benchmark=benchmark,
        hardware_class=hardware_class,
        paper=paper,
        run_figures=figures(accuracy=(0.97, "fraction"), speedup=(1.05, "ratio"), compression_ratio=(33.0, "ratio")),
    )
    make_claim(
        paper=paper,
        benchmark=benchmark,
        hardware_class=hardware_class,
        submission=good,
        method="distill",
        claimed_accuracy=0.99,
        claimed_compression_ratio=33.0,
    )
    make_claim(
        paper=paper,
        benchmark=benchmark,
        hardware_class=hardware_class,
        submission=good,
        method="fast",
        claimed_speedup=3.0,
    )
    check = paper_check(paper=paper, viewer=owner)
    assert [c.status for c in check.claims] == [Status.PARTIALLY_REPRODUCED, Status.NOT_REPRODUCED]
    assert check.status == Status.PARTIALLY_REPRODUCED
    assert check.status_counts == [(Status.PARTIALLY_REPRODUCED, 1), (Status.NOT_REPRODUCED, 1)]


def test_checking_many_papers_takes_the_same_number_of_queries_as_one(benchmark, hardware_class, owner) -> None:
    def add_paper(n: int) -> Paper:
        paper = Paper.objects.create(slug=f"paper-{n}", title=f"Paper {n}", authors="A. Author")
        submission, _ = submission_with_run(
            owner=owner,
            benchmark=benchmark,
            hardware_class=hardware_class,
            paper=paper,
            run_figures=figures(speedup=(2.0, "ratio")),
        )
        make_claim(
            paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2.0
        )
        return paper

    one = [add_paper(0)]
    with CaptureQueriesContext(connection) as single:
        paper_checks(papers=one, viewer=owner)
    many = one + [add_paper(n) for n in range(1, 6)]
    with CaptureQueriesContext(connection) as several:
        checks = paper_checks(papers=many, viewer=owner)
    assert [c.status for c in checks] == [Status.REPRODUCED] * 6
    assert len(several) == len(single) <= 5


def test_a_submission_of_another_benchmark_is_refused_and_pending(paper, benchmark, hardware_class, owner) -> None:
    other_benchmark = make_benchmark(slug="cifar", name="CIFAR")
    submission = make_submission(owner=owner, benchmark=other_benchmark)
    paper.submissions.add(submission)
    # Claim.clean refuses it (test_identifiers); rows made around the admin are still checked.
    claim = Claim.objects.create(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2.0
    )
    assert claim.pk
    check = paper_check(paper=paper, viewer=owner).claims[0]
    assert check.status == Status.PENDING
    assert "another benchmark" in check.reason


def test_a_run_whose_audit_failed_reproduces_no_claim(paper, benchmark, hardware_class, owner) -> None:
    submission = make_submission(owner=owner, benchmark=benchmark)
    paper.submissions.add(submission)
    run = make_run(
        submission=submission,
        hardware_class=hardware_class,
        figures=figures(speedup=(9.0, "ratio")),  # would reproduce the claim of 2x
        audits=[failed_timed_predictions(rate=0.9)],
    )
    make_claim(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2.0
    )
    claim = paper_check(paper=paper, viewer=owner).claims[0]
    assert (claim.status, claim.run, claim.quantities) == (Status.PENDING, run, [])
    assert claim.reason.startswith(f"run {run.pk} is never ranked: audit timed_predictions")


def test_an_invalidated_run_reproduces_no_claim(paper, benchmark, hardware_class, owner) -> None:
    submission, run = submission_with_run(
        owner=owner,
        benchmark=benchmark,
        hardware_class=hardware_class,
        paper=paper,
        run_figures=figures(speedup=(2.0, "ratio")),
    )
    result_invalidate(result=run.result, by=owner, reason="replies sent ahead")
    make_claim(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2.0
    )
    claim = paper_check(paper=paper, viewer=owner).claims[0]
    assert claim.status == Status.PENDING and claim.reason.endswith(": replies sent ahead")
