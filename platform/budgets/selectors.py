"""Reads of the budgets app: a result's budget block, and the budgets of many results at once.

`result_budget` gathers what the result page shows (search cost, track, CO2e, break-even,
trial curves); `result_budgets` gives the leaderboard each row's search cost and track.
Measured, estimated and declared parts stay apart in everything returned here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import prefetch_related_objects

from benchmarks.models import Benchmark
from budgets.breakeven import BreakEven, break_even_for
from budgets.costs import (
    KWH_BASIS_ENERGY,
    KWH_BASIS_POWER,
    Co2e,
    SearchCost,
    co2e_for,
    method_with_declared_search,
    search_cost_for_result,
    search_cost_from,
)
from budgets.models import Track
from budgets.tracks import track_fits, track_for, track_misfit_reasons, tracks_in_order
from budgets.trials import (
    ENERGY_BASIS_SPLIT,
    MIN_TRIALS_FOR_EXPECTED_MAX,
    TrialLog,
    best_so_far,
    expected_max_at,
    expected_max_curve,
    trial_energy_axis,
    trial_log_from,
)
from submissions.models import Figure, Result

# energy_break_even.inferences in exports when the method saves no energy per inference.
BREAK_EVEN_NEVER = "never"

# A chart's data stays small: at most this many points a series (a best-so-far staircase
# keeps only its steps, which are few; the expected maximum is a smooth curve).
CURVE_MAX_POINTS = 300


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]  # (x, y), in drawing order
    step: bool = False  # a staircase (a best-so-far value holds until the next trial)
    dashed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "points": [{"x": x, "y": y} for x, y in self.points],
            "step": self.step,
            "dashed": self.dashed,
        }


@dataclass(frozen=True)
class Curve:
    """A line chart of a trial log, drawn by the page's chart library (static/js/charts.js)."""

    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]

    def as_dict(self) -> dict[str, Any]:
        """What the page hands the chart (json_script: escaped for a script element)."""
        return {
            "title": self.title,
            "x_label": self.x_label,
            "y_label": self.y_label,
            "series": [one.as_dict() for one in self.series],
        }


def curve(*, series: Sequence[Series], x_label: str, y_label: str, title: str) -> Curve:
    """A curve of finite points; raises ValueError without any point or with a coordinate not finite."""
    drawn = tuple(one for one in series if len(one.points))
    if not drawn:
        raise ValueError("a curve needs at least one series with a point")
    if not all(math.isfinite(v) for one in drawn for point in one.points for v in point):
        raise ValueError("a curve draws finite coordinates only")
    return Curve(title=title, x_label=x_label, y_label=y_label, series=drawn)


def tracks_for_benchmark(*, benchmark: Benchmark | int) -> list[Track]:
    """The benchmark's tracks, smallest first (one query)."""
    benchmark_id = benchmark.pk if isinstance(benchmark, Benchmark) else benchmark
    return tracks_in_order(list(Track.objects.filter(benchmark_id=benchmark_id)))  # type: ignore[return-value]


def track_from_slug(*, tracks: Sequence[Track], slug: str | None) -> Track | None:
    """The track named by a URL's slug among `tracks`; None for no slug or an unknown one."""
    return next((t for t in tracks if t.slug == slug), None) if slug else None


def _hours(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.4g}"


def _declared_note(cost: SearchCost) -> str | None:
    declared = cost.declared
    if declared is None:
        return None
    devices = f"{declared.device_count if declared.device_count is not None else '?'} x {declared.device_type or '?'}"
    if declared.kwh_basis == KWH_BASIS_ENERGY:
        energy = f"{declared.kwh:.4g} kWh as stated"
    elif declared.kwh_basis == KWH_BASIS_POWER:
        energy = f"{declared.kwh:.4g} kWh from {declared.power_w:.4g} W per device"
    else:
        energy = "energy not stated"
    trials = f", {declared.trials} trials" if declared.trials is not None else ""
    return (
        f"Includes a declared off-platform search: {devices} for {_hours(declared.hours)} h = "
        f"{_hours(declared.device_hours)} device-hours, {energy}{trials}. Declared by the submitter, not measured."
    )


def _thin(points: list[tuple[float, float]], *, max_points: int = CURVE_MAX_POINTS) -> list[tuple[float, float]]:
    """At most `max_points` points, evenly spread, keeping the first and the last."""
    if len(points) <= max_points:
        return points
    last = len(points) - 1
    keep = sorted({round(i * last / (max_points - 1)) for i in range(max_points)})
    return [points[i] for i in keep]


