"""A flagged result says so, with the reason in the label's title, wherever it is shown."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from submissions.models import Figure
from tests.factories.scenes import Demo

pytestmark = pytest.mark.django_db


def _flag_unstable(demo: Demo) -> None:
    result = demo.fast_run.result
    result.flags = ["unstable"]
    result.provenance = {**result.provenance, "repeats": 3, "flag_thresholds": {"unstable_cv": 0.05}}
    result.save()
    Figure.objects.bulk_create(
        [
            Figure(
                result=result,
                subject="reference",
                name="latency_p50_cv",
                value=0.021,
                unit="fraction",
                label="measured",
            ),
            Figure(
                result=result,
                subject="submission",
                name="latency_p50_cv",
                value=0.083,
                unit="fraction",
                label="measured",
            ),
        ]
    )


def _labels(body: str, flag: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(rf'data-flag="{flag}" title="([^"]*)"', body)]


def test_the_leaderboard_row_of_an_unstable_result_says_so(client: Client, demo: Demo) -> None:
    _flag_unstable(demo)
    body = client.get(demo.leaderboard_url).content.decode()
    row = re.search(rf'<tr data-submission="{demo.fast.pk}">(.*?)</tr>', body, re.DOTALL).group(1)
    (title,) = _labels(row, "unstable")
    assert "3 fresh serve processes" in title
    assert "threshold of 5.0%" in title and "reference 2.1%" in title and "submission 8.3%" in title
    # Only the flagged row carries it.
    assert len(_labels(body, "unstable")) == 1


def test_the_run_page_and_the_submission_page_show_the_flags(client: Client, demo: Demo) -> None:
    _flag_unstable(demo)
    run_page = client.get(reverse("run-detail", args=[demo.fast_run.pk])).content.decode()
    assert len(_labels(run_page, "unstable")) == 1
    submission_page = client.get(reverse("submission-detail", args=[demo.fast.pk])).content.decode()
    assert len(_labels(submission_page, "unstable")) == 1


def test_a_result_without_flags_shows_no_label(client: Client, demo: Demo) -> None:
    body = client.get(reverse("run-detail", args=[demo.fast_run.pk])).content.decode()
    assert "data-flag=" not in body
    assert "data-flag=" not in client.get(demo.leaderboard_url).content.decode()
