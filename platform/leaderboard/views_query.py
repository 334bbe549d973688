"""The board a URL's query asks for, read the same way by the site's pages, its exports and
the API: one code path from the query parameters to the rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks.models import Benchmark, HardwareClass
from budgets.selectors import tracks_for_benchmark
from leaderboard.forms import BoardFilterForm
from leaderboard.presenters import BoardQuery
from leaderboard.selectors import (
    DEFAULT_PAGE_SIZE,
    TrackBoard,
    UnknownTrack,
    leaderboard_track_board,
    normalize_sort,
)


def _query(params: Mapping[str, Any], form: BoardFilterForm) -> BoardQuery:
    values = form.cleaned()
    try:
        page = max(1, int(params.get("page", "1")))
    except (TypeError, ValueError):
        page = 1
    return BoardQuery(
        track=params.get("track", "") or "",
        sort=normalize_sort(params.get("sort")),
        division=values.get("division") or "",
        paper=values.get("paper") or "",
        flags=tuple(values.get("flag") or ()),
        page=page,
    )


def _page_size(params: Mapping[str, Any]) -> int:
    try:
        return int(params.get("per_page", DEFAULT_PAGE_SIZE))
    except (TypeError, ValueError):
        return DEFAULT_PAGE_SIZE


def board_query(
    params: Mapping[str, Any], benchmark: Benchmark, hardware_class: HardwareClass
) -> tuple[BoardQuery, BoardFilterForm, int]:
    """(the query `params` ask for, the filter form, the page size): what names a view of a
    board, parsed (unknown or malformed parameters fall back to the defaults)."""
    form = BoardFilterForm(
        params,
        benchmark=benchmark,
        hardware_class=hardware_class,
        tracks=tracks_for_benchmark(benchmark=benchmark),
    )
    return _query(params, form), form, _page_size(params)


def board_view(
    params: Mapping[str, Any], benchmark: Benchmark, hardware_class: HardwareClass, *, page: bool
) -> tuple[TrackBoard | UnknownTrack, BoardQuery, BoardFilterForm]:
    """(the board or why there is none, the query it answers, the filter form) for `params`
    (a request's GET or the API's query parameters). `page=False`: for exports, which stream
    every row of the view themselves."""
    query, form, page_size = board_query(params, benchmark, hardware_class)
    tracked = board_of(query, benchmark, hardware_class, page_size=page_size if page else None, form=form)
    return tracked, query, form


def board_of(
    query: BoardQuery,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    *,
    page_size: int | None,
    form: BoardFilterForm | None = None,
    entries_ensured: bool = False,
) -> TrackBoard | UnknownTrack:
    """The board `query` names; `page_size` None: for exports (no page, no fronts). With the
    `form` the query was read with, its tracks are not read again."""
    try:
        return leaderboard_track_board(
            benchmark=benchmark,
            hardware_class=hardware_class,
            sort=query.sort,
            track_slug=query.track,
            filters=query.filters,
            page=query.page if page_size is not None else 1,
            page_size=page_size if page_size is not None else 1,
            fronts=page_size is not None,
            tracks=form.tracks if form is not None else None,
            entries_ensured=entries_ensured,
        )
    except UnknownTrack as exc:
        return exc
