"""Reads of the papers pages and badges; statuses come from papers.claims."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from papers.claims import PaperCheck, paper_check, paper_checks
from papers.models import Paper
from submissions.models import Figure, Run, Submission
from submissions.selectors import submission_can_view


def paper_list(*, viewer: AbstractBaseUser | AnonymousUser) -> list[PaperCheck]:
    """Every paper with its status as `viewer` may see it (six queries in all)."""
    return paper_checks(papers=list(Paper.objects.all()), viewer=viewer)


def paper_detail(*, slug: str, viewer: AbstractBaseUser | AnonymousUser) -> PaperCheck | None:
    paper = Paper.objects.filter(slug=slug).first()
    return None if paper is None else paper_check(paper=paper, viewer=viewer)


def paper_public_status(*, slug: str) -> str | None:
    """The paper's status as anyone may see it: what its badge says, whoever asks.

    A badge is cached by browsers and proxies for everyone, so it never depends on who
    is logged in: private submissions count as pending.
    """
    check = paper_detail(slug=slug, viewer=AnonymousUser())
    return None if check is None else check.status


def paper_visible_submissions(*, paper: Paper, viewer: AbstractBaseUser | AnonymousUser) -> list[Submission]:
    """The submissions linked to `paper` that `viewer` may see."""
    linked = paper.submissions.select_related("owner", "benchmark").order_by("name", "id")
    return [submission for submission in linked if submission_can_view(viewer, submission)]


def run_for_badge(*, run_id: int) -> tuple[Run, Figure | None] | None:
    """A run with its class, submission, result and audits, and its speed-up figure (None: none yet)."""
    run = (
        Run.objects.select_related("submission", "hardware_class", "result__invalidation")
        .prefetch_related("result__audits")
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        return None
    speedup = None
    if run.state == Run.SUCCEEDED:
        speedup = Figure.objects.filter(result__run=run, subject=Figure.Subject.SUBMISSION, name="speedup").first()
    return run, speedup


def run_visible_to(*, run: Run, viewer: AbstractBaseUser | AnonymousUser) -> bool:
    return submission_can_view(viewer, run.submission)
