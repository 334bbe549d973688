"""The leaderboard as CSV and JSON: one entry per row of the page, same board, same order.

Every figure travels with its label (measured / estimated / declared) in the neighbouring
column (CSV) or beside it (JSON); the search cost keeps its measured and declared parts
apart, and the `declared` column says when a total holds a declared part, so that nothing
declared is summed silently. Definitions: docs/search-cost.md.

`status` says where the page lists an entry (submissions.standing.Standing) and
`unranked_reason` why it has no rank: a failed audit (with its figure and sentence), an
operator's invalidation (with its reason), the accuracy floor, or an unmeasured speed-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from budgets.breakeven import break_even_for
from budgets.costs import co2e_for
from budgets.selectors import budget_export
from core.downloads import csv_text
from leaderboard.rows import LeaderboardRow
from leaderboard.selectors import TrackBoard, board_rows_iter, track_limits_text
from submissions.models import Audit, Figure

if TYPE_CHECKING:
    from leaderboard.presenters import BoardQuery

EXPORT_SCHEMA = "footprint.leaderboard/1"
# Labels of several parts are joined with this in a CSV cell: "declared+measured".
LABEL_JOIN = "+"

# (row attribute, export name) of the figures an entry carries with their labels.
EXPORT_FIGURES: tuple[tuple[str, str], ...] = (
    ("accuracy", "accuracy"),
    ("accuracy_delta", "accuracy_delta"),
    ("latency_p50_us", "latency_p50_us"),
    ("latency_p90_us", "latency_p90_us"),
    ("speedup", "speedup"),
    ("speedup_ci_low", "speedup_ci_low"),
    ("speedup_ci_high", "speedup_ci_high"),
    ("compression_ratio", "compression_ratio"),
    ("theoretical_speedup", "theoretical_speedup"),
    ("serve_peak_memory_bytes", "serve_peak_memory_bytes"),
    ("energy_per_inference_mj", "energy_per_inference_mj"),
    ("reference_energy_per_inference_mj", "reference_energy_per_inference_mj"),
)

# The unit of each exported figure: the contract's unit of the figure behind it
# (runners/README.md).
EXPORT_UNITS: dict[str, str] = {
    "accuracy": "fraction",
    "accuracy_delta": "fraction",
    "latency_p50_us": "us",
    "latency_p90_us": "us",
    "speedup": "ratio",
    "speedup_ci_low": "ratio",
    "speedup_ci_high": "ratio",
    "compression_ratio": "ratio",
    "theoretical_speedup": "ratio",
    "serve_peak_memory_bytes": "bytes",
    "energy_per_inference_mj": "mJ",
    "reference_energy_per_inference_mj": "mJ",
}
assert all(attribute in EXPORT_UNITS for attribute, _ in EXPORT_FIGURES)

CSV_COLUMNS: tuple[str, ...] = (
    "rank",
    "status",
    "unranked_reason",
    "failed_audits",
    "meets_accuracy_floor",
    "method",
    "owner",
    "division",
    "submission_id",
    "run_id",
    *(column for _, name in EXPORT_FIGURES for column in (name, f"{name}_label")),
    "track",
    "declared",
    "measured_device_hours",
    "measured_device_hours_label",
    "measured_kwh",
    "measured_kwh_label",
    "declared_device_hours",
    "declared_device_hours_label",
    "declared_kwh",
    "declared_kwh_label",
    "declared_kwh_basis",
    "declared_trials",
    "total_device_hours",
    "total_device_hours_labels",
    "total_kwh",
    "total_kwh_labels",
    "total_kwh_at_least",
    "co2e_grams",
    "co2e_labels",
    "grid_intensity_g_per_kwh",
    "co2e_reason",
    "break_even_inferences",
    "break_even_label",
    "break_even_search_labels",
    "break_even_reason",
)


def export_entries(*, tracked: TrackBoard, query: BoardQuery | None = None) -> Iterator[dict[str, Any]]:
    """Every entry of the view (all its pages) as JSON-able dicts, in the page's order: the
    ranking, the entries under the accuracy floor, then those never ranked (a failed audit,
    or invalidated). Built a few hundred rows at a time."""
    board = tracked.board
    grid_intensity = board.hardware_class.grid_intensity_g_per_kwh
    rows = board_rows_iter(
        benchmark=board.benchmark,
        hardware_class=board.hardware_class,
        sort=board.sort,
        track=tracked.track,
        tracks=tracked.tracks,
        filters=query.filters if query is not None else board.filters,
    )
    for row in rows:
        yield _entry(row, grid_intensity=grid_intensity)


def _audit(audit: Audit) -> dict[str, Any]:
    return {
        "name": audit.name,
        "subject": audit.subject,
        "verdict": audit.verdict,
        "figure": audit.figure or None,
        "value": audit.value,
        "threshold": audit.threshold,
        "unit": audit.unit or None,
        "sentence": audit.sentence,
        "source": audit.source,
    }


def _entry(row: LeaderboardRow, *, grid_intensity: float | None) -> dict[str, Any]:
    budget = row.budget
    invalidation = row.invalidation
    entry: dict[str, Any] = {
        "rank": row.rank,
        "status": row.standing,
        "unranked_reason": row.unranked_reason or None,
        "audits": [_audit(audit) for audit in row.audits],
        "invalidation": None
        if invalidation is None
        else {"at": invalidation.at.isoformat(), "reason": invalidation.reason},
        "meets_accuracy_floor": row.meets_accuracy_floor,
        "method": row.name,
        "owner": row.owner_name,
        "division": row.division,
        "submission_id": row.submission.pk,
        "run_id": row.run.pk,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "flags": [flag.name for flag in row.flags],
        "figures": {
            name: {
                "value": getattr(row, attribute),
                "unit": EXPORT_UNITS[attribute],
                "label": row.labels.get(attribute),
            }
            for attribute, name in EXPORT_FIGURES
        },
    }
    cost = budget.cost if budget is not None else None
    if cost is None:
        # A row without a result cannot be on a board; kept explicit rather than guessed.
        entry.update(track=None, declared=False, search_cost=None, co2e=None, energy_break_even=None)
        return entry
    co2e = co2e_for(cost=cost, grid_intensity_g_per_kwh=grid_intensity)
    break_even = break_even_for(cost=cost, figures=row.figures)
    exported = budget_export(cost=cost, track=budget.track, co2e=co2e, break_even=break_even)
    entry.update(
        track=exported["track"],
        declared=cost.has_declared,
        search_cost=exported["search_cost"],
        co2e=exported["co2e"],
        energy_break_even=exported["energy_break_even"],
    )
    return entry


def export_document(*, tracked: TrackBoard, query: BoardQuery | None = None) -> dict[str, Any]:
    """The JSON export: the board (benchmark, class, track, sort, filters) and its entries."""
    board = tracked.board

    def track_dict(track: Any) -> dict[str, Any] | None:
        if track is None:
            return None
        return {
            "slug": track.slug,
            "name": track.name,
            "order": track.order,
            "max_device_hours": track.max_device_hours,
            "max_kwh": track.max_kwh,
            "limits": track_limits_text(track),
        }

    return {
        "schema": EXPORT_SCHEMA,
        "benchmark": {"slug": board.benchmark.slug, "name": board.benchmark.name},
        "hardware_class": {
            "name": board.hardware_class.name,
            "gpus": board.hardware_class.gpus,
            "grid_intensity_g_per_kwh": board.hardware_class.grid_intensity_g_per_kwh,
        },
        "track": track_dict(tracked.track),
        "tracks": [track_dict(track) for track in tracked.tracks],
        "sort": board.sort,
        "filters": {
            "division": board.filters.division or None,
            "paper": board.filters.paper or None,
            "flags": list(board.filters.flags),
        },
        "accuracy_floor_fraction": board.accuracy_floor_fraction,
        "notes": [
            "Each figure carries its unit and its label: measured (the runner's counters and clocks), estimated "
            "(CPU time x the hardware class's power per core) or declared (stated by the submitter).",
            "search_cost keeps the measured compress phase and the declared off-platform search in separate "
            "blocks; total adds them, total.labels lists the labels it holds, and declared is true whenever "
            "a declared part is in the totals. A null total is unknown, never 0 (total.kwh_at_least: the "
            "known parts).",
            "A track's board holds the entries whose totals fit its limits; rank is renumbered within the "
            "board and is null for entries that are not ranked; status says why (speedup_not_measured, "
            "under_accuracy_floor, audit_failed, invalidated) and unranked_reason says it in words. An entry "
            "with a failed audit, or invalidated by an operator, is never ranked, whatever its figures.",
            'energy_break_even.inferences is an integer, "never", or null with a reason.',
        ],
        "entries": list(export_entries(tracked=tracked, query=query)),
    }


def _cell(value: Any) -> Any:
    """A CSV cell: "" for None, true/false for booleans, the value otherwise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _joined(labels: list[str] | tuple[str, ...] | None) -> str:
    return LABEL_JOIN.join(labels or ())


