"""The Pareto fronts of a board: the entries no other entry beats on both accuracy and a
cost (latency, energy per inference), computed by the database over the whole (filtered)
board, not one page, and the points the chart draws of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
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


Walk = tuple[QuerySet[BoardEntry], str]  # entries, and the cost (lower is better) to walk them by


def _fronts(walks: Sequence[Walk]) -> list[list[tuple[int, float, float]]]:
    """For each (entries, cost_field): (key, cost, accuracy) of the entries no other entry
    beats on both accuracy and the cost, in order of cost, at most FRONT_MAX_POINTS.

    Walked in the order of cost, then accuracy from the highest: an entry is on the front
    when its accuracy is above every accuracy before it. On PostgreSQL, `_front_walks`; the
    window below elsewhere (the same entries, `tests/leaderboard/test_pareto.py`).
    """
    if connection.vendor == "postgresql":
        return _front_walks(walks)
    return [_front_window(entries, cost_field) for entries, cost_field in walks]


def _front_window(entries: QuerySet[BoardEntry], cost_field: str) -> list[tuple[int, float, float]]:
    """The front in one pass over every entry in order: a window maximum of the accuracies
    before each entry."""
    order = [F(cost_field).asc(), F("accuracy").desc()]
    candidates = entries.filter(**{f"{cost_field}__isnull": False}).annotate(
        best_before=Window(Max("accuracy"), order_by=order, frame=RowRange(start=None, end=-1))
    )
    front = candidates.filter(Q(best_before__isnull=True) | Q(accuracy__gt=F("best_before")))
    return list(front.order_by(*order).values_list("pk", cost_field, "accuracy")[:FRONT_MAX_POINTS])


def _front_walks(walks: Sequence[Walk]) -> list[list[tuple[int, float, float]]]:
    """The fronts, each one point after the other: after a point, the next one is the first
    entry in that order more accurate than it (every entry between is less accurate than the
    point, so none beats it), found in the board's index on the cost (entry_board_latency,
    entry_board_energy) from the point's cost on. A recursive query of one index probe a
    point, instead of a window over every entry of the view (at 100,000 entries that
    window read and compared them all, tens of milliseconds a front); every walk in one
    statement, one round trip."""
    ctes, selects, params = [], [], []
    for number, (entries, cost_field) in enumerate(walks):
        view = (
            entries.filter(**{f"{cost_field}__isnull": False})
            .annotate(front_key=F("pk"), front_cost=F(cost_field), front_accuracy=F("accuracy"))
            .values_list("front_key", "front_cost", "front_accuracy")
        )
        sql, view_params = view.query.sql_with_params()
        ctes.append(f"""
            front{number} (key, cost, accuracy, step) AS (
                (SELECT v.front_key, v.front_cost, v.front_accuracy, 1 FROM ({sql}) v
                 ORDER BY v.front_cost, v.front_accuracy DESC LIMIT 1)
                UNION ALL
                SELECT n.front_key, n.front_cost, n.front_accuracy, f.step + 1
                FROM front{number} f CROSS JOIN LATERAL (
                    SELECT v.front_key, v.front_cost, v.front_accuracy FROM ({sql}) v
                    WHERE v.front_cost >= f.cost AND v.front_accuracy > f.accuracy
                    ORDER BY v.front_cost, v.front_accuracy DESC LIMIT 1
                ) n
                WHERE f.step < %s
            )""")
        selects.append(f"SELECT {number} AS walk, key, cost, accuracy, step FROM front{number}")
        params.extend([*view_params, *view_params, FRONT_MAX_POINTS])
    statement = f"WITH RECURSIVE {', '.join(ctes)} {' UNION ALL '.join(selects)} ORDER BY walk, step"
    fronts: list[list[tuple[int, float, float]]] = [[] for _ in walks]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for walk, key, cost, accuracy, _ in cursor.fetchall():
            fronts[walk].append((key, cost, accuracy))
    return fronts


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
    # One walk an energy label: each reads its part of the index entry_board_energy in order.
    groups = [ENERGY_GROUPS.index(label) for label in (Figure.Label.MEASURED, Figure.Label.ESTIMATED)]
    energy_walks = [(entries.filter(energy_group=group), "energy_per_inference_mj") for group in groups]
    latency, *energies = _fronts([(entries, "latency_p50_us"), *energy_walks])
    energy = sorted((point for front in energies for point in front), key=lambda point: (point[1], -point[2]))
    return [key for key, _, _ in latency], [key for key, _, _ in energy[:FRONT_MAX_POINTS]]


def front_points_of(latency: list[int], energy: list[int]) -> tuple[list[FrontPoint], list[FrontPoint]]:
    points = _front_points({*latency, *energy}) if latency or energy else {}
    return [points[key] for key in latency], [points[key] for key in energy]
