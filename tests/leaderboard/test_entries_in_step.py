"""Board entries follow what changes after ingestion: publishing and withdrawing (kept in step
by the database, whoever writes), a newer run, an invalidation."""

from __future__ import annotations

import pytest

from leaderboard.models import BoardEntry
from leaderboard.selectors import leaderboard_rows
from submissions.models import Submission
from submissions.services import result_invalidate
from tests.factories.figures import entry_figures
from tests.factories.rows import make_run

pytestmark = pytest.mark.django_db


def _names(benchmark, hardware_class) -> list[str]:
    return [row.name for row in leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class).rows]


def test_a_withdrawal_by_any_writer_takes_the_entry_off_the_board(add_entry, benchmark, hardware_class) -> None:
    run = add_entry(name="kept")
    add_entry(name="withdrawn later")
    assert sorted(_names(benchmark, hardware_class)) == ["kept", "withdrawn later"]
    # A bulk update, as the admin's or the API's would be: no Python code of the board runs.
    Submission.objects.filter(name="withdrawn later").update(published=False)
    assert _names(benchmark, hardware_class) == ["kept"]
    assert BoardEntry.objects.get(submission__name="withdrawn later").published is False
    Submission.objects.filter(name="withdrawn later").update(published=True)
    assert sorted(_names(benchmark, hardware_class)) == ["kept", "withdrawn later"]
    assert run.submission.published


def test_an_entry_written_for_a_private_submission_appears_once_it_is_published(
    add_entry, benchmark, hardware_class
) -> None:
    add_entry(name="private first", published=False)
    assert _names(benchmark, hardware_class) == []
    submission = Submission.objects.get(name="private first")
    submission.published = True
    submission.save()
    assert _names(benchmark, hardware_class) == ["private first"]


def test_a_newer_run_replaces_the_older_one_on_the_board(add_entry, benchmark, hardware_class) -> None:
    first = add_entry(name="re-run", speedup=1.5)
    _names(benchmark, hardware_class)
    make_run(
        submission=first.submission,
        hardware_class=hardware_class,
        figures=entry_figures(speedup=3.0),
        meets_accuracy_floor=True,
    )
    [row] = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class).rows
    assert row.speedup == pytest.approx(3.0) and row.run.pk != first.pk
    assert BoardEntry.objects.get(run=first).superseded is True


def test_an_invalidation_withholds_an_entry_already_written(add_entry, benchmark, hardware_class, owner) -> None:
    run = add_entry(name="suspect")
    assert _names(benchmark, hardware_class) == ["suspect"]
    result_invalidate(result=run.result, by=owner, reason="labels in the image")
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class)
    assert board.rows == [] and [row.name for row in board.withheld] == ["suspect"]


def test_results_beyond_one_batch_all_get_their_entries(add_entry, benchmark, hardware_class, monkeypatch) -> None:
    from leaderboard import entries

    # Written in batches of two: each batch follows the one before, none is skipped.
    monkeypatch.setattr(entries, "BATCH", 2)
    for number in range(5):
        add_entry(name=f"method {number}")
    assert entries.entries_ensure(benchmark=benchmark, hardware_class=hardware_class) == 5
    assert sorted(_names(benchmark, hardware_class)) == [f"method {number}" for number in range(5)]
    # Read again: nothing is missing, nothing is written twice.
    assert entries.entries_ensure(benchmark=benchmark, hardware_class=hardware_class) == 0
    assert BoardEntry.objects.count() == 5
