"""The public pages in a real browser (Playwright, Debian's Chromium): the leaderboard's sort,
filters, chart and export; the result page's histogram; the submit page; phone width.

The end-to-end run of a real submission through the form is tests/integration/test_site_in_a_browser.py.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from submissions.models import Run
from submissions.services import run_ingest_result
from tests.factories.documents import energy_result_document
from tests.factories.rows import make_submission
from tests.factories.scenes import Demo, make_budget_board
from tests.fixtures.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ranked(page) -> list[str]:
    return page.locator("#leaderboard tbody a.method").all_inner_texts()


def test_sorting_filters_the_chart_and_the_export_work_in_a_browser(
    browser_context, live_server, demo: Demo, screenshots: Path
) -> None:
    board = make_budget_board(demo)
    page = browser_context.new_page()
    page.goto(f"{live_server.url}{board.url}")
    assert page.title() == "Digits leaderboard on cpu-local · Footprint"
    assert _ranked(page) == ["just above", "int8 dynamic", "at the limit", "measured small", "magnitude pruning 50%"]
    page.screenshot(path=str(screenshots / "leaderboard.png"), full_page=True)

    # Sort: a click on a header, then again to reverse; the URL says so.
    page.locator('#leaderboard thead a[data-sort-key="accuracy"]').click()
    page.wait_for_url(re.compile(r"sort=accuracy"))
    assert _ranked(page)[0] == "magnitude pruning 50%"
    page.locator('#leaderboard thead a[data-sort-key="accuracy"]').click()
    page.wait_for_url(re.compile(r"sort=-accuracy"))

    # Filters apply themselves and stay in the URL with the order.
    page.locator("#id_track").select_option("small-lab")
    page.wait_for_url(re.compile(r"track=small-lab"))
    assert "sort=-accuracy" in page.url
    assert sorted(_ranked(page)) == ["at the limit", "measured small"]
    page.get_by_label("holds an estimated figure").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"flag=estimated"))
    assert _ranked(page) == ["measured small"]

    # The chart's axes switch; its points are the page's entries and the front.
    canvas = page.locator("#pareto-chart")
    assert canvas.get_attribute("data-axis") == "latency_p50_us"
    page.get_by_label("Horizontal axis").select_option("energy_mj")
    assert canvas.get_attribute("data-axis") == "energy_mj"
    page.get_by_label("log scale (accuracy)").check()
    assert page.evaluate("Chart.getChart(document.getElementById('pareto-chart')).options.scales.y.type") == (
        "logarithmic"
    )

    # The export is exactly this view.
    with page.expect_download() as download_info:
        page.locator("#export-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert [row["method"] for row in rows] == ["measured small"]
    assert all(row["track"] == "small-lab" for row in rows)


def test_the_leaderboard_keeps_its_key_columns_at_phone_width(
    browser_context, live_server, demo: Demo, screenshots: Path
) -> None:
    page = browser_context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}{demo.leaderboard_url}")
    headers = [h.strip() for h in page.locator("#leaderboard thead th:visible").all_inner_texts()]
    assert [h.split("\n")[0].split(" ")[0] for h in headers] == ["Rank", "Method", "Accuracy", "Speed-up", "Latency"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 420, f"the page is {width} px wide at 390 px"
    page.screenshot(path=str(screenshots / "leaderboard-phone.png"), full_page=True)
    # Keyboard: the skip link comes first and leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"


def test_the_result_page_draws_the_latency_histogram_of_both_servers(
    browser_context, live_server, demo: Demo, screenshots: Path
) -> None:
    submission = make_submission(owner=demo.owner, benchmark=demo.benchmark, name="int8, measured")
    run = Run.objects.create(submission=submission, hardware_class=demo.hardware_class)
    run_ingest_result(document=energy_result_document(run.pk, compression_ratio=4.0, theoretical_speedup=2.0))
    page = browser_context.new_page()
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    assert page.title().startswith("int8, measured: result on Digits")
    chart = "Chart.getChart(document.getElementById('latency-chart'))"
    page.wait_for_function(f"{chart} !== undefined")
    assert page.evaluate(f"{chart}.data.datasets.map(d => d.label.split(' ')[0])") == ["reference", "submission"]
    assert page.evaluate(f"{chart}.data.datasets[1].data.length") == 40
    assert page.locator("#headline-speedup .big").inner_text() == "1.50\u00d7"
    page.screenshot(path=str(screenshots / "result.png"), full_page=True)
    page.get_by_label("Show").select_option("cdf")
    assert page.locator("#latency-chart").get_attribute("data-view") == "cdf"
    page.locator("#latency-chart").screenshot(path=str(screenshots / "result-latency-cdf.png"))


def test_the_submit_page_has_labelled_fields_and_a_progress_bar(
    browser_context, live_server, demo: Demo, screenshots: Path
) -> None:
    log_in(browser_context, live_server.url, username="ada", password="ada-password-123")
    page = browser_context.new_page()
    page.goto(f"{live_server.url}/submissions/new/")
    assert page.title() == "Submit a method · Footprint"
    for label in ("Name", "Description", "Benchmark", "Paper", "Image tarball", "Declared search: hours"):
        assert page.get_by_label(label, exact=True).count() == 1, label
    page.get_by_label("Description", exact=True).fill("x" * 12)
    assert page.locator("#description-count").inner_text() == "12 of 5000 characters"
    assert page.locator("#upload-progress").is_hidden()
    page.screenshot(path=str(screenshots / "submit.png"), full_page=True)
