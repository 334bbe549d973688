"""Two platform workers handling reports of one run at the same time (real connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from submissions.models import Run, RunTransition
from submissions.services import run_ingest_result
from submissions.state import run_report_progress
from tests.factories.documents import result_document


def _race(*actions) -> list[BaseException]:
    """Run the actions in threads (one database connection each) released together."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def worker(action) -> None:
        try:
            barrier.wait(timeout=10)
            action()
        except BaseException as exc:  # noqa: BLE001  (reported to the test below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite serializes writers (its in-memory test database refuses concurrent ones); "
    "this checks PostgreSQL's row locks",
)
def test_the_same_report_handled_twice_at_once_is_recorded_once(run):
    run_report_progress(run=run, attempt=1, state="staging", reason="loading")
    for _ in range(5):
        copies = [Run.objects.get(pk=run.pk) for _ in range(4)]
        errors = _race(
            *[
                (lambda c=c: run_report_progress(run=c, attempt=1, state="compressing", reason="compress"))
                for c in copies
            ]
        )
        assert errors == []
        assert RunTransition.objects.filter(run=run, to_state="compressing").count() == 1
        RunTransition.objects.filter(run=run, to_state="compressing").delete()
        Run.objects.filter(pk=run.pk).update(state="staging")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite serializes writers (its in-memory test database refuses concurrent ones); "
    "this checks PostgreSQL's row locks",
)
def test_a_result_delivered_twice_at_once_is_stored_once(run):
    document = result_document(run.pk)
    errors = _race(*[(lambda: run_ingest_result(document=document)) for _ in range(3)])
    assert errors == []
    run.refresh_from_db()
    assert run.state == "succeeded"
    assert RunTransition.objects.filter(run=run, ignored=False).count() == 1
