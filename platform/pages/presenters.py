"""What the run page and the run's result.json show, gathered from the apps that know it.

Each presenter returns typed objects (dataclasses of the apps' selectors); views render them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from budgets.selectors import ResultBudget, result_budget
from submissions.models import Audit, Figure, Result, Run, RunTransition
from submissions.selectors import (
    RUN_REFRESH_S,
    LogTail,
    RunEnergy,
    RunProvenance,
    run_energy,
    run_has_latency_samples,
    run_log_tails,
    run_provenance,
    run_result_figures,
)
from submissions.standing import ResultStanding, result_standing

RUN_RESULT_SCHEMA = "footprint.run-result/1"


def run_budget(*, run: Run) -> ResultBudget | None:
    """The run's search cost block (budgets.selectors.result_budget); None without a result.

    A result older than the search-cost fields (no compress figures, no `search` block)
    still gets a block: its unknown parts say so, never 0.
    """
    try:
        result = run.result
    except Result.DoesNotExist:
        return None
    return result_budget(result=result)


@dataclass(frozen=True)
class RunAudits:
    """The audits block of a run page: every audit with its verdict, and where they come from."""

    audits: list[Audit]
    # Whether the runner audited this result (the document has `audits`); False: an older
    # runner, whose flags were read as audits.
    from_runner: bool
    # Where a succeeded run's result stands: never ranked (invalidated, an audit failed),
    # under the floor...; None for a failed run, which no board lists.
    standing: ResultStanding | None


def run_audits(*, run: Run, figures: list[Figure]) -> RunAudits | None:
    """None without a result. `run` comes from run_detail (audits prefetched)."""
    try:
        result = run.result
    except Result.DoesNotExist:
        return None
    standing = None
    if run.state == Run.SUCCEEDED:
        speedup = next((f for f in figures if (f.subject, f.name) == (Figure.Subject.SUBMISSION, "speedup")), None)
        standing = result_standing(
            result=result,
            speedup_measured=speedup is not None and speedup.label == Figure.Label.MEASURED,
            accuracy_floor_fraction=run.submission.benchmark.accuracy_floor_fraction,
        )
    document = result.document if isinstance(result.document, dict) else {}
    return RunAudits(audits=list(result.audits.all()), from_runner="audits" in document, standing=standing)


@dataclass(frozen=True)
class RunPage:
    run: Run
    transitions: list[RunTransition]
    figures: list[Figure]
    audits: RunAudits | None
    energy: RunEnergy
    provenance: RunProvenance
    budget: ResultBudget | None
    has_latency_samples: bool
    log_tails: list[LogTail]
    # Seconds between reloads while the run is not finished; None once it is.
    refresh_s: int | None


def run_page(*, run: Run) -> RunPage:
    """Everything the run page shows; `run` comes from submissions.selectors.run_detail."""
    figures = run_result_figures(run=run)
    return RunPage(
        run=run,
        transitions=list(run.transitions.all()),
        figures=figures,
        audits=run_audits(run=run, figures=figures),
        energy=run_energy(run=run, figures=figures),
        provenance=run_provenance(run=run),
        budget=run_budget(run=run),
        has_latency_samples=run_has_latency_samples(run=run),
        log_tails=run_log_tails(run=run),
        refresh_s=None if run.is_terminal else RUN_REFRESH_S,
    )


def run_result_document(*, run: Run, budget: ResultBudget | None) -> dict[str, Any]:
    """The run's JSON export: the stored result document as the runner sent it, and the
    budget block (track, search cost with its measured and declared parts apart, CO2e,
    energy break-even) computed from it. `result` and `budget` are null without a result."""
    try:
        document = run.result.document
    except Result.DoesNotExist:
        document = None
    return {
        "schema": RUN_RESULT_SCHEMA,
        "run_id": run.pk,
        "submission_id": run.submission_id,
        "benchmark": run.submission.benchmark.slug,
        "hardware_class": run.hardware_class.name,
        "state": run.state,
        "result": document,
        "budget": budget.as_export() if budget is not None else None,
    }
