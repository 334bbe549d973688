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


def board_view(
    params: Mapping[str, Any], benchmark: Benchmark, hardware_class: HardwareClass, *, page: bool
) -> tuple[TrackBoard | UnknownTrack, BoardQuery, BoardFilterForm]:
    """(the board or why there is none, the query it answers, the filter form) for `params`
    (a request's GET or the API's query parameters). `page=False`: for exports, which stream
    every row of the view themselves."""
    form = BoardFilterForm(
        params,
        benchmark=benchmark,
        hardware_class=hardware_class,
        tracks=tracks_for_benchmark(benchmark=benchmark),
    )
    query = _query(params, form)
    try:
        tracked: TrackBoard | UnknownTrack = leaderboard_track_board(
            benchmark=benchmark,
            hardware_class=hardware_class,
            sort=query.sort,
            track_slug=query.track,
            filters=query.filters,
            page=query.page if page else 1,
            page_size=_page_size(params) if page else 1,
            fronts=page,
        )
    except UnknownTrack as exc:
        tracked = exc
    return tracked, query, form
