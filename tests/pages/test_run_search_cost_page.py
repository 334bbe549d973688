"""The run page's "Search cost" block and /runs/<id>/result.json."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.test import Client

from tests.factories.scenes import HOSTILE, BudgetBoard, Demo, make_budget_board

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(demo: Demo) -> BudgetBoard:
    return make_budget_board(demo)


def _block(body: str) -> str:
    """The search cost block, up to the next section of the page."""
    match = re.search(r'<h2 id="search-cost-heading">Search cost</h2>(.*?)</details>', body, re.DOTALL)
    assert match, "no search cost block"
    return match.group(1)


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip())


def _section(block: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:dl|p|div)>', block, re.DOTALL)
    assert match, f"no #{element_id}"
    return _text(match.group(1))


def test_it_shows_the_measured_part_the_declared_part_and_the_totals(client: Client, board) -> None:
    block = _block(client.get(f"/runs/{board.at_limit.pk}/").content.decode())
    measured = _section(block, "search-measured")
    for expected in (
        "wall time 3,600 s (1.00 h)",
        "CPU-hours 0.900",
        "GPU-hours 0",
        "device-hours 1.00",
        "energy 1.00 kWh (3,600,000 J net) measured",
        "peak memory 3.0 GiB",
    ):
        assert expected in measured
    declared = re.search(r'<div class="notice declared-search" id="search-declared">(.*?)</div>', block, re.DOTALL)
    declared_text = _text(declared.group(1))
    assert "Declared by the submitter, not measured by Footprint." in declared_text
    assert "NVIDIA A100 40GB \u00d7 23 for 1.00 h = 23.0 device-hours" in declared_text
    assert "trials 7" in declared_text and "energy 9.00 kWh (as stated)" in declared_text
    totals = _section(block, "search-totals")
    assert "device-hours 24.0 measured + declared" in totals and "energy 10.0 kWh declared" in totals


def test_submitted_text_is_escaped(client: Client, board) -> None:
    body = client.get(f"/runs/{board.at_limit.pk}/").content.decode()
    assert HOSTILE not in body
    assert "grid search &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body


def test_it_names_the_track_the_co2e_and_the_break_even(client: Client, board) -> None:
    block = _block(client.get(f"/runs/{board.at_limit.pk}/").content.decode())
    assert '<strong data-track="small-lab">Small lab</strong>' in block
    assert "track-reasons" not in block  # the smallest track: nothing to explain
    co2e = _section(block, "search-co2e")
    assert "4,800 g CO2e = 10.0 kWh \u00d7 480 gCO2e/kWh, the grid intensity set for cpu-local" in co2e
    break_even = _section(block, "search-break-even")
    assert break_even.startswith("After 180,000,000,000 inferences the method has saved more energy")


def test_a_larger_track_says_why_the_smaller_one_did_not_fit(client: Client, board) -> None:
    block = _block(client.get(f"/runs/{board.just_above.pk}/").content.decode())
    assert '<strong data-track="medium">Medium</strong>' in block
    reasons = re.search(r'<ul class="small" id="track-reasons">(.*?)</ul>', block, re.DOTALL).group(1)
    assert _text(reasons) == "Small lab: 10.001 kWh > 10 kWh"


def test_break_even_never_is_said_in_words(client: Client, board) -> None:
    block = _block(client.get(f"/runs/{board.just_above.pk}/").content.decode())
    assert 'id="search-break-even" data-never="true"' in block
    assert _section(block, "search-break-even").startswith(
        "Never: the method uses more energy per inference than the reference (0.500 mJ against 0.300 mJ"
    )


def test_the_trial_log_is_drawn_by_the_chart_library_from_escaped_data(client: Client, board) -> None:
    body = client.get(f"/runs/{board.at_limit.pk}/").content.decode()
    charts = re.findall(r'<figure class="trial-curve" data-curve="(\w+)">.*?<canvas id="curve-(\w+)"', body, re.DOTALL)
    assert charts == [("trials", "trials"), ("energy", "energy"), ("expected_max", "expected_max")]
    data = re.search(r'<script id="trial-data" type="application/json">(.*?)</script>', body, re.DOTALL).group(1)
    assert "<" not in data  # json_script escapes <, > and &: no text of the log can close the element
    curves = json.loads(data)
    assert sorted(curves) == ["energy", "expected_max", "trials"]
    assert all(point["y"] <= 1 for series in curves["trials"]["series"] for point in series["points"])
    assert "/static/vendor/chartjs/chart.umd.min.js" in body
    block = _block(body)
    assert "7 trials in method.json , 1 failed (counted on the trial and energy axes" in _text(block)


def test_a_result_from_before_search_costs_renders_with_its_unknowns(client: Client, demo: Demo) -> None:
    response = client.get(f"/runs/{demo.fast_run.pk}/")
    assert response.status_code == 200
    block = _block(response.content.decode())
    assert "No off-platform search declared" in block
    assert "energy unknown: no energy figure" in _section(block, "search-measured")
    assert _section(block, "search-co2e").startswith("No CO2e: no grid carbon intensity is set for this hardware class")
    assert _section(block, "search-break-even").startswith("Cannot be computed: no energy per inference")
    assert 'id="trial-log-none"' in block
    assert "This benchmark defines no budget tracks." in block


def test_a_run_without_a_result_has_no_search_cost_block(client: Client, demo: Demo) -> None:
    for run in (demo.queued_run, demo.failed_run):
        response = client.get(f"/runs/{run.pk}/")
        assert response.status_code == 200
        assert 'id="search-cost-heading"' not in response.content.decode()


def test_the_result_json_holds_the_stored_document_and_the_budget(client: Client, board) -> None:
    response = client.get(f"/runs/{board.just_above.pk}/result.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    document = json.loads(response.content)
    assert document["result"]["method"]["search"]["energy_kwh"] == 9.001
    budget = document["budget"]
    assert (budget["track"], budget["track_reasons"]) == ("medium", ["Small lab: 10.001 kWh > 10 kWh"])
    assert budget["search_cost"]["measured"]["label"] == "measured"
    assert budget["search_cost"]["declared"]["label"] == "declared"
    assert budget["energy_break_even"] == {**budget["energy_break_even"], "inferences": "never", "never": True}
    assert budget["co2e"]["grams"] == pytest.approx(10.001 * 480)


def test_the_result_json_of_an_old_or_unfinished_run(client: Client, demo: Demo) -> None:
    old = json.loads(client.get(f"/runs/{demo.fast_run.pk}/result.json").content)
    assert old["budget"]["track"] is None and old["budget"]["search_cost"]["declared"] is None
    queued = json.loads(client.get(f"/runs/{demo.queued_run.pk}/result.json").content)
    assert (queued["state"], queued["result"], queued["budget"]) == ("queued", None, None)


def test_the_result_json_of_a_private_run_is_visible_as_its_page_is(
    client: Client, board, owner_client: Client, stranger_client: Client
) -> None:
    url = f"/runs/{board.private_small.pk}/result.json"
    for viewer, status in ((client, 404), (stranger_client, 404), (owner_client, 200)):
        assert viewer.get(url).status_code == status
        assert viewer.get(f"/runs/{board.private_small.pk}/").status_code == status
