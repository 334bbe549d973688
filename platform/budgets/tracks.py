"""Which budget track a result belongs to: the first, by order, whose limits its totals fit.

Pure functions over Track-like objects (slug, name, order, max_device_hours, max_kwh), so
that they work on unsaved rows too. Rules: docs/search-cost.md, "Budget tracks".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from budgets.costs import SearchCost


class TrackLike(Protocol):
    slug: str
    name: str
    order: int
    max_device_hours: float | None
    max_kwh: float | None


@dataclass(frozen=True)
class DefaultTrack:
    slug: str
    name: str
    order: int
    max_device_hours: float | None
    max_kwh: float | None


# Seeded for every benchmark (budgets.services.tracks_ensure_defaults and the data
# migration budgets/0002, which keeps its own copy so that it never changes with this one).
DEFAULT_TRACKS: tuple[DefaultTrack, ...] = (
    DefaultTrack(slug="small-lab", name="Small lab", order=10, max_device_hours=24.0, max_kwh=10.0),
    DefaultTrack(slug="medium", name="Medium", order=20, max_device_hours=500.0, max_kwh=200.0),
    DefaultTrack(slug="large-lab", name="Large lab", order=30, max_device_hours=None, max_kwh=None),
)

# Totals add measured hours and declared ones in binary floating point: 0.1 + 23.9 may come
# out a few ulps above 24. A total within this relative margin of a limit is at the limit.
LIMIT_RELATIVE_TOLERANCE = 1e-9


def within_limit(*, total: float, limit: float) -> bool:
    """total <= limit, forgiving the rounding of a float sum (not a real excess)."""
    return total <= limit or math.isclose(total, limit, rel_tol=LIMIT_RELATIVE_TOLERANCE, abs_tol=0.0)


def _hours(value: float) -> str:
    return f"{value:.4g}"


def _above(total: float, limit: float) -> tuple[str, str]:
    """A total above its limit and the limit, with the digits it takes to tell them apart
    (10.001 > 10 must not read "10 > 10")."""
    for digits in range(4, 18):
        shown = f"{total:.{digits}g}", f"{limit:.{digits}g}"
        if shown[0] != shown[1]:
            return shown
    return repr(total), repr(limit)


class Totals(Protocol):
    """What a track's limits are checked against: a SearchCost, or a board entry's copy of its totals."""

    total_device_hours: float | None
    total_kwh: float | None


def track_misfit_reasons(*, cost: Totals | SearchCost, track: TrackLike) -> list[str]:
    """Why `cost` does not fit `track` (empty: it fits)."""
    reasons: list[str] = []
    if track.max_device_hours is not None:
        total = cost.total_device_hours
        if total is None:
            reasons.append(
                f"{track.name}: the total device-hours are unknown, so they cannot be shown to be within "
                f"{_hours(track.max_device_hours)}"
            )
        elif not within_limit(total=total, limit=track.max_device_hours):
            shown, limit = _above(total, track.max_device_hours)
            reasons.append(f"{track.name}: {shown} device-hours > {limit}")
    if track.max_kwh is not None:
        if cost.total_kwh is None:
            # A part without an energy figure could be any size: fitting it under a kWh
            # limit would be a guess, and a guess in the small lab's favour.
            at_least = getattr(cost, "total_kwh_at_least", None)
            known = f" (at least {_hours(at_least)} kWh)" if at_least is not None else ""
            reasons.append(
                f"{track.name}: the total energy is unknown{known}, "
                f"so it cannot be shown to be within {_hours(track.max_kwh)} kWh"
            )
        elif not within_limit(total=cost.total_kwh, limit=track.max_kwh):
            shown, limit = _above(cost.total_kwh, track.max_kwh)
            reasons.append(f"{track.name}: {shown} kWh > {limit} kWh")
    return reasons


def track_fits(*, cost: Totals | SearchCost, track: TrackLike) -> bool:
    return not track_misfit_reasons(cost=cost, track=track)


def tracks_in_order(tracks: Sequence[TrackLike]) -> list[TrackLike]:
    return sorted(tracks, key=lambda t: (t.order, t.slug))


def track_for(*, cost: Totals | SearchCost, tracks: Sequence[TrackLike]) -> TrackLike | None:
    """The first track by (order, slug) whose limits the totals fit.

    A track without limits takes every result; None only when the operator left no such
    track and the result fits none of the others.
    """
    for track in tracks_in_order(tracks):
        if track_fits(cost=cost, track=track):
            return track
    return None
