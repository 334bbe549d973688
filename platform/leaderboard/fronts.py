"""The Pareto fronts of a board: the entries no other entry beats on both accuracy and a
cost (latency, energy per inference), computed by the database over the whole (filtered)
board, not one page, and the points the chart draws of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import F, Max, Q, QuerySet, Window
from django.db.models.expressions import RowRange

from leaderboard.entries import ENERGY_GROUPS
from leaderboard.models import BoardEntry
from submissions.models import Figure

# The chart draws the Pareto front of the whole board; past this many points only the first.
FRONT_MAX_POINTS = 500


@dataclass(frozen=True)
class FrontPoint:
    """An entry on a Pareto front, for the chart (the whole board's front, not one page's)."""

    run_id: int
    name: str
    accuracy: float
    latency_p50_us: float | None
    energy_per_inference_mj: float | None
    energy_label: str | None
    total_device_hours: float | None
    total_kwh: float | None


def _front(entries: QuerySet[BoardEntry], cost_field: str) -> list[tuple[int, float, float]]:
    """(key, cost, accuracy) of the entries no other entry beats on both accuracy and
    `cost_field` (lower is better), in order of cost.

    In SQL, one pass in the order of the board's index on the cost (no sort of the board):
    an entry is on the front when its accuracy is above every accuracy before it (a window
    maximum over the preceding rows). Only keys travel through the window; the points are
    read afterwards.
    """
    order = [F(cost_field).asc(), F("accuracy").desc()]
    candidates = entries.filter(**{f"{cost_field}__isnull": False}).annotate(
        best_before=Window(Max("accuracy"), order_by=order, frame=RowRange(start=None, end=-1))
    )
    front = candidates.filter(Q(best_before__isnull=True) | Q(accuracy__gt=F("best_before")))
    return list(front.order_by(*order).values_list("pk", cost_field, "accuracy")[:FRONT_MAX_POINTS])


def _front_points(keys: Sequence[int]) -> dict[int, FrontPoint]:
    rows = BoardEntry.objects.filter(pk__in=keys).values(
        "pk",
        "run_id",
        "submission__name",
        "accuracy",
        "latency_p50_us",
        "energy_per_inference_mj",
        "labels",
        "total_device_hours",
        "total_kwh",
    )
    return {
        row["pk"]: FrontPoint(
            run_id=row["run_id"],
            name=row["submission__name"],
            accuracy=row["accuracy"],
            latency_p50_us=row["latency_p50_us"],
            energy_per_inference_mj=row["energy_per_inference_mj"],
            energy_label=(row["labels"] or {}).get("energy_per_inference_mj"),
            total_device_hours=row["total_device_hours"],
            total_kwh=row["total_kwh"],
        )
        for row in rows
    }


def front_keys_both(entries: QuerySet[BoardEntry]) -> tuple[list[int], list[int]]:
    """The latency front, and one energy front per energy label (measured, estimated: they
    are never compared with each other) merged in order of energy, as keys."""
    latency = [key for key, _, _ in _front(entries, "latency_p50_us")]
    # One query a label: each reads its part of the index entry_board_energy in order.
    groups = [ENERGY_GROUPS.index(label) for label in (Figure.Label.MEASURED, Figure.Label.ESTIMATED)]
    energy = sorted(
        (point for group in groups for point in _front(entries.filter(energy_group=group), "energy_per_inference_mj")),
        key=lambda point: (point[1], -point[2]),
    )
    return latency, [key for key, _, _ in energy[:FRONT_MAX_POINTS]]


def front_points_of(latency: list[int], energy: list[int]) -> tuple[list[FrontPoint], list[FrontPoint]]:
    points = _front_points({*latency, *energy}) if latency or energy else {}
    return [points[key] for key in latency], [points[key] for key in energy]
