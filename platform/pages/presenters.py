"""What the run page and the run's result.json show, gathered from the apps that know it.

Each presenter returns typed objects (dataclasses of the apps' selectors); views render them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.urls import reverse
from django.utils import timezone

from budgets.selectors import ResultBudget, result_budget
from core import formatting
from leaderboard.entries import speedup_gap_words
from submissions.models import Audit, Figure, Result, Run, RunTransition
from submissions.selectors import (
    SUBJECT_DISPLAY,
    SUBJECT_ORDER,
    LogTail,
    NoLatencySamples,
    RunEnergy,
    RunProvenance,
    run_energy,
    run_has_latency_samples,
    run_latency_samples,
    run_log_tails,
    run_provenance,
    run_result_figures,
    without_runner_identity,
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
    phases: list[PhaseTiming]
    failure_hint: str
    # The result page's parts (a succeeded run); None / empty otherwise.
    headline: Headline | None
    comparisons: list[Comparison]
    figure_lines: list[FigureLine]
    distributions: dict[str, Any] | None
    trial_charts: dict[str, Any]


def run_page(*, run: Run) -> RunPage:
    """Everything the run page shows; `run` comes from submissions.selectors.run_detail."""
    figures = run_result_figures(run=run)
    transitions = list(run.transitions.all())
    budget = run_budget(run=run)
    succeeded = run.state == Run.SUCCEEDED and bool(figures)
    return RunPage(
        run=run,
        transitions=transitions,
        figures=figures,
        audits=run_audits(run=run, figures=figures),
        energy=run_energy(run=run, figures=figures),
        provenance=run_provenance(run=run),
        budget=budget,
        has_latency_samples=run_has_latency_samples(run=run),
        log_tails=run_log_tails(run=run),
        phases=run_phases(run=run, transitions=transitions),
        failure_hint=failure_hint(run.failure_code) if run.state == Run.FAILED else "",
        headline=result_headline(figures=figures) if succeeded else None,
        comparisons=side_by_side(figures=figures) if succeeded else [],
        figure_lines=figure_lines(figures=figures),
        distributions=latency_distributions(run=run) if succeeded else None,
        trial_charts=trial_charts(budget=budget) if succeeded else {},
    )


def run_result_document(*, run: Run, budget: ResultBudget | None) -> dict[str, Any]:
    """The run's JSON export: the stored result document as the runner sent it, and the
    budget block (track, search cost with its measured and declared parts apart, CO2e,
    energy break-even) computed from it. `result` and `budget` are null without a result."""
    try:
        document = without_runner_identity(run.result.document)
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


# ---------------------------------------------------------------------------------------
# The result page (the run page of a succeeded run): headline, side by side, distributions

# Figure name -> words, for every table of the page (others show their name in words).
FIGURE_WORDS: dict[str, str] = {
    "accuracy": "accuracy on the hidden test split",
    "latency_p50": "latency, median (p50)",
    "latency_p90": "latency, p90",
    "latency_p99": "latency, p99",
    "latency_mean": "latency, mean",
    "latency_p90_early_stopping": "latency p90, early-stopping bound (99% confidence)",
    "latency_p50_cv": "variation of the median latency over the repeats",
    "queries": "timed queries",
    "serve_peak_memory": "peak memory while serving",
    "compress_wall": "compress phase, wall time",
    "compress_cpu": "compress phase, CPU time",
    "compress_peak_memory": "compress phase, peak memory",
    "artifact_size": "model file size",
    "artifact_gzip_size": "model file size, gzipped",
    "speedup": "measured speed-up (median over block pairs of reference p50 / submission p50)",
    "speedup_ci_low": "measured speed-up, low end of its 95% interval",
    "speedup_ci_high": "measured speed-up, high end of its 95% interval",
    "params_total": "parameters",
    "params_nonzero": "non-zero parameters",
    "flops_dense": "FLOPs per inference, dense",
    "flops_nonzero": "FLOPs per inference, non-zero",
    "compression_ratio": "compression (reference parameters / non-zero parameters)",
    "theoretical_speedup": "theoretical speed-up (reference FLOPs / non-zero FLOPs)",
    "prediction_mismatch_rate": "timed replies that differ from the accuracy pass",
    "repeat_latency_ratio": "repeated input / unseen inputs, median latency (caching probe)",
    "throughput": "offline throughput",
    "throughput_batch_size": "offline batch size",
    "compress_energy_gross": "compress phase energy, gross",
    "compress_energy_net": "compress phase energy, net",
    "serve_energy_gross": "serving energy, gross",
    "serve_energy_net": "serving energy, net",
    "energy_per_inference": "energy per inference",
    "samples_per_kwh": "inferences per kWh (offline)",
    "idle_power": "idle power of the host",
}

# The quantities shown side by side, reference against submission, in this order.
SIDE_BY_SIDE = (
    "accuracy",
    "latency_p50",
    "latency_p90",
    "latency_p99",
    "serve_peak_memory",
    "energy_per_inference",
    "artifact_size",
    "params_nonzero",
    "flops_nonzero",
    "throughput",
)
# Lower is better for these; the change column says "better" or "worse" accordingly.
LOWER_IS_BETTER = frozenset(
    {"latency_p50", "latency_p90", "latency_p99", "serve_peak_memory", "energy_per_inference", "artifact_size",
     "params_nonzero", "flops_nonzero"}
)  # fmt: skip


def figure_words(name: str) -> str:
    return FIGURE_WORDS.get(name, name.replace("_", " "))


def figure_text(figure: Figure | None) -> str:
    """A figure's value with its unit, in the unit people read (µs, MiB, J, %...)."""
    if figure is None:
        return formatting.MISSING
    if figure.unit == "J":
        return formatting.energy(figure.value)
    if figure.unit == "mJ":
        return f"{formatting.significant(figure.value, 2)} mJ"
    if figure.unit == "s":
        return formatting.duration(figure.value)
    if figure.unit == "samples/s":
        return f"{formatting.significant(figure.value)} inferences/s"
    if figure.unit == "samples/kWh":
        return f"{formatting.significant(figure.value)} per kWh"
    if figure.unit == "W":
        return f"{formatting.significant(figure.value)} W"
    if figure.unit == "count" and figure.value >= 10_000:
        return f"{formatting.significant(figure.value)}"
    if figure.unit == "bytes":
        return formatting.bytes_human(figure.value)
    return formatting.figure_value(figure.value, figure.unit)


