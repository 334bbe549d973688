"""The leaderboard page's board, rendered: what the page shows below the site's header,
built from the database alone (no user, no session) so that it can be cached under the
board stamp (leaderboard.stamp) and served to every reader of the same view."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from benchmarks.models import Benchmark, HardwareClass
from leaderboard.entries import entries_ensure
from leaderboard.forms import BoardFilterForm
from leaderboard.presenters import (
    BoardQuery,
    chart_points,
    column_headers,
    pages,
    rank_link,
    track_tabs,
)
from leaderboard.row_cells import rendered_once
from leaderboard.rows import untie
from leaderboard.selectors import LeaderboardBoard, UnknownTrack, track_limits_text
from leaderboard.stamp import cached_under_stamp
from leaderboard.views_query import board_of
from submissions.selectors import pending_runs

FRONTS_TABLE = "leaderboard/_fronts_table.html"


@dataclass(frozen=True)
class BoardPage:
    """A rendered board: the page's title and its content (markup from a template)."""

    title: str
    content: SafeString
    # Nothing to show: the page then says why (pending runs, how to submit), which depends on
    # more than the board; such a page is built for each request, never cached.
    empty: bool


def board_page(
    request: HttpRequest,
    *,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    query: BoardQuery,
    form: BoardFilterForm,
    page_size: int,
) -> BoardPage | UnknownTrack:
    """The board `query` names, rendered; cached under the board stamp and the view's
    parsed query, which are all it is built from (the reader appears only on an empty
    board's page, which is never cached)."""
    # Results stored since the last read become entries first: a new entry changes the stamp.
    entries_ensure(benchmark=benchmark, hardware_class=hardware_class)
    page = cached_under_stamp(
        ("leaderboard", benchmark.pk, hardware_class.pk, query, page_size),
        lambda: _keep(
            _render(
                request, benchmark=benchmark, hardware_class=hardware_class, query=query, form=form, page_size=page_size
            )
        ),
    )
    if isinstance(page, BoardPage):
        # A copy from the cache is a plain value: its markup was escaped when it was rendered.
        return BoardPage(title=page.title, content=mark_safe(str(page.content)), empty=page.empty)
    return page


def _keep(page: BoardPage | UnknownTrack) -> tuple[BoardPage | UnknownTrack, bool]:
    return page, isinstance(page, BoardPage) and not page.empty


def _render(
    request: HttpRequest,
    *,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    query: BoardQuery,
    form: BoardFilterForm,
    page_size: int,
) -> BoardPage | UnknownTrack:
    tracked = board_of(query, benchmark, hardware_class, page_size=page_size, form=form, entries_ensured=True)
    if isinstance(tracked, UnknownTrack):
        return tracked
    board = tracked.board
    query = BoardQuery(**{**query.__dict__, "page": board.page or 1})
    empty = board.is_empty and not tracked.entries_total
    # Only for the empty state: say whether results are on their way.
    pending = pending_runs(benchmark=benchmark, hardware_class=hardware_class) if empty else 0
    content = render_to_string(
        "leaderboard/_board.html",
        {
            "board": board,
            "tracked": tracked,
            "query": query,
            "form": form,
            "track_tabs": track_tabs(tracked=tracked, query=query),
            "track_limits": track_limits_text(tracked.track) if tracked.track is not None else "",
            "csv_url": reverse("leaderboard-csv", args=[benchmark.slug, hardware_class.name]) + query.export,
            "json_url": reverse("leaderboard-json", args=[benchmark.slug, hardware_class.name]) + query.export,
            "benchmark": benchmark,
            "hardware_class": hardware_class,
            # The header row of the board's three tables, rendered once for the three.
            "header_row": render_to_string(
                "leaderboard/_header.html",
                {"headers": column_headers(query=query), "rank_sort": rank_link(query=query)},
            ),
            "pages": pages(board=board, query=query),
            "chart": chart_points(tracked=tracked),
            # The whole board's fronts: the same on every page of a view, and mostly after a change.
            "fronts_table": rendered_once(
                FRONTS_TABLE,
                {"latency_front": board.latency_front, "energy_front": board.energy_front},
                shown=(board.latency_front, board.energy_front),
            ),
            "pending_runs": pending,
        },
        request=request,
    )
    _release(board)
    title = f"{benchmark.name} leaderboard on {hardware_class.name}"
    if tracked.track is not None and not tracked.is_default:
        title += f" · {tracked.track.name}"
    if query.page > 1:
        title += f" · page {query.page}"
    return BoardPage(title=title, content=content, empty=empty)


def _release(board: LeaderboardBoard) -> None:
    """Once the page is rendered: its rows' objects untied (leaderboard.rows.untie) and let
    go of, so that they are freed now. The template's context, which Django keeps in a
    reference cycle, holds the board until the collector's next pass; its rows need not."""
    shown = [*board.rows, *board.under_floor, *board.withheld]
    untie([*shown, *([board.baseline] if board.baseline is not None else [])])
    for rows in (board.rows, board.under_floor, board.withheld):
        rows.clear()
