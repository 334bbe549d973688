"""GET /benchmarks/<slug>/<class>/leaderboard.csv and .json: the page's board, with labels."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from django.test import Client

from leaderboard.exports import CSV_COLUMNS
from submissions.services import result_invalidate
from tests.factories.scenes import BudgetBoard, Demo, make_budget_board

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(demo: Demo) -> BudgetBoard:
    return make_budget_board(demo)


def _csv(client: Client, url: str, **params: str) -> list[dict[str, str]]:
    response = client.get(f"{url}leaderboard.csv", params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames) == CSV_COLUMNS
    return list(reader)


def _json(client: Client, url: str, **params: str) -> dict:
    response = client.get(f"{url}leaderboard.json", params)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return json.loads(response.content)


def _page_submissions(client: Client, url: str, **params: str) -> list[int]:
    body = client.get(url, params).content.decode()
    return [int(pk) for pk in re.findall(r'<tr data-submission="(\d+)">', body)]


def test_the_csv_has_the_pages_entries_in_the_pages_order(client: Client, board) -> None:
    rows = _csv(client, board.url)
    assert [(r["rank"], r["method"]) for r in rows] == [
        ("1", "just above"),
        ("2", "int8 dynamic"),
        ("3", "at the limit"),
        ("4", "measured small"),
        ("5", "magnitude pruning 50%"),
        ("", "binary net"),  # under the accuracy floor: listed, not ranked
    ]
    assert [int(r["submission_id"]) for r in rows] == _page_submissions(client, board.url)
    at_limit = next(r for r in rows if r["method"] == "at the limit")
    assert int(at_limit["run_id"]) == board.at_limit.pk
    assert int(at_limit["submission_id"]) == board.at_limit.submission_id


def test_the_csv_of_a_track_is_that_boards_with_its_sort(client: Client, board) -> None:
    rows = _csv(client, board.url, track="small-lab", sort="name")
    assert [(r["rank"], r["method"], r["track"]) for r in rows] == [
        ("1", "at the limit", "small-lab"),
        ("2", "measured small", "small-lab"),
    ]
    assert [int(r["submission_id"]) for r in rows] == _page_submissions(
        client, board.url, track="small-lab", sort="name"
    )


def test_declared_totals_say_so_and_keep_their_parts_apart(client: Client, board) -> None:
    rows = {r["method"]: r for r in _csv(client, board.url)}
    at_limit = rows["at the limit"]
    assert (at_limit["declared"], at_limit["track"]) == ("true", "small-lab")
    assert (at_limit["measured_device_hours"], at_limit["measured_kwh"], at_limit["measured_kwh_label"]) == (
        "1.0",
        "1.0",
        "measured",
    )
    assert (at_limit["declared_device_hours"], at_limit["declared_kwh"], at_limit["declared_kwh_label"]) == (
        "23.0",
        "9.0",
        "declared",
    )
    assert (at_limit["total_device_hours"], at_limit["total_kwh"], at_limit["total_kwh_labels"]) == (
        "24.0",
        "10.0",
        "declared+measured",
    )
    assert (at_limit["co2e_grams"], at_limit["grid_intensity_g_per_kwh"]) == ("4800.0", "480.0")
    small = rows["measured small"]
    assert (small["declared"], small["declared_kwh"], small["total_kwh_labels"]) == ("false", "", "estimated")
    assert (small["energy_per_inference_mj"], small["energy_per_inference_mj_label"]) == ("", "")


def test_break_even_is_a_count_or_never(client: Client, board) -> None:
    rows = {r["method"]: r for r in _csv(client, board.url)}
    # 10 kWh of search = 3.6e7 J; 0.2 mJ saved per inference.
    assert rows["at the limit"]["break_even_inferences"] == "180000000000"
    assert rows["at the limit"]["break_even_search_labels"] == "declared+measured"
    assert rows["just above"]["break_even_inferences"] == "never"
    assert rows["int8 dynamic"]["break_even_inferences"] == ""
    assert rows["int8 dynamic"]["break_even_reason"].startswith("no energy per inference")


def test_the_json_export_matches_the_csv_and_labels_every_part(client: Client, board) -> None:
    document = _json(client, board.url, track="medium")
    assert document["schema"] == "footprint.leaderboard/1"
    assert document["track"]["slug"] == "medium" and document["sort"] == "rank"
    entries = {e["method"]: e for e in document["entries"]}
    assert list(entries) == ["just above", "at the limit", "measured small"]
    above = entries["just above"]
    assert (above["rank"], above["track"], above["declared"]) == (1, "medium", True)
    assert above["search_cost"]["declared"]["kwh"] == 9.001
    assert above["search_cost"]["total"]["labels"] == ["declared", "measured"]
    assert above["energy_break_even"]["inferences"] == "never"
    assert above["energy_break_even"]["reason"].startswith("never: the method uses 0.5 mJ per inference")
    assert entries["at the limit"]["energy_break_even"]["inferences"] == 180_000_000_000
    assert entries["measured small"]["search_cost"]["declared"] is None
    assert entries["measured small"]["search_cost"]["measured"]["energy_label"] == "estimated"
    assert entries["measured small"]["figures"]["speedup"] == {"value": 1.3, "unit": "ratio", "label": "measured"}


@pytest.mark.parametrize("who", ["anonymous", "owner", "stranger"])
def test_private_submissions_are_left_out_exactly_as_on_the_page(
    board, who: str, owner_client: Client, stranger_client: Client
) -> None:
    client = {"anonymous": Client(), "owner": owner_client, "stranger": stranger_client}[who]
    for track in ("", "small-lab"):
        params = {"track": track} if track else {}
        page = _page_submissions(client, board.url, **params)
        exported = [int(r["submission_id"]) for r in _csv(client, board.url, **params)]
        document = _json(client, board.url, **params)
        assert exported == page == [e["submission_id"] for e in document["entries"]]
        for private in (board.private_small.submission_id, board.demo.private.pk):
            assert private not in exported


def test_the_page_links_both_exports_for_its_board(client: Client, board) -> None:
    body = client.get(board.url, {"track": "small-lab", "sort": "accuracy"}).content.decode()
    csv_href = html.unescape(re.search(r'<a href="([^"]+)" id="export-csv">', body).group(1))
    json_href = html.unescape(re.search(r'<a href="([^"]+)" id="export-json">', body).group(1))
    assert csv_href == f"{board.url}leaderboard.csv?track=small-lab&sort=accuracy"
    assert json_href == f"{board.url}leaderboard.json?track=small-lab&sort=accuracy"
    default = client.get(board.url).content.decode()
    assert f'<a href="{board.url}leaderboard.csv" id="export-csv">' in default


def test_an_unknown_track_is_a_404_that_says_so(client: Client, board) -> None:
    response = client.get(f"{board.url}leaderboard.csv", {"track": "tiny-lab"})
    assert response.status_code == 404 and response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == (
        "this benchmark has no budget track 'tiny-lab'; its tracks are: small-lab, medium, large-lab\n"
    )
    response = client.get(f"{board.url}leaderboard.json", {"track": "tiny-lab"})
    assert response.status_code == 404
    assert json.loads(response.content)["tracks"] == ["small-lab", "medium", "large-lab"]


def test_an_unknown_benchmark_or_class_is_a_404(client: Client, board) -> None:
    assert client.get("/benchmarks/nope/cpu-local/leaderboard.csv").status_code == 404
    assert client.get(f"/benchmarks/{board.demo.benchmark.slug}/nope/leaderboard.json").status_code == 404


def test_the_downloads_are_named_after_the_board(client: Client, board) -> None:
    response = client.get(f"{board.url}leaderboard.json", {"track": "small-lab"})
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="footprint-digits-cpu-local-small-lab-leaderboard.json"'
    )


def test_withheld_entries_come_last_in_the_exports_with_their_mark_as_on_the_page(client: Client, board) -> None:
    result_invalidate(result=board.demo.fast_run.result, by=board.demo.owner, reason="replies sent ahead")
    rows = _csv(client, board.url)
    assert [(r["rank"], r["method"], r["status"]) for r in rows][-2:] == [
        ("", "binary net", "under_accuracy_floor"),
        ("", "int8 dynamic", "invalidated"),
    ]
    assert rows[-1]["unranked_reason"].endswith(": replies sent ahead")
    assert [int(r["submission_id"]) for r in rows] == _page_submissions(client, board.url)
    last = _json(client, board.url)["entries"][-1]
    assert (last["method"], last["status"], last["invalidation"]["reason"]) == (
        "int8 dynamic",
        "invalidated",
        "replies sent ahead",
    )