@dataclass(frozen=True)
class FigureLine:
    """One line of the figure table: a figure in words, with its label."""

    subject: str
    name: str
    words: str
    text: str  # value and unit, readable
    raw: str  # the value as stored, and its contract unit (for whoever checks)
    label: str


@dataclass(frozen=True)
class Comparison:
    """One quantity of the reference beside the submission's, from the same job."""

    name: str
    words: str
    reference: str
    submission: str
    change: str  # "2.94× less", "+0.31 pt"..., "" when either is missing
    better: bool | None  # None: no direction, or missing
    label: str  # "measured" unless either figure is not


@dataclass(frozen=True)
class Headline:
    accuracy: Figure | None
    accuracy_delta: float | None
    speedup: Figure | None
    speedup_ci: tuple[float, float] | None
    speedup_gap: tuple[str, str] | None  # the footprint's promise not kept, in words
    theoretical_speedup: Figure | None
    compression_ratio: Figure | None
    energy: Figure | None
    reference_energy: Figure | None


def _by_key(figures: list[Figure]) -> dict[tuple[str, str], Figure]:
    return {(f.subject, f.name): f for f in figures}


def result_headline(*, figures: list[Figure]) -> Headline:
    found = _by_key(figures)

    def submission(name: str) -> Figure | None:
        return found.get((Figure.Subject.SUBMISSION, name))

    accuracy, reference_accuracy = submission("accuracy"), found.get((Figure.Subject.REFERENCE, "accuracy"))
    low, high = submission("speedup_ci_low"), submission("speedup_ci_high")
    speedup, theoretical = submission("speedup"), submission("theoretical_speedup")
    return Headline(
        accuracy=accuracy,
        accuracy_delta=accuracy.value - reference_accuracy.value if accuracy and reference_accuracy else None,
        speedup=speedup,
        speedup_ci=(low.value, high.value) if low and high else None,
        speedup_gap=speedup_gap_words(
            measured=speedup.value if speedup else None,
            theoretical=theoretical.value if theoretical else None,
            ci_low=low.value if low else None,
        ),
        theoretical_speedup=theoretical,
        compression_ratio=submission("compression_ratio"),
        energy=submission("energy_per_inference"),
        reference_energy=found.get((Figure.Subject.REFERENCE, "energy_per_inference")),
    )


