"""The leaderboard's budget track tabs: boards, ranks, track and declared marks, search cost."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from budgets.models import Track
from budgets.services import tracks_ensure_defaults
from tests.factories.scenes import BudgetBoard, Demo, make_budget_board

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(demo: Demo) -> BudgetBoard:
    return make_budget_board(demo)


def _table(body: str, table_id: str = "leaderboard") -> str:
    match = re.search(rf'<table id="{table_id}">(.*?)</table>', body, re.DOTALL)
    assert match, f"no table {table_id}"
    return match.group(1)


def _ranked(body: str) -> list[tuple[str, str]]:
    """(rank, method) of the ranked table's entries, in page order."""
    rows = re.findall(
        r'<tr data-submission="\d+">\s*<td class="num">(.*?)</td>.*?class="method">([^<]+)</a>', body, re.DOTALL
    )
    return [(re.sub(r"<[^>]+>", "", rank).strip(), html.unescape(name)) for rank, name in rows]


def _row(body: str, name: str) -> str:
    for row in re.findall(r'<tr data-submission="\d+">.*?</tr>', body, re.DOTALL):
        if f'class="method">{name}</a>' in row:
            return row
    raise AssertionError(f"no row {name}")


def _tabs(body: str) -> list[tuple[str, str, bool]]:
    """(track slug, href, active) of the track tabs."""
    nav = re.search(r'<nav class="track-tabs" id="track-tabs"[^>]*>(.*?)</nav>', body, re.DOTALL).group(1)
    return [
        (slug, html.unescape(href), "active" in classes)
        for href, slug, classes in re.findall(r'<a href="([^"]*)" data-track="([^"]*)" class="([^"]*)"', nav)
    ]


def test_the_default_board_is_the_large_lab_one_and_shows_every_published_entry(client: Client, board) -> None:
    body = client.get(board.url).content.decode()
    assert _tabs(body) == [
        ("small-lab", "?track=small-lab", False),
        ("medium", "?track=medium", False),
        ("large-lab", "?", True),
    ]
    assert _ranked(_table(body)) == [
        ("1", "just above"),
        ("2", "int8 dynamic"),
        ("3", "at the limit"),
        ("4", "measured small"),
        ("5", "magnitude pruning 50%"),
    ]
    assert "private small" not in body and "secret" not in body


def test_the_small_lab_board_ranks_the_entry_at_its_limit_and_not_the_one_just_above(client: Client, board) -> None:
    body = client.get(board.url, {"track": "small-lab"}).content.decode()
    assert [active for *_, active in _tabs(body)] == [True, False, False]
    assert _ranked(_table(body)) == [("1", "at the limit"), ("2", "measured small")]
    assert "just above" not in body
    assert "binary net" not in body  # under the floor, and its total energy is unknown: large-lab only
    assert "\u2264 24 device-hours and \u2264 10 kWh" in body


def test_the_medium_board_adds_the_entry_just_above_the_small_lab_limit(client: Client, board) -> None:
    body = client.get(board.url, {"track": "medium"}).content.decode()
    assert _ranked(_table(body)) == [("1", "just above"), ("2", "at the limit"), ("3", "measured small")]


def test_every_row_shows_its_track_and_a_declared_mark_when_its_totals_hold_a_declared_part(
    client: Client, board
) -> None:
    table = _table(client.get(board.url).content.decode())
    at_limit = _row(table, "at the limit")
    assert 'data-track="small-lab"' in at_limit
    mark = re.search(
        r'<span class="label declared-mark" data-declared="true" title="([^"]+)">declared</span>', at_limit
    )
    assert mark and "declared by the submitter" in mark.group(1) and "not measured" in mark.group(1)
    assert 'data-track="medium"' in _row(table, "just above") and "declared-mark" in _row(table, "just above")
    for name in ("measured small", "int8 dynamic"):
        assert "declared" not in _row(table, name)
    assert 'data-track="large-lab"' in _row(table, "int8 dynamic")


