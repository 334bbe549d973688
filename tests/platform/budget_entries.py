"""Leaderboard entries with a search cost: a succeeded run whose result carries the compress
figures a runner publishes and a method.json with an optional declared search and trial log
(docs/search-cost.md, /work/briefs/method-search.md). Made through the ORM, no runner."""

from __future__ import annotations

import itertools
from typing import Any

from django.utils import timezone

from benchmarks.models import Benchmark, HardwareClass
from submissions.models import Figure, Result, Run, Submission

HOUR_S = 3600.0
KWH_J = 3.6e6

_numbers = itertools.count(1)


def entry(
    *,
    owner: Any,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    name: str,
    speedup: float = 2.0,
    accuracy: float = 0.975,
    meets_accuracy_floor: bool = True,
    published: bool = True,
    compress_wall_s: float | None = HOUR_S,
    compress_cpu_s: float | None = HOUR_S * 0.9,
    compress_energy_j: float | None = KWH_J,
    compress_energy_label: str = "measured",
    search: dict[str, Any] | None = None,
    trials: list[dict[str, Any]] | None = None,
    per_inference_mj: tuple[float, float, str] | None = None,
    method: dict[str, Any] | None = None,
) -> Run:
    """A published entry of `name`; `per_inference_mj`: (reference, submission, label).

    `method` replaces the whole method.json (an old result: {"name": ...} or None for none).
    """
    n = next(_numbers)
    submission = Submission.objects.create(
        owner=owner,
        benchmark=benchmark,
        name=name,
        division=Submission.Division.STANDARD,
        image_id=f"sha256:{n:064x}",
        tarball_sha256=f"{n:064x}",
        tarball_path=f"submissions/{n:032x}.tar",
        tarball_size_bytes=1024,
        published=published,
    )
    run = Run.objects.create(
        submission=submission,
        hardware_class=hardware_class,
        state=Run.SUCCEEDED,
        runner_host="runner-1.test",
        finished_at=timezone.now(),
    )
    if method is None:
        method = {"name": name}
        if search is not None:
            method["search"] = search
        if trials is not None:
            method["trials"] = trials
    document: dict[str, Any] = {"schema": "footprint.result/1", "run_id": run.pk, "status": "succeeded"}
    if method:
        document["method"] = method
    result = Result.objects.create(
        run=run,
        schema="footprint.result/1",
        document=document,
        provenance={"runner_host": "runner-1.test"},
        meets_accuracy_floor=meets_accuracy_floor,
    )
    rows: list[tuple[str, str, float, str, str]] = [
        ("submission", "accuracy", accuracy, "fraction", "measured"),
        ("reference", "accuracy", 0.98, "fraction", "measured"),
        ("submission", "latency_p50", 200.0 / speedup, "us", "measured"),
        ("reference", "latency_p50", 200.0, "us", "measured"),
        ("submission", "speedup", speedup, "ratio", "measured"),
        ("submission", "compress_peak_memory", 3 * 2**30, "bytes", "measured"),
    ]
    if compress_wall_s is not None:
        rows.append(("submission", "compress_wall", compress_wall_s, "s", "measured"))
    if compress_cpu_s is not None:
        rows.append(("submission", "compress_cpu", compress_cpu_s, "s", "measured"))
    if compress_energy_j is not None:
        rows.append(("submission", "compress_energy_net", compress_energy_j, "J", compress_energy_label))
    if per_inference_mj is not None:
        reference_mj, method_mj, label = per_inference_mj
        rows.append(("reference", "energy_per_inference", reference_mj, "mJ", label))
        rows.append(("submission", "energy_per_inference", method_mj, "mJ", label))
    Figure.objects.bulk_create(
        Figure(result=result, subject=subject, name=figure, value=value, unit=unit, label=label)
        for subject, figure, value, unit, label in rows
    )
    return run


def search(
    *, device_count: int = 1, hours: float = 1.0, energy_kwh: float | None = None, **extra: Any
) -> dict[str, Any]:
    """A declared search block (method.json `search`)."""
    block: dict[str, Any] = {"device_type": "NVIDIA A100 40GB", "device_count": device_count, "hours": hours}
    if energy_kwh is not None:
        block["energy_kwh"] = energy_kwh
    block.update(extra)
    return block


def trial_log(scores: list[float | None], *, energy_kwh: float | None = None) -> list[dict[str, Any]]:
    """A trial log: None is a failed trial."""
    log = []
    for number, score in enumerate(scores, start=1):
        trial: dict[str, Any] = {"config": {"lr": 0.01 * number}, "duration_s": 60.0, "failed": score is None}
        if score is not None:
            trial["score"] = score
        if energy_kwh is not None:
            trial["energy_kwh"] = energy_kwh
        log.append(trial)
    return log