def _change(name: str, reference: Figure, submission: Figure) -> tuple[str, bool | None]:
    if reference.unit == "fraction":
        delta = submission.value - reference.value
        return formatting.points(delta), None if delta == 0 else delta > 0
    if reference.value <= 0 or submission.value <= 0:
        return "", None
    ratio = submission.value / reference.value
    if ratio == 1:
        return "same", None
    if name in LOWER_IS_BETTER:
        if ratio <= 1:
            return f"{formatting.times(1 / ratio)} less", ratio < 1
        return f"{formatting.times(ratio)} more", False
    return (f"{formatting.times(ratio)}", ratio > 1) if ratio >= 1 else (f"{formatting.times(ratio)}", False)


def side_by_side(*, figures: list[Figure]) -> list[Comparison]:
    """The reference and the submission, quantity by quantity, as measured in this job."""
    found = _by_key(figures)
    lines = []
    for name in SIDE_BY_SIDE:
        reference = found.get((Figure.Subject.REFERENCE, name))
        submission = found.get((Figure.Subject.SUBMISSION, name))
        if reference is None and submission is None:
            continue
        change, better = ("", None)
        comparable = reference is not None and submission is not None and reference.unit == submission.unit
        if comparable and reference.label == submission.label:
            change, better = _change(name, reference, submission)
        labels = {f.label for f in (reference, submission) if f is not None}
        label = Figure.Label.MEASURED if labels == {Figure.Label.MEASURED} else "+".join(sorted(labels))
        lines.append(
            Comparison(
                name=name,
                words=figure_words(name),
                reference=figure_text(reference),
                submission=figure_text(submission),
                change=change,
                better=better,
                label=label,
            )
        )
    return lines


def figure_lines(*, figures: list[Figure]) -> list[FigureLine]:
    """Every figure of the result in words, subjects in the page's order."""
    order = {subject: index for index, subject in enumerate(SUBJECT_ORDER)}
    ordered = sorted(figures, key=lambda f: (order.get(f.subject, len(order)), f.name))
    return [
        FigureLine(
            subject=f.get_subject_display(),
            name=f.name,
            words=figure_words(f.name),
            text=figure_text(f),
            raw=f"{f.value:g} {f.unit}",
            label=f.label,
        )
        for f in ordered
    ]


# Bins of the latency histogram: log-spaced between the two subjects' 0.5th and 99.5th percentiles.
HISTOGRAM_BINS = 40
CDF_POINTS = 101


def latency_distributions(*, run: Run) -> dict[str, Any] | None:
    """Histogram and CDF data of the reference's and the submission's timed latencies (µs),
    from the raw per-query latencies; None when the result keeps none."""
    try:
        series = run_latency_samples(run=run)
    except NoLatencySamples:
        return None
    samples: dict[str, list[float]] = {}
    for part in series:
        if part.subject in (Figure.Subject.REFERENCE, Figure.Subject.SUBMISSION):
            samples.setdefault(part.subject, []).extend(part.samples_us)
    positive = {subject: np.asarray([v for v in values if v > 0]) for subject, values in samples.items()}
    positive = {subject: values for subject, values in positive.items() if len(values)}
    if not positive:
        return None
    everything = np.concatenate(list(positive.values()))
    low, high = np.percentile(everything, [0.5, 99.5])
    if high <= low:
        high = low * 1.01 + 1e-9
    edges = np.geomspace(low, high, HISTOGRAM_BINS + 1)
    quantiles = np.linspace(0, 100, CDF_POINTS)
    subjects = []
    for subject in (Figure.Subject.REFERENCE, Figure.Subject.SUBMISSION):
        values = positive.get(subject)
        if values is None:
            continue
        counts, _ = np.histogram(np.clip(values, low, high), bins=edges)
        subjects.append(
            {
                "subject": subject,
                "name": SUBJECT_DISPLAY[subject],
                "queries": int(len(values)),
                "fraction": [float(c) / len(values) for c in counts],
                "cdf_us": [float(v) for v in np.percentile(values, quantiles)],
                "p50_us": float(np.percentile(values, 50)),
            }
        )
    return {
        "unit": "us",
        "edges_us": [float(e) for e in edges],
        "quantiles": [float(q) / 100 for q in quantiles],
        "subjects": subjects,
        "clipped_note": "the fastest and slowest 0.5% of all queries are counted in the first and last bins",
    }


def trial_charts(*, budget: ResultBudget | None) -> dict[str, Any]:
    """The trial-log curves as chart data (json_script), by name; empty without any."""
    if budget is None:
        return {}
    return {name: chart.as_dict() for name, chart in budget.curves.items() if chart is not None}


