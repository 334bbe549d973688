"""Writes of the papers app."""

from __future__ import annotations

from papers.models import Paper
from submissions.models import Submission


def paper_submission_link(*, paper: Paper, submission: Submission) -> None:
    """Record that `submission` implements `paper`'s method (its claims may then measure it)."""
    paper.submissions.add(submission)