def csv_row(entry: dict[str, Any]) -> list[Any]:
    """One CSV line (CSV_COLUMNS) of an entry of export_entries."""
    values: dict[str, Any] = {
        "rank": entry["rank"],
        "status": entry["status"],
        # The runner's sentences and the operator's reason: text, like a method's name.
        "unranked_reason": csv_text(entry["unranked_reason"] or ""),
        "failed_audits": _joined([a["name"] for a in entry["audits"] if a["verdict"] == Audit.Verdict.FAILED]),
        "meets_accuracy_floor": entry["meets_accuracy_floor"],
        "method": csv_text(entry["method"]),
        "owner": csv_text(entry["owner"]),
        "division": entry["division"],
        "submission_id": entry["submission_id"],
        "run_id": entry["run_id"],
        "track": entry["track"],
        "declared": entry["declared"],
    }
    for _, name in EXPORT_FIGURES:
        figure = entry["figures"][name]
        values[name] = figure["value"]
        values[f"{name}_label"] = figure["label"] if figure["value"] is not None else None
    cost = entry["search_cost"]
    if cost is not None:
        measured, declared, total = cost["measured"], cost["declared"], cost["total"]
        values.update(
            measured_device_hours=measured["device_hours"],
            measured_device_hours_label=Figure.Label.MEASURED if measured["device_hours"] is not None else None,
            measured_kwh=measured["kwh"],
            measured_kwh_label=measured["energy_label"] if measured["kwh"] is not None else None,
            total_device_hours=total["device_hours"],
            total_kwh=total["kwh"],
            total_kwh_at_least=total["kwh_at_least"],
        )
        if declared is not None:
            values.update(
                declared_device_hours=declared["device_hours"],
                declared_device_hours_label=Figure.Label.DECLARED,
                declared_kwh=declared["kwh"],
                declared_kwh_label=Figure.Label.DECLARED,
                declared_kwh_basis=declared["kwh_basis"],
                declared_trials=declared["trials"],
            )
        labels = {Figure.Label.MEASURED} if measured["device_hours"] is not None else set()
        values["total_device_hours_labels"] = _joined(
            sorted(labels | ({Figure.Label.DECLARED} if declared is not None else set()))
        )
        values["total_kwh_labels"] = _joined(
            sorted(set(total["energy_labels"]) | ({Figure.Label.DECLARED} if declared is not None else set()))
        )
    co2e = entry["co2e"]
    if co2e is not None:
        values.update(
            co2e_grams=co2e["grams"],
            co2e_labels=_joined(co2e["labels"]) if co2e["grams"] is not None else None,
            grid_intensity_g_per_kwh=co2e["grid_intensity_g_per_kwh"],
            co2e_reason=co2e["reason"],
        )
    break_even = entry["energy_break_even"]
    if break_even is not None:
        values.update(
            break_even_inferences=break_even["inferences"],
            break_even_label=break_even["label"],
            break_even_search_labels=_joined(break_even["search_labels"]),
            break_even_reason=break_even["reason"],
        )
    return [_cell(values.get(column)) for column in CSV_COLUMNS]


def csv_rows(*, tracked: TrackBoard, query: BoardQuery | None = None) -> Iterator[list[Any]]:
    """The header, then one line per entry of the view, built while the response streams."""
    yield list(CSV_COLUMNS)
    for entry in export_entries(tracked=tracked, query=query):
        yield csv_row(entry)
