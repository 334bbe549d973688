"""The run page: state, transitions, failure reason, figures, escaped log tails, refresh."""

from __future__ import annotations

import pytest
from django.test import Client

from submissions.models import Run
from submissions.selectors import LOG_TAIL_DISPLAY_CHARS
from tests.factories.rows import make_run
from tests.factories.scenes import HOSTILE_LOG, Demo

pytestmark = pytest.mark.django_db


def test_it_shows_the_failure_reason_prominently(client: Client, demo: Demo) -> None:
    body = client.get(f"/runs/{demo.failed_run.pk}/").content.decode()
    assert '<div class="error" id="failure">' in body
    assert "The run failed in compress (compress_nonzero_exit)." in body
    assert "compress exited with code 1; its last output is below" in body


def test_it_escapes_the_log_tails(client: Client, demo: Demo) -> None:
    body = client.get(f"/runs/{demo.failed_run.pk}/").content.decode()
    assert HOSTILE_LOG not in body
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in body
    assert "Traceback: boom" in body


def test_it_lists_every_transition_with_its_reason(client: Client, demo: Demo) -> None:
    body = client.get(f"/runs/{demo.fast_run.pk}/").content.decode()
    for state in ("staging", "compressing", "measuring", "succeeded"):
        assert f"runner reached {state}" in body
    assert "runner-1.test" not in body  # which machine ran it is for operators


def test_it_shows_the_figures_with_unit_and_label(client: Client, demo: Demo) -> None:
    body = client.get(f"/runs/{demo.fast_run.pk}/").content.decode()
    assert "latency_p50" in body and "100.0 \u00b5s" in body
    assert "serve_peak_memory" in body and "25.0 MiB" in body
    assert "96.20 %" in body and "fraction" in body
    estimated = make_run(
        submission=demo.sloppy,
        hardware_class=demo.hardware_class,
        figures={("submission", "energy"): (3.5, "J", "estimated")},
        meets_accuracy_floor=False,
    )
    body = client.get(f"/runs/{estimated.pk}/").content.decode()
    assert '<span class="label">estimated</span>' in body
    assert "3.5 J" in body


def test_it_shows_log_tails_in_phase_order(client: Client, demo: Demo) -> None:
    body = client.get(f"/runs/{demo.fast_run.pk}/").content.decode()
    assert body.index('id="log-compress"') < body.index('id="log-serve_submission"')
    assert "quantized 3 layers" in body


def test_it_bounds_a_long_log_tail(client: Client, demo: Demo) -> None:
    long_log = "early line that is cut\n" + "x" * (LOG_TAIL_DISPLAY_CHARS + 10) + "\nLAST LINE"
    Run.objects.filter(pk=demo.failed_run.pk).update(logs={"compress": long_log})
    body = client.get(f"/runs/{demo.failed_run.pk}/").content.decode()
    assert "LAST LINE" in body
    assert "early line that is cut" not in body
    assert f"Only the last {LOG_TAIL_DISPLAY_CHARS} characters are shown." in body


def test_an_unfinished_run_page_polls_its_status_instead_of_reloading(client: Client, demo: Demo) -> None:
    running = make_run(submission=demo.fast, hardware_class=demo.hardware_class, state=Run.COMPRESSING)
    for run in (demo.queued_run, running):
        body = client.get(f"/runs/{run.pk}/").content.decode()
        assert '<meta http-equiv="refresh"' not in body
        assert f'data-status-url="/runs/{run.pk}/status.json"' in body and 'data-terminal="false"' in body
        assert "/static/js/run-live.js" in body
    for finished in (demo.fast_run, demo.failed_run):
        body = client.get(f"/runs/{finished.pk}/").content.decode()
        assert '<meta http-equiv="refresh"' not in body and "run-live.js" not in body or 'data-terminal="true"' in body


def test_a_queued_run_points_to_the_runners_page(client: Client, demo: Demo) -> None:
    body = client.get(f"/runs/{demo.queued_run.pk}/").content.decode()
    assert "Waiting for a runner of cpu-local." in body
    assert 'href="/runners/"' in body
