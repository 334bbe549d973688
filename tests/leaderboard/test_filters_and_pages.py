"""The leaderboard's view in its URL: filters (hardware class, division, paper, flags), pages,
and exports of exactly that view; queries that do not grow with the page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.test import Client

from submissions.models import Submission
from tests.factories.figures import entry_figures
from tests.factories.rows import make_hardware_class

pytestmark = pytest.mark.django_db

URL = "/benchmarks/tiny/cpu-test/"


def _methods(body: str) -> list[str]:
    table = re.search(r'<table id="leaderboard">(.*?)</table>', body, re.DOTALL).group(1)
    return re.findall(r'class="method">([^<]+)</a>', table)


def _ranks(body: str) -> list[str]:
    table = re.search(r'<table id="leaderboard">(.*?)</table>', body, re.DOTALL).group(1)
    return re.findall(r'<tr data-submission="\d+">\s*<td class="num">(\d+)</td>', table)


def _csv_methods(client: Client, **params) -> list[str]:
    response = client.get(f"{URL}leaderboard.csv", params)
    return [row["method"] for row in csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))]


@pytest.fixture
def board(add_entry, paper):
    for number in range(7):
        add_entry(name=f"entry {number}", speedup=1.0 + number / 10)
    own = add_entry(name="own kernel", speedup=5.0)
    Submission.objects.filter(pk=own.submission_id).update(division="own")
    paper.submissions.add(add_entry(name="from the paper", speedup=0.9).submission)
    add_entry(
        name="sparse",
        figures={
            **entry_figures(speedup=1.1),
            ("submission", "theoretical_speedup"): (10.0, "ratio", "measured"),
        },
    )


def test_pages_hold_the_ranking_in_order_and_ranks_continue(client: Client, board) -> None:
    first = client.get(URL, {"per_page": 4}).content.decode()
    second = client.get(URL, {"per_page": 4, "page": 2}).content.decode()
    assert _methods(first) == ["own kernel", "entry 6", "entry 5", "entry 4"]
    assert _ranks(first) == ["1", "2", "3", "4"] and _ranks(second) == ["5", "6", "7", "8"]
    assert "Entries 5&ndash;8 of 10" in second
    assert 'rel="next"' in first and 'rel="prev"' in second
    # A page past the last shows the last.
    assert _ranks(client.get(URL, {"per_page": 4, "page": 99}).content.decode()) == ["9", "10"]


def test_a_division_filter_keeps_its_entries_and_the_sort_and_the_export_follows(client: Client, board) -> None:
    body = client.get(URL, {"division": "own", "sort": "name"}).content.decode()
    assert _methods(body) == ["own kernel"]
    assert 'href="/benchmarks/tiny/cpu-test/leaderboard.csv?sort=name&amp;division=own"' in body
    assert _csv_methods(client, division="own", sort="name") == ["own kernel"]
    # Sort links keep the filter.
    assert 'href="?sort=-name&amp;division=own"' in body


def test_the_paper_and_flag_filters(client: Client, board, paper) -> None:
    assert _methods(client.get(URL, {"paper": paper.slug}).content.decode()) == ["from the paper"]
    flagged = client.get(URL, {"flag": "smaller_not_faster"}).content.decode()
    assert _methods(flagged) == ["sparse"]
    assert _csv_methods(client, flag="smaller_not_faster") == ["sparse"]
    # An unknown flag or division is dropped, not an error.
    assert client.get(URL, {"flag": "bogus", "division": "bogus"}).status_code == 200


def test_choosing_another_hardware_class_goes_to_its_board_with_the_filters(client: Client, board) -> None:
    make_hardware_class(name="cpu-other", cpuset="2")
    response = client.get(URL, {"hardware_class": "cpu-other", "division": "own", "page": "3"})
    assert response.status_code == 302
    assert response["Location"] == "/benchmarks/tiny/cpu-other/?division=own"


def test_the_chart_data_holds_the_page_and_the_front_and_labels_each_point(client: Client, board) -> None:
    body = client.get(URL, {"per_page": 2}).content.decode()
    data = re.search(r'<script id="pareto-data" type="application/json">(.*?)</script>', body, re.DOTALL).group(1)
    import json

    points = json.loads(data)["points"]
    on_page = [p["name"] for p in points if p.get("on_page") and p["kind"] == "entry"]
    assert on_page == ["own kernel", "entry 6"]
    assert any(p["kind"] == "reference" for p in points)
    assert all(p["track"] for p in points if p["kind"] == "entry")  # coloured by track


def test_queries_do_not_grow_with_the_page(client: Client, board, django_assert_max_num_queries) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(URL)  # writes the board entries once
    counts = []
    for per_page in (2, 10):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, {"per_page": per_page}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