# ---------------------------------------------------------------------------------------
# The run page while a run is not finished: phases, elapsed time, what to fix

PHASE_WORDS: dict[str, str] = {
    Run.QUEUED: "waiting for a runner of its hardware class",
    Run.STAGING: "staging: loading the image and the benchmark's files",
    Run.COMPRESSING: "compressing: your compress runs on the training split",
    Run.MEASURING: "measuring: the reference and the submission served side by side",
    Run.SUCCEEDED: "finished: the result is stored",
    Run.FAILED: "stopped: the run failed",
    Run.CANCELLED: "cancelled",
}

# What to do about a failure, by the start of its code (the runner's reason says what happened).
FAILURE_HINTS: tuple[tuple[str, str], ...] = (
    ("compress_", "Your compress command failed or ran too long: its log below ends where it stopped. Run it "
     "locally on the training split (docs/submission-contract.md) and check the limits."),
    ("output_", "Your compress wrote something /footprint/out must not hold (links, special files, too many "
     "files or bytes): write plain files only, within the limits."),
    ("model_missing", "Your compress must write /footprint/out/model.pt (TorchScript) in the standard division."),
    ("method_json", "Your compress must write a valid /footprint/out/method.json (runners/schemas)."),
    ("serve_", "Your model was not served as the contract says: for an own runtime, check your serve "
     "command with the SDK's serve(predict_fn); for the standard runtime, check that model.pt loads with "
     "torch.jit.load and answers a batch of the benchmark's input shape."),
    ("runner_", "Not your submission's doing: the runner stopped. Re-run it; if it fails again, tell the operators."),
    ("invalid_", "The platform could not build or read this run's job: tell the operators, with the run's number."),
)  # fmt: skip


def failure_hint(code: str) -> str:
    for prefix, hint in FAILURE_HINTS:
        if code.startswith(prefix):
            return hint
    return "The reason above says what happened; the logs below end where the run stopped."


@dataclass(frozen=True)
class PhaseTiming:
    state: str
    words: str
    started_at: datetime
    seconds: float | None  # None while it runs (elapsed is computed by the page)
    current: bool


def run_phases(*, run: Run, transitions: list[RunTransition]) -> list[PhaseTiming]:
    """How long the run spent in each state, from its recorded transitions (late reports left out)."""
    moments: list[tuple[str, datetime]] = [(Run.QUEUED, run.created)]
    for transition in transitions:
        if not transition.ignored:
            moments.append((transition.to_state, transition.at))
    phases = []
    for index, (state, started) in enumerate(moments):
        ended = moments[index + 1][1] if index + 1 < len(moments) else None
        terminal = state in Run.TERMINAL_STATES
        phases.append(
            PhaseTiming(
                state=state,
                words=PHASE_WORDS.get(state, state),
                started_at=started,
                seconds=(ended - started).total_seconds() if ended else (0.0 if terminal else None),
                current=ended is None and not terminal,
            )
        )
    return phases


def run_status(*, run: Run, can_edit: bool, staff: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """What the run page's script polls (runs/<id>/status.json): state, phase, times, logs."""
    now = now or timezone.now()
    transitions = list(run.transitions.all())
    end = run.finished_at or now
    return {
        "run": run.pk,
        "state": run.state,
        "state_label": run.get_state_display(),
        "phase": PHASE_WORDS.get(run.state, run.state),
        "terminal": run.is_terminal,
        "attempt": run.attempt,
        # Where it runs is an operator's business, not a reader's (docs/security.md).
        "runner_host": run.runner_host if staff else None,
        "elapsed_s": round((end - run.created).total_seconds(), 1),
        "phases": [
            {
                "state": phase.state,
                "words": phase.words,
                "started_at": phase.started_at.isoformat(),
                "seconds": round(
                    phase.seconds if phase.seconds is not None else (now - phase.started_at).total_seconds(), 1
                ),
                "current": phase.current,
            }
            for phase in run_phases(run=run, transitions=transitions)
        ],
        "failure": None
        if run.state != Run.FAILED
        else {
            "phase": run.failure_phase,
            "code": run.failure_code,
            "reason": run.failure_reason,
            "what_to_do": failure_hint(run.failure_code),
        },
        "cancel_requested": run.cancel_requested_at is not None,
        "logs": [{"phase": tail.phase, "text": tail.text, "cut": tail.cut} for tail in run_log_tails(run=run)],
        "can_edit": can_edit,
        "result_url": reverse("run-detail", args=[run.pk]) if run.state == Run.SUCCEEDED else None,
    }
