"""The trial log of a search (method.json `trials`): best-so-far and expected-maximum curves.

Scores are "higher is better" (the benchmarks' metric is accuracy). Failed trials have no
score: they are left out of the scores but keep their place on the trial and energy axes,
since the search paid for them. Definitions: docs/search-cost.md, "Trial log".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.numbers import finite_number

# Dodge et al. (2019) read the expected maximum from the empirical distribution of the
# scores; with fewer draws than this the "distribution" is a handful of points.
MIN_TRIALS_FOR_EXPECTED_MAX = 5

ENERGY_BASIS_TRIALS = "trial energy_kwh"
ENERGY_BASIS_SPLIT = "declared search energy split by trial duration"


@dataclass(frozen=True)
class Trial:
    index: int  # 1-based position in the log: the order the search ran them in
    score: float | None  # None for a failed trial
    duration_s: float | None
    failed: bool
    energy_kwh: float | None


@dataclass(frozen=True)
class TrialLog:
    trials: tuple[Trial, ...]
    problems: tuple[str, ...]  # entries that could not be read, and why

    @property
    def scores(self) -> list[float]:
        """Scores of the successful trials, in log order."""
        return [t.score for t in self.trials if not t.failed and t.score is not None]

    @property
    def failed_count(self) -> int:
        return sum(1 for t in self.trials if t.failed)


def trial_log_from(trials: Any) -> TrialLog:
    """Read method.json's `trials` list (None or absent: an empty log).

    The runner validates the list before a result is stored; an unreadable entry of an
    older document counts as a failed trial (it was run, its score is not known).
    """
    if trials is None:
        return TrialLog(trials=(), problems=())
    if not isinstance(trials, list):
        return TrialLog(trials=(), problems=("the trial log is not a list; it is not shown",))
    read: list[Trial] = []
    problems: list[str] = []
    for index, entry in enumerate(trials, start=1):
        if not isinstance(entry, Mapping):
            problems.append(f"trial {index} is not an object; counted as failed")
            read.append(Trial(index=index, score=None, duration_s=None, failed=True, energy_kwh=None))
            continue
        failed = entry.get("failed") is True
        score = finite_number(entry.get("score"))
        if not failed and score is None:
            problems.append(f"trial {index} is not marked failed but has no score; counted as failed")
            failed = True
        duration_s = finite_number(entry.get("duration_s"))
        if duration_s is not None and duration_s < 0:
            problems.append(f"trial {index} has a negative duration; its duration is unknown")
            duration_s = None
        energy_kwh = finite_number(entry.get("energy_kwh"))
        if energy_kwh is not None and energy_kwh < 0:
            problems.append(f"trial {index} has a negative energy; its energy is unknown")
            energy_kwh = None
        read.append(
            Trial(
                index=index,
                score=None if failed else score,
                duration_s=duration_s,
                failed=failed,
                energy_kwh=energy_kwh,
            )
        )
    return TrialLog(trials=tuple(read), problems=tuple(problems))


def expected_max_curve(scores: Sequence[float]) -> list[float]:
    """E[max of n i.i.d. draws from the scores' empirical distribution], n = 1..N.

    Dodge et al., "Show Your Work" (EMNLP 2019): with v_1 <= ... <= v_N sorted,
    E[max_n] = sum_i v_i * ((i/N)^n - ((i-1)/N)^n).
    """
    values = np.sort(np.asarray(list(scores), dtype=np.float64))
    count = len(values)
    if count == 0:
        return []
    if not np.all(np.isfinite(values)):
        raise ValueError("scores must be finite numbers")
    cdf = np.arange(count + 1, dtype=np.float64) / count  # (i/N) for i = 0..N
    power = np.ones(count + 1, dtype=np.float64)
    curve: list[float] = []
    for _ in range(count):
        # (i/N)^n by one multiplication a step: O(N) per n, O(N^2) in all (10 000 trials:
        # 10^8 multiply-adds in numpy, well under a second).
        power *= cdf
        curve.append(float(values @ (power[1:] - power[:-1])))
    return curve


def expected_max_at(*, scores: Sequence[float], ns: Sequence[int]) -> list[float]:
    """The same expectation at chosen n only (a chart of a long log needs a few hundred)."""
    values = np.sort(np.asarray(list(scores), dtype=np.float64))
    count = len(values)
    if not np.all(np.isfinite(values)):
        raise ValueError("scores must be finite numbers")
    if any(n < 1 or n > count for n in ns):
        raise ValueError(f"n must lie in 1..{count}")
    cdf = np.arange(count + 1, dtype=np.float64) / count
    curve = []
    for n in ns:
        power = cdf**n
        curve.append(float(values @ (power[1:] - power[:-1])))
    return curve


def best_so_far(trials: Sequence[Trial]) -> list[float | None]:
    """Best successful score after each trial (None until the first success)."""
    best: float | None = None
    curve: list[float | None] = []
    for trial in trials:
        if not trial.failed and trial.score is not None and (best is None or trial.score > best):
            best = trial.score
        curve.append(best)
    return curve


@dataclass(frozen=True)
class EnergyAxis:
    """Cumulative energy after each trial, in kWh, or why there is none."""

    cumulative_kwh: tuple[float, ...] | None
    basis: str | None  # ENERGY_BASIS_* (all declared: the trial log is the submitter's)
    reason: str  # why cumulative_kwh is None; "" otherwise


def trial_energy_axis(*, trials: Sequence[Trial], declared_kwh: float | None) -> EnergyAxis:
    """Each trial's own energy_kwh when every trial has one; else the declared search energy
    split in proportion to the trials' durations; else no energy axis."""
    if not trials:
        return EnergyAxis(cumulative_kwh=None, basis=None, reason="the trial log is empty")
    if all(t.energy_kwh is not None for t in trials):
        per_trial = [t.energy_kwh for t in trials]
        basis = ENERGY_BASIS_TRIALS
    else:
        if declared_kwh is None:
            return EnergyAxis(
                cumulative_kwh=None,
                basis=None,
                reason="not every trial gives energy_kwh, and the declared search energy is unknown",
            )
        if any(t.duration_s is None for t in trials):
            return EnergyAxis(
                cumulative_kwh=None,
                basis=None,
                reason="not every trial gives energy_kwh or duration_s, so the search energy cannot be split",
            )
        total_s = math.fsum(t.duration_s for t in trials)  # type: ignore[misc]
        if total_s <= 0:
            return EnergyAxis(
                cumulative_kwh=None, basis=None, reason="the trials' durations add up to 0 s; nothing to split by"
            )
        per_trial = [declared_kwh * t.duration_s / total_s for t in trials]  # type: ignore[operator]
        basis = ENERGY_BASIS_SPLIT
    cumulative, running = [], 0.0
    for kwh in per_trial:
        running += kwh  # type: ignore[operator]
        cumulative.append(running)
    return EnergyAxis(cumulative_kwh=tuple(cumulative), basis=basis, reason="")