def _steps(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A staircase's corners: the points where the value changes, and the last one."""
    kept = [p for i, p in enumerate(points) if i == 0 or p[1] != points[i - 1][1]]
    if points and kept[-1] != points[-1]:
        kept.append(points[-1])
    return _thin(kept)


def trial_curves(*, log: TrialLog, declared_kwh: float | None) -> tuple[dict[str, Curve | None], dict[str, str]]:
    """Charts of a trial log: best-so-far versus trials and versus energy, expected max.

    Returns ({"trials", "energy", "expected_max"}: Curve or None, {name: why None}).
    """
    curves: dict[str, Curve | None] = {"trials": None, "energy": None, "expected_max": None}
    why: dict[str, str] = {}
    if not log.trials:
        why = {name: "method.json has no trial log" for name in curves}
        return curves, why
    scores = log.scores
    if not scores:
        why = {name: "every trial in the log failed: there is no score to plot" for name in curves}
        return curves, why

    best = best_so_far(log.trials)
    failed = f", {log.failed_count} failed" if log.failed_count else ""
    by_trial = [(float(t.index), b) for t, b in zip(log.trials, best, strict=True) if b is not None]
    curves["trials"] = curve(
        series=[
            Series(name=f"best score so far ({len(log.trials)} trials{failed})", points=_steps(by_trial), step=True)
        ],
        x_label="trials run (failed ones included)",
        y_label="best score (declared)",
        title="Best score reached versus trials (declared trial log)",
    )

    axis = trial_energy_axis(trials=log.trials, declared_kwh=declared_kwh)
    if axis.cumulative_kwh is None:
        why["energy"] = axis.reason
    else:
        by_energy = [(kwh, b) for kwh, b in zip(axis.cumulative_kwh, best, strict=True) if b is not None]
        basis = "split by duration" if axis.basis == ENERGY_BASIS_SPLIT else "per trial"
        curves["energy"] = curve(
            series=[Series(name="best score so far", points=_steps(by_energy), step=True)],
            x_label=f"cumulative search energy, kWh (declared, {basis})",
            y_label="best score (declared)",
            title="Best score reached versus search energy (declared trial log)",
        )

    if len(scores) < MIN_TRIALS_FOR_EXPECTED_MAX:
        why["expected_max"] = (
            f"{len(scores)} successful trials; the expected maximum is drawn from {MIN_TRIALS_FOR_EXPECTED_MAX} on"
        )
    else:
        if len(scores) <= CURVE_MAX_POINTS:
            ns = list(range(1, len(scores) + 1))
            expected = expected_max_curve(scores)
        else:
            # The points the chart keeps, computed alone: O(points x N), not O(N^2).
            ns = sorted({round(1 + i * (len(scores) - 1) / (CURVE_MAX_POINTS - 1)) for i in range(CURVE_MAX_POINTS)})
            expected = expected_max_at(scores=scores, ns=ns)
        observed, running = [], None
        for n, score in enumerate(scores, start=1):
            running = score if running is None else max(running, score)
            observed.append((float(n), running))
        curves["expected_max"] = curve(
            series=[
                Series(
                    name="expected max of n trials (Dodge et al. 2019)",
                    points=[(float(n), v) for n, v in zip(ns, expected, strict=True)],
                ),
                Series(name="best of the first n, as run", points=_steps(observed), step=True, dashed=True),
            ],
            x_label="successful trials n",
            y_label="score (declared)",
            title="Expected maximum score versus successful trials (declared trial log)",
        )
    return curves, why


def budget_export(*, cost: SearchCost, track: Track | None, co2e: Co2e, break_even: BreakEven) -> dict[str, Any]:
    """JSON-able budget fields of one result, for exports and the API."""
    return {
        "track": track.slug if track is not None else None,
        "search_cost": cost.as_dict(),
        "co2e": {
            "grams": co2e.grams,
            "grid_intensity_g_per_kwh": co2e.grid_intensity_g_per_kwh,
            "labels": list(co2e.labels),
            "reason": co2e.reason,
        },
        "energy_break_even": {
            # An integer; "never" when the method uses as much energy per inference as the
            # reference or more; null when it cannot be computed (reason says why).
            "inferences": BREAK_EVEN_NEVER if break_even.never else break_even.inferences,
            "never": break_even.never,
            "label": break_even.label,
            "search_labels": list(break_even.search_labels),
            "has_declared": break_even.has_declared,
            "search_j": break_even.search_j,
            "reference_mj_per_inference": break_even.reference_mj_per_inference,
            "method_mj_per_inference": break_even.method_mj_per_inference,
            "reason": break_even.reason,
        },
    }


@dataclass(frozen=True)
class ResultBudget:
    """Everything the result page shows about the price of a result."""

    cost: SearchCost
    tracks: list[Track]  # the benchmark's tracks, smallest first
    track: Track | None  # the smallest track whose limits the totals fit
    track_reasons: list[str]  # why each smaller track did not fit
    co2e: Co2e
    break_even: BreakEven
    trial_log: TrialLog
    curves: dict[str, Curve | None]  # "trials", "energy", "expected_max": a chart, or None
    curve_notes: dict[str, str]  # curve name: why it is None
    notes: list[str]  # declared parts, unknowns

    def as_export(self) -> dict[str, Any]:
        """The JSON-able block of the run's result.json (budget_export and the reasons)."""
        return {
            **budget_export(cost=self.cost, track=self.track, co2e=self.co2e, break_even=self.break_even),
            "track_reasons": list(self.track_reasons),
            "tracks": [track.slug for track in self.tracks],
            "curve_notes": dict(self.curve_notes),
            "notes": list(self.notes),
        }


def result_budget(*, result: Result, tracks: Sequence[Track] | None = None) -> ResultBudget:
    """The budget block of one result. `tracks`: the benchmark's tracks when the caller has
    them (else one query)."""
    figures = list(result.figures.all())
    hardware_class = result.run.hardware_class
    document = result.document if isinstance(result.document, Mapping) else {}
    method = method_with_declared_search(document.get("method"), result.run.submission.declared_search)
    method = method if isinstance(method, Mapping) else {}
    cost = search_cost_from(figures=figures, gpus=hardware_class.gpus, method=method)
    if tracks is None:
        tracks = tracks_for_benchmark(benchmark=result.run.submission.benchmark_id)
    ordered = tracks_in_order(tracks)
    track = track_for(cost=cost, tracks=ordered)
    track_reasons: list[str] = []
    for candidate in ordered:
        if candidate is track:
            break
        track_reasons.extend(track_misfit_reasons(cost=cost, track=candidate))

    co2e = co2e_for(cost=cost, grid_intensity_g_per_kwh=hardware_class.grid_intensity_g_per_kwh)
    break_even = break_even_for(cost=cost, figures=figures)
    log = trial_log_from(method.get("trials"))
    curves, curve_notes = trial_curves(log=log, declared_kwh=cost.declared.kwh if cost.declared else None)

    notes: list[str] = []
    declared_note = _declared_note(cost)
    if declared_note:
        notes.append(declared_note)
    if cost.compress_energy_label == Figure.Label.ESTIMATED:
        notes.append(
            "The compress phase's energy is estimated (CPU time x the hardware class's power per core), "
            "not read from a counter."
        )
    notes.extend(cost.notes)
    notes.extend(log.problems)
    if not ordered:
        notes.append("This benchmark defines no budget tracks.")
    elif track is None:
        notes.append("The result fits none of this benchmark's tracks (none of them is without limits).")
    return ResultBudget(
        cost=cost,
        tracks=ordered,  # type: ignore[arg-type]
        track=track,  # type: ignore[arg-type]
        track_reasons=track_reasons,
        co2e=co2e,
        break_even=break_even,
        trial_log=log,
        curves=curves,
        curve_notes=curve_notes,
        notes=notes,
    )


# ---------------------------------------------------------------------------------------
# Leaderboard


@dataclass(frozen=True)
class RowBudget:
    """A leaderboard row's search cost and the smallest track its totals fit."""

    cost: SearchCost
    track: Track | None

    @property
    def has_declared(self) -> bool:
        """Shown as a "declared" mark next to the row wherever it appears."""
        return self.cost.has_declared

    def fits(self, track: Track) -> bool:
        """Whether the totals fit `track`'s limits (an unknown total fits no limit)."""
        return track_fits(cost=self.cost, track=track)

    def as_dict(self) -> dict[str, Any]:
        return {
            "track": self.track.slug if self.track is not None else None,
            "has_declared": self.has_declared,
            "search_cost": self.cost.as_dict(),
        }


def result_budgets(*, results: Sequence[Result], tracks: Sequence[Track]) -> dict[int, RowBudget]:
    """Each result's search cost and track, by result id.

    Queries: the results' figures and their runs' hardware classes, once for all results,
    unless already prefetched.
    """
    results = list(results)
    if results:
        prefetch_related_objects(results, "figures", "run__hardware_class", "run__submission")
    ordered = tracks_in_order(tracks)
    budgets = {}
    for result in results:
        cost = search_cost_for_result(result=result)
        budgets[result.pk] = RowBudget(cost=cost, track=track_for(cost=cost, tracks=ordered))  # type: ignore[arg-type]
    return budgets
