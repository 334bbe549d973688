"""The leaderboard page is cached under the board stamp (leaderboard.stamp) and never shown
older than the last committed change, whoever made it: each test commits (a transactional
database), changes one thing a board shows by the path a real writer takes, and reads the
page again."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmarks.models import Benchmark
from budgets.models import Track
from leaderboard.stamp import board_stamp
from submissions.models import Submission
from submissions.services import result_invalidate
from tests.factories.figures import entry_figures
from tests.factories.rows import make_paper, make_run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the board stamp is kept by PostgreSQL triggers; elsewhere every page is built")


def _board_url(benchmark: Benchmark, hardware_class: Any, query: str = "") -> str:
    return reverse("leaderboard", args=[benchmark.slug, hardware_class.name]) + query


def _get(url: str) -> tuple[str, int]:
    """(the page, how many queries it took)."""
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_a_second_read_is_served_from_the_cache_until_a_change(add_entry, benchmark, hardware_class) -> None:
    add_entry(name="first entry", speedup=2.0)
    url = _board_url(benchmark, hardware_class)
    built, built_queries = _get(url)
    served, served_queries = _get(url)
    assert served == built and "first entry" in served
    assert served_queries < built_queries - 5, (served_queries, built_queries)
    stamp = board_stamp()
    add_entry(name="second entry", speedup=3.0)
    assert board_stamp() != stamp
    page, queries = _get(url)
    assert "second entry" in page and queries == built_queries


def test_each_writer_of_what_a_board_shows_changes_the_page(add_entry, benchmark, hardware_class, owner) -> None:
    run = add_entry(name="kept entry", speedup=2.0)
    add_entry(name="withdrawn entry", speedup=1.5)
    url = _board_url(benchmark, hardware_class)

    def page() -> str:
        return _get(url)[0]

    assert "withdrawn entry" in page()
    # A bulk update (the database's own trigger updates the entry).
    Submission.objects.filter(name="withdrawn entry").update(published=False)
    assert "withdrawn entry" not in page()
    # A rename of the submission and of its owner: no entry column changes.
    Submission.objects.filter(pk=run.submission.pk).update(name="renamed entry")
    assert "renamed entry" in page()
    type(owner).objects.filter(pk=owner.pk).update(username="renamed-owner")
    assert "renamed-owner" in page()
    # An operator's invalidation: the entry moves to the withheld table.
    result_invalidate(result=run.result, by=owner, reason="the container read the test labels")
    assert "the container read the test labels" in page()
    # The benchmark's and the hardware class's own words.
    Benchmark.objects.filter(pk=benchmark.pk).update(name="Renamed benchmark")
    assert "Renamed benchmark" in page()
    type(hardware_class).objects.filter(pk=hardware_class.pk).update(cpu_description="a renamed CPU")
    assert "a renamed CPU" in page()
    # A newer run of the same submission, stored as a runner's report is (no entry yet).
    make_run(
        submission=Submission.objects.get(name="withdrawn entry"),
        hardware_class=hardware_class,
        figures=entry_figures(speedup=9.5),
        meets_accuracy_floor=True,
    )
    Submission.objects.filter(name="withdrawn entry").update(published=True)
    assert "9.50×" in page() or "9.5" in page()


def test_a_track_limit_and_a_paper_change_the_views_they_name(add_entry, benchmark, hardware_class) -> None:
    run = add_entry(name="papered entry", speedup=2.0)
    paper = make_paper()
    by_paper = _board_url(benchmark, hardware_class, f"?paper={paper.slug}")
    assert "papered entry" not in _get(by_paper)[0]
    paper.submissions.add(run.submission)
    assert "papered entry" in _get(by_paper)[0]
    track = Track.objects.filter(benchmark=benchmark).exclude(max_device_hours=None).order_by("order").first()
    by_track = _board_url(benchmark, hardware_class, f"?track={track.slug}")
    assert "papered entry" in _get(by_track)[0]
    Track.objects.filter(pk=track.pk).update(max_device_hours=1e-12, max_kwh=1e-15)
    assert "papered entry" not in _get(by_track)[0]


def test_a_transaction_that_wrote_reads_its_own_change_and_caches_nothing(add_entry, benchmark, hardware_class) -> None:
    add_entry(name="before", speedup=2.0)
    url = _board_url(benchmark, hardware_class)
    assert "before" in _get(url)[0]
    with transaction.atomic():
        Submission.objects.filter(name="before").update(name="inside the transaction")
        assert board_stamp() is None
        assert "inside the transaction" in _get(url)[0]
        transaction.set_rollback(True)
    # Rolled back: nothing of it was cached, the committed page is served again.
    assert board_stamp() is not None
    page = _get(url)[0]
    assert "before" in page and "inside the transaction" not in page


def test_a_truncated_table_changes_the_stamp() -> None:
    stamp = board_stamp()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE papers_paper_submissions")
    assert board_stamp() not in (None, stamp)


def test_another_order_of_a_view_read_before_reuses_its_counts_and_fronts(add_entry, benchmark, hardware_class) -> None:
    from django.core.cache import caches

    from leaderboard.stamp import CACHE_ALIAS

    for number in range(3):
        add_entry(name=f"entry {number}", speedup=1.5 + number)
    by_latency = _board_url(benchmark, hardware_class, "?sort=latency_p50_us")
    _get(by_latency)  # writes the entries
    caches[CACHE_ALIAS].clear()
    cold_page, cold = _get(by_latency)
    caches[CACHE_ALIAS].clear()
    _get(_board_url(benchmark, hardware_class))  # the default order: the board's aggregates are kept
    page, queries = _get(by_latency)
    # Neither the three counts, nor the three fronts (latency; measured and estimated energy;
    # one statement), nor the baseline's key are read again.
    assert page == cold_page and queries == cold - 5