def test_each_row_shows_its_total_device_hours_and_kwh_with_their_labels(client: Client, board) -> None:
    table = _table(client.get(board.url).content.decode())
    at_limit = _row(table, "at the limit")
    assert re.search(r'data-total="device-hours">24 h device time<span class="label"[^>]*>declared</span>', at_limit)
    assert re.search(r'data-total="kwh">10 kWh<span class="label"[^>]*>declared</span>', at_limit)
    parts = re.search(r'<div class="search-cost" title="([^"]+)"', at_limit).group(1)
    assert "compress phase on the runner (measured): 1.00 device-hours, 1.00 kWh (measured)" in parts
    assert "off-platform search (declared by the submitter, not measured): 23.0 device-hours, 9.00 kWh" in parts
    small = _row(table, "measured small")
    assert re.search(r'data-total="kwh">&asymp;&nbsp;1\.0 kWh<span class="label"[^>]*>est\.</span>', small)
    assert 'data-total="kwh"><span class="muted" title="no part of the search has an energy figure">energy unknown' in (
        _row(table, "int8 dynamic")
    )


def test_tabs_keep_the_sort_and_headers_keep_the_track(client: Client, board) -> None:
    body = client.get(board.url, {"track": "medium", "sort": "accuracy"}).content.decode()
    assert _tabs(body) == [
        ("small-lab", "?track=small-lab&sort=accuracy", False),
        ("medium", "?track=medium&sort=accuracy", True),
        ("large-lab", "?sort=accuracy", False),
    ]
    header = re.search(r"<thead>(.*?)</thead>", _table(body), re.DOTALL).group(1)
    assert 'href="?sort=-accuracy&amp;track=medium" data-sort-key="accuracy"' in header
    assert 'href="?sort=rank&amp;track=medium" data-sort-key="rank"' in header


def test_an_unknown_track_gets_a_clear_404_that_lists_the_tracks(client: Client, board) -> None:
    response = client.get(board.url, {"track": "tiny-lab"})
    assert response.status_code == 404
    body = response.content.decode()
    assert "This benchmark has no budget track &ldquo;tiny-lab&rdquo;." in body
    known = re.search(r'<ul id="known-tracks">(.*?)</ul>', body, re.DOTALL).group(1)
    assert re.findall(r"\?track=([\w-]+)", known) == ["small-lab", "medium", "large-lab"]


def test_a_hostile_track_slug_is_shown_escaped(client: Client, board) -> None:
    response = client.get(board.url, {"track": '<script>alert("t")</script>'})
    assert response.status_code == 404
    body = response.content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in body


def test_an_empty_track_board_says_where_the_entries_are(client: Client, demo: Demo) -> None:
    # The plain demo: every entry's total energy is unknown, so none fits the small lab.
    tracks_ensure_defaults(benchmark=demo.benchmark)
    body = client.get(demo.leaderboard_url, {"track": "small-lab"}).content.decode()
    notice = re.search(r'<div class="notice" id="empty-track">(.*?)</div>', body, re.DOTALL).group(1)
    assert "No entry on the Small lab board." in notice
    assert "3 published entries on this hardware exceed its limits" in notice
    assert 'id="empty-state"' not in body


def test_a_benchmark_without_tracks_has_no_tabs_and_shows_every_entry(client: Client, demo: Demo) -> None:
    body = client.get(demo.leaderboard_url).content.decode()
    assert 'id="track-tabs"' not in body
    assert [name for _, name in _ranked(_table(body))] == ["int8 dynamic", "magnitude pruning 50%"]
    assert re.search(r'data-track="" title="[^"]*">no track</span>', _row(_table(body), "int8 dynamic"))


def test_when_every_track_has_a_limit_the_default_board_is_all_entries(client: Client, board) -> None:
    Track.objects.filter(benchmark=board.demo.benchmark, slug="large-lab").update(max_kwh=1000.0)
    body = client.get(board.url).content.decode()
    assert _tabs(body) == [
        ("small-lab", "?track=small-lab", False),
        ("medium", "?track=medium", False),
        ("large-lab", "?track=large-lab", False),
        ("", "?", True),
    ]
    assert "Every entry, whatever its track." in body
    assert len(_ranked(_table(body))) == 5
    large = client.get(board.url, {"track": "large-lab"}).content.decode()
    assert [name for _, name in _ranked(_table(large))] == ["just above", "at the limit", "measured small"]
