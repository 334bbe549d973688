"""Rows made through the ORM, as the platform would have stored them (no runner, no model trained)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from django.utils import timezone

from benchmarks.models import Benchmark, HardwareClass
from papers.models import Claim, Paper
from submissions.audits import audits_from_document
from submissions.models import Figure, Result, Run, RunTransition, Submission
from tests.factories.figures import FigureSpec, entry_figures

_numbers = itertools.count(1)

# The states a run passes through on its way to each state, after queued.
_PATHS = {
    Run.QUEUED: [],
    Run.STAGING: [Run.STAGING],
    Run.COMPRESSING: [Run.STAGING, Run.COMPRESSING],
    Run.MEASURING: [Run.STAGING, Run.COMPRESSING, Run.MEASURING],
    Run.SUCCEEDED: [Run.STAGING, Run.COMPRESSING, Run.MEASURING, Run.SUCCEEDED],
    Run.FAILED: [Run.STAGING, Run.COMPRESSING, Run.FAILED],
    Run.CANCELLED: [Run.CANCELLED],
}


def make_benchmark(**fields: Any) -> Benchmark:
    """A benchmark row without files (and without tracks: the `benchmark` fixture adds them)."""
    values: dict[str, Any] = {
        "slug": "tiny",
        "name": "Tiny",
        "description": "8x8 handwritten digits.",
        "num_classes": 10,
        "input_shape": [1, 8, 8],
        "data_dir": "benchmarks/tiny/1",
        "reference_accuracy": 0.98,
        "reference_model_sha256": "b" * 64,
        "accuracy_floor_fraction": 0.98,
    }
    values.update(fields)
    return Benchmark.objects.create(**values)


def make_hardware_class(**fields: Any) -> HardwareClass:
    values: dict[str, Any] = {"name": "cpu-test", "cpu_description": "test CPU", "cores": 1, "cpuset": "1"}
    values.update(fields)
    return HardwareClass.objects.create(**values)


def make_submission(*, owner: Any, benchmark: Benchmark, **fields: Any) -> Submission:
    """A published submission with a unique image; `fields` override any column."""
    n = next(_numbers)
    values: dict[str, Any] = {
        "owner": owner,
        "benchmark": benchmark,
        "name": f"method {n}",
        "description": "a test method",
        "division": Submission.Division.STANDARD,
        "image_id": f"sha256:{n:064x}",
        "tarball_sha256": f"{n:064x}",
        "tarball_path": f"submissions/{n:032x}.tar",
        "tarball_size_bytes": 123_456,
        "published": True,
    }
    values.update(fields)
    return Submission.objects.create(**values)


def make_run(
    *,
    submission: Submission,
    hardware_class: HardwareClass,
    state: str = Run.SUCCEEDED,
    figures: FigureSpec | None = None,
    meets_accuracy_floor: bool | None = None,
    method: dict[str, Any] | None = None,
    flags: list[str] | None = None,
    audits: list[dict[str, Any]] | None = None,
    provenance: dict[str, Any] | None = None,
    logs: dict[str, str] | None = None,
    failure_reason: str = "",
    finished_at: Any = None,
) -> Run:
    """A run in `state` with the transitions that led there, and a result holding `figures`
    when they are given (`method`: the method.json of its document; none when empty;
    `audits`: entries of the document's audits, tests.factories.documents.audit, stored as
    ingestion stores them)."""
    now = timezone.now()
    run = Run.objects.create(
        submission=submission,
        hardware_class=hardware_class,
        state=state,
        runner_host="" if state == Run.QUEUED else "runner-1.test",
        logs=logs or {},
        failure_phase="compress" if state == Run.FAILED else "",
        failure_code="compress_nonzero_exit" if state == Run.FAILED else "",
        failure_reason=failure_reason,
        finished_at=(finished_at or now) if state in Run.TERMINAL_STATES else None,
    )
    path = _PATHS[state]
    previous = Run.QUEUED
    for step, to_state in enumerate(path):
        RunTransition.objects.create(
            run=run,
            from_state=previous,
            to_state=to_state,
            at=now - timedelta(seconds=len(path) - step),
            reason=failure_reason if to_state == Run.FAILED else f"runner reached {to_state}",
            attempt=1,
        )
        previous = to_state
    if figures is not None:
        document: dict[str, Any] = {"schema": "footprint.result/1", "run_id": run.pk, "status": state}
        if method:
            document["method"] = method
        if flags:
            document["flags"] = list(flags)
        if audits is not None:
            document["audits"] = audits
        result = Result.objects.create(
            run=run,
            schema="footprint.result/1",
            document=document,
            provenance=provenance if provenance is not None else {"runner_host": "runner-1.test"},
            meets_accuracy_floor=meets_accuracy_floor,
            flags=list(flags or []),
        )
        rows = [
            Figure(result=result, subject=subject, name=name, value=value, unit=unit, label=label)
            for (subject, name), (value, unit, label) in figures.items()
        ]
        Figure.objects.bulk_create(rows)
        for audit in audits_from_document(document=document, figures=rows):
            audit.result = result
            audit.save()
    return run


def make_entry(
    *,
    owner: Any,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    name: str | None = None,
    published: bool = True,
    meets_accuracy_floor: bool = True,
    figures: FigureSpec | None = None,
    method: dict[str, Any] | None = None,
    search: dict[str, Any] | None = None,
    trials: list[dict[str, Any]] | None = None,
    flags: list[str] | None = None,
    audits: list[dict[str, Any]] | None = None,
    **figure_fields: Any,
) -> Run:
    """A submission with one succeeded run: a leaderboard entry with a search cost.

    `figures` default to tests.factories.figures.entry_figures(**figure_fields). method.json
    is {"name": ...} with `search` and `trials` when given; `method` replaces it whole ({}
    for a result whose document has none, as an older runner sent).
    """
    submission = make_submission(
        owner=owner, benchmark=benchmark, published=published, **({"name": name} if name else {})
    )
    if method is None:
        method = {"name": submission.name}
        if search is not None:
            method["search"] = search
        if trials is not None:
            method["trials"] = trials
    return make_run(
        submission=submission,
        hardware_class=hardware_class,
        figures=figures if figures is not None else entry_figures(**figure_fields),
        meets_accuracy_floor=meets_accuracy_floor,
        method=method,
        flags=flags,
        audits=audits,
    )


def make_paper(**fields: Any) -> Paper:
    values: dict[str, Any] = {
        "slug": "sparse-and-fast",
        "title": "Sparse and fast: pruning digits classifiers",
        "authors": "A. Lovelace, G. Hopper",
        "venue": "NeurIPS",
        "year": 2024,
        "arxiv_id": "2101.00001v2",
        "doi": "10.1145/3292500.3330701",
    }
    values.update(fields)
    return Paper.objects.create(**values)


def make_claim(*, paper: Paper, benchmark: Benchmark, hardware_class: HardwareClass, **fields: Any) -> Claim:
    """A claim of `paper`, validated as the admin validates it."""
    values: dict[str, Any] = {"method": "magnitude pruning"}
    values.update(fields)
    claim = Claim(paper=paper, benchmark=benchmark, hardware_class=hardware_class, **values)
    claim.full_clean()
    claim.save()
    return claim


def submission_with_run(
    *,
    owner: Any,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    paper: Paper,
    run_figures: FigureSpec | None,
    state: str = Run.SUCCEEDED,
    **fields: Any,
) -> tuple[Submission, Run]:
    """A submission linked to `paper` with one run in `state` (with `run_figures` as its result)."""
    submission = make_submission(owner=owner, benchmark=benchmark, **fields)
    paper.submissions.add(submission)
    run = make_run(submission=submission, hardware_class=hardware_class, state=state, figures=run_figures)
    return submission, run


def run_reported_measuring(run: Run) -> Run:
    """`run` moved to measuring by the runner's progress reports, as a runner sends them."""
    from submissions.tasks import run_progress
    from tests.factories.signing import signed_progress

    for state in (Run.STAGING, Run.COMPRESSING, Run.MEASURING):
        run_progress(*signed_progress(run, 1, state, state))
    run.refresh_from_db()
    return run
