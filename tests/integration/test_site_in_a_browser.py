"""The site end to end in a real browser, on the deployment's services: a researcher uploads
an example method through the submit form, watches its run reach `succeeded` on the run page
without reloading it, publishes it, finds it on the leaderboard, filters and sorts the board,
switches the chart's axes, exports the view as CSV, and opens the result page's histogram.

The web side is the test's live server; a platform Celery worker and a runner run as
separate processes on RabbitMQ and Docker (tests/integration/test_platform_and_runner.py).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from submissions.models import Run, Submission
from tests.fixtures.browser import log_in
from tests.integration.test_platform_and_runner import IDENTITY, RUN_TIMEOUT_S

pytestmark = [pytest.mark.docker, pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_method_submitted_in_the_browser_is_measured_ranked_and_read(
    rabbitmq_url, use_broker, deployment, docker_client, browser_context, live_server, tmp_path: Path, screenshots
) -> None:
    site = deployment(rabbitmq_url, use_broker(rabbitmq_url), "web")
    tag = site._build("COPY compress /usr/local/bin/compress\n", {"compress": IDENTITY})
    tarball = tmp_path / "identity.tar"
    with open(tarball, "wb") as out:
        for chunk in docker_client.images.get(tag).save(named=True):
            out.write(chunk)

    log_in(browser_context, live_server.url, username="ada", password="unused-password-1")
    page = browser_context.new_page()
    page.goto(f"{live_server.url}/submissions/new/")
    page.get_by_label("Name", exact=True).fill("identity, from the browser")
    page.get_by_label("Description", exact=True).fill("the reference model, unchanged")
    page.get_by_label("Benchmark", exact=True).select_option(site.benchmark.slug)
    page.get_by_label(site.hardware.name).check()
    page.get_by_label("Image tarball", exact=True).set_input_files(str(tarball))
    page.screenshot(path=str(screenshots / "submit.png"), full_page=True)
    page.get_by_role("button", name="Upload and queue the runs").click()
    page.wait_for_url(re.compile(r"/submissions/\d+/$"), timeout=120_000)
    submission = Submission.objects.get(name="identity, from the browser")
    run = submission.runs.get()

    # The run page follows the run without reloading: a marker set now survives to the end.
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    page.evaluate("window.__sameDocument = true")
    page.wait_for_function(
        "document.getElementById('run-state').dataset.state === 'succeeded' || "
        "document.getElementById('run-state').dataset.state === 'failed'",
        timeout=RUN_TIMEOUT_S * 1000,
        polling=1000,
    )
    run.refresh_from_db()
    assert run.state == Run.SUCCEEDED, f"{run.failure_code}: {run.failure_reason}"
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("#live-result").is_visible()

    page.goto(f"{live_server.url}/submissions/{submission.pk}/")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(re.compile(rf"/submissions/{submission.pk}/$"))

    # The leaderboard: the entry, filters and sort kept in the URL, the chart's axes.
    board = f"{live_server.url}/benchmarks/{site.benchmark.slug}/{site.hardware.name}/"
    page.goto(board)
    assert page.locator("#leaderboard a.method").all_inner_texts() == ["identity, from the browser"]
    page.locator("#id_division").select_option("standard")
    page.wait_for_url(re.compile(r"division=standard"))
    page.locator('#leaderboard thead a[data-sort-key="latency_p50_us"]').click()
    page.wait_for_url(re.compile(r"sort=latency_p50_us"))
    assert "division=standard" in page.url
    page.get_by_label("Horizontal axis").select_option("energy_mj")
    assert page.locator("#pareto-chart").get_attribute("data-axis") == "energy_mj"
    page.get_by_label("Horizontal axis").select_option("latency_p50_us")
    page.screenshot(path=str(screenshots / "leaderboard.png"), full_page=True)
    with page.expect_download() as download_info:
        page.locator("#export-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert [(row["method"], row["run_id"], row["division"]) for row in rows] == [
        ("identity, from the browser", str(run.pk), "standard")
    ]
    assert float(rows[0]["speedup"]) == pytest.approx(
        run.result.figures.get(subject="submission", name="speedup").value
    )

    # The result page: the histogram of both servers' raw latencies.
    page.locator("#leaderboard a.method").click()
    page.wait_for_url(re.compile(rf"/runs/{run.pk}/$"))
    chart = "Chart.getChart(document.getElementById('latency-chart'))"
    page.wait_for_function(f"{chart} !== undefined")
    assert page.evaluate(f"{chart}.data.datasets.length") == 2
    page.screenshot(path=str(screenshots / "result.png"), full_page=True)
