"""A board row's cells are rendered once for what they show (leaderboard.row_cells): a page
built again after a change renders only the rows whose content changed, and shows exactly
what rendering every row would."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client, signals
from django.urls import reverse

from leaderboard import row_cells, stamp
from leaderboard.presenters import BoardQuery
from leaderboard.rows import LeaderboardRow
from leaderboard.views_query import board_of
from submissions.flags import FlagNote
from submissions.models import Submission
from submissions.services import result_invalidate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_caches() -> Iterator[None]:
    caches[row_cells.CACHE_ALIAS].clear()
    caches[stamp.CACHE_ALIAS].clear()
    yield
    caches[row_cells.CACHE_ALIAS].clear()
    caches[stamp.CACHE_ALIAS].clear()


@pytest.fixture
def rendered_cells() -> Iterator[list[dict[str, Any]]]:
    """The contexts the cells template is rendered with, in order (one per row built)."""
    seen: list[dict[str, Any]] = []

    def record(sender: Any, template: Any, context: Any, **_: Any) -> None:
        if template.name == row_cells.TEMPLATE:
            seen.append(context.flatten())

    signals.template_rendered.connect(record)
    yield seen
    signals.template_rendered.disconnect(record)


def _page(benchmark: Any, hardware_class: Any, query: str = "") -> str:
    # The page cache is emptied first: every page here is built, its rows from the row cache.
    caches[stamp.CACHE_ALIAS].clear()
    response = Client().get(reverse("leaderboard", args=[benchmark.slug, hardware_class.name]) + query)
    assert response.status_code == 200
    return response.content.decode()


def test_cells_from_the_cache_are_those_rendered(add_entry, benchmark, hardware_class, rendered_cells) -> None:
    for number in range(4):
        add_entry(name=f"entry {number}", speedup=1.2 + number, flags=["unstable"] if number == 2 else None)
    built = _page(benchmark, hardware_class)
    assert len(rendered_cells) == 4
    served = _page(benchmark, hardware_class)
    assert served == built
    assert len(rendered_cells) == 4, "a page built again rendered rows it had rendered before"
    caches[row_cells.CACHE_ALIAS].clear()
    assert _page(benchmark, hardware_class) == built
    assert len(rendered_cells) == 8


def test_only_a_row_whose_content_changed_is_rendered_again(
    add_entry, benchmark, hardware_class, owner, rendered_cells
) -> None:
    runs = [add_entry(name=f"entry {number}", speedup=1.2 + number) for number in range(4)]
    _page(benchmark, hardware_class)
    rendered_cells.clear()
    Submission.objects.filter(pk=runs[1].submission.pk).update(name="renamed entry")
    page = _page(benchmark, hardware_class)
    assert "renamed entry" in page and "entry 1<" not in page
    assert [context["row"].name for context in rendered_cells] == ["renamed entry"]
    rendered_cells.clear()
    # The slowest entry leaves the ranking: the others keep their ranks and their fronts.
    result_invalidate(result=runs[0].result, by=owner, reason="the container read the test labels")
    page = _page(benchmark, hardware_class)
    assert "the container read the test labels" in page
    assert [context["row"].name for context in rendered_cells] == ["entry 0"]


def test_ranks_that_move_keep_their_rows_cells(add_entry, benchmark, hardware_class, rendered_cells) -> None:
    # Each faster entry less accurate: all of them stay on the accuracy-latency front.
    for number in range(3):
        add_entry(name=f"entry {number}", speedup=1.5 + number, accuracy=0.99 - 0.002 * number)
    before = _page(benchmark, hardware_class)
    rendered_cells.clear()
    add_entry(name="fastest entry", speedup=9.0, accuracy=0.97)  # every other row moves down one rank
    after = _page(benchmark, hardware_class)
    assert [context["row"].name for context in rendered_cells] == ["fastest entry"]
    board = board_of(BoardQuery(), benchmark, hardware_class, page_size=50).board
    assert [(row.rank, row.name) for row in board.rows] == [
        (1, "fastest entry"),
        (2, "entry 2"),
        (3, "entry 1"),
        (4, "entry 0"),
    ]
    # Each rank cell is the row's own, beside its cells.
    assert _ranked(after) == [(1, "fastest entry"), (2, "entry 2"), (3, "entry 1"), (4, "entry 0")]
    assert _ranked(before) == [(1, "entry 2"), (2, "entry 1"), (3, "entry 0")]


ROW = re.compile(r'<tr data-submission="\d+">\s*<td class="num">(\d+)</td>.*?class="method">([^<]+)</a>', re.S)


def _ranked(page: str) -> list[tuple[int, str]]:
    """(rank, method) of each row of the ranking table, as the page shows them."""
    table = page[page.index('<table id="leaderboard">') :]
    table = table[: table.index("</table>")]
    return [(int(match[1]), match[2]) for match in ROW.finditer(table)]


def test_the_digest_covers_what_a_row_shows_and_not_its_rank(add_entry, benchmark, hardware_class) -> None:
    add_entry(name="an entry", speedup=2.0)
    row = board_of(BoardQuery(), benchmark, hardware_class, page_size=50).board.rows[0]
    digest = row_cells.row_digest(row, hardware_class)
    assert row_cells.row_digest(dataclasses.replace(row, rank=7, sort_caption="a caption"), hardware_class) == digest
    changed: list[LeaderboardRow] = [
        dataclasses.replace(row, name="another name"),
        dataclasses.replace(row, speedup=(row.speedup or 1.0) * 1.01),
        dataclasses.replace(row, labels={**row.labels, "speedup": "declared"}),
        dataclasses.replace(row, flags=[FlagNote(name="unstable", text="unstable", title="why")]),
        dataclasses.replace(row, on_energy_front=not row.on_energy_front),
        dataclasses.replace(row, unranked_reason="a reason"),
    ]
    digests = {row_cells.row_digest(other, hardware_class) for other in changed}
    assert digest not in digests and len(digests) == len(changed)
    # Its search cost is read against the hardware class (device-hours in its devices).
    hardware_class.cores += 1
    assert row_cells.row_digest(row, hardware_class) != digest


def test_the_fronts_table_is_rendered_again_only_when_the_fronts_change(add_entry, benchmark, hardware_class) -> None:
    from leaderboard.board_page import FRONTS_TABLE

    rendered: list[dict[str, Any]] = []

    def record(sender: Any, template: Any, context: Any, **_: Any) -> None:
        if template.name == FRONTS_TABLE:
            rendered.append(context.flatten())

    signals.template_rendered.connect(record)
    try:
        runs = [
            add_entry(name=f"entry {number}", speedup=1.5 + number, accuracy=0.99 - 0.002 * number)
            for number in range(3)
        ]
        _page(benchmark, hardware_class)
        assert [point.name for point in rendered[-1]["latency_front"]] == ["entry 2", "entry 1", "entry 0"]
        # Another page of the view, and a change the fronts do not show: the table is kept.
        _page(benchmark, hardware_class, "?per_page=1&page=2")
        Submission.objects.filter(pk=runs[0].submission.pk).update(division="open")
        _page(benchmark, hardware_class)
        assert len(rendered) == 1
        # A renamed entry on the front: its table is rendered again, with the new name.
        Submission.objects.filter(pk=runs[2].submission.pk).update(name="renamed entry")
        page = _page(benchmark, hardware_class)
        assert len(rendered) == 2 and [point.name for point in rendered[-1]["latency_front"]][0] == "renamed entry"
        assert page.count('data-front="latency"') == 3
    finally:
        signals.template_rendered.disconnect(record)
