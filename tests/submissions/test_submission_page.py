"""The submission page marks a run whose result is never ranked, and says why in the label's title."""

from __future__ import annotations

import pytest
from django.test import Client

from submissions.services import result_invalidate
from tests.factories.documents import failed_timed_predictions
from tests.factories.figures import result_figures
from tests.factories.rows import make_run
from tests.factories.scenes import Demo

pytestmark = pytest.mark.django_db


def test_a_run_whose_audit_failed_is_marked_not_ranked(client: Client, demo: Demo) -> None:
    make_run(
        submission=demo.fast,
        hardware_class=demo.hardware_class,
        figures=result_figures(accuracy=0.97, latency_p50_us=10.0, speedup=20.0),
        meets_accuracy_floor=True,
        audits=[failed_timed_predictions()],
    )
    body = client.get(f"/submissions/{demo.fast.pk}/").content.decode()
    assert body.count('class="label withheld"') == 1  # the new run, not the earlier honest one
    assert 'data-standing="audit_failed"' in body and "not ranked: an audit failed" in body
    assert 'title="audit timed_predictions' in body


def test_an_invalidated_run_is_marked_with_the_reason(client: Client, demo: Demo) -> None:
    result_invalidate(result=demo.fast_run.result, by=demo.owner, reason="replies sent ahead")
    body = client.get(f"/submissions/{demo.fast.pk}/").content.decode()
    assert "not ranked: invalidated by an operator" in body and ": replies sent ahead" in body
