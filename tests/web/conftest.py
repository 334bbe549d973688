"""Demo-like rows for the page tests, made directly through the ORM (no model trained).

`demo` builds one benchmark on one hardware class with: two published succeeded runs
above the accuracy floor, one published run below it (with an estimated figure), a
failed run with a hostile log tail, a queued run, a private submission, and a runner.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from benchmarks.models import Benchmark, HardwareClass, RunnerStatus
from submissions.models import Figure, Result, Run, RunTransition, Submission

HOSTILE_LOG = '<script>alert("pwned")</script> & <b>bold</b>\nTraceback: boom'


@pytest.fixture
def storage_root(settings, tmp_path: Path) -> Path:
    root = tmp_path / "storage"
    root.mkdir()
    settings.FOOTPRINT_STORAGE_ROOT = root
    return root


@pytest.fixture
def upload_tmp(settings, tmp_path: Path) -> Path:
    """Where Django spools uploads, so that a test can check nothing is left there."""
    folder = tmp_path / "upload-tmp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


def make_benchmark(**fields: Any) -> Benchmark:
    values: dict[str, Any] = {
        "slug": "digits",
        "name": "Digits",
        "description": "8x8 handwritten digits.",
        "num_classes": 10,
        "input_shape": [1, 8, 8],
        "data_dir": "benchmarks/digits/1",
        "reference_accuracy": 0.97,
        "reference_model_sha256": "c" * 64,
        "accuracy_floor_fraction": 0.98,
    }
    values.update(fields)
    return Benchmark.objects.create(**values)


def make_hardware_class(**fields: Any) -> HardwareClass:
    values: dict[str, Any] = {
        "name": "cpu-local",
        "cpu_description": "Test CPU @ 2 GHz",
        "cores": 1,
        "cpuset": "1",
    }
    values.update(fields)
    return HardwareClass.objects.create(**values)


_counter = iter(range(1, 1_000_000))


def make_submission(*, owner: Any, benchmark: Benchmark, **fields: Any) -> Submission:
    n = next(_counter)
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
    figures: dict[tuple[str, str], tuple[float, str, str]] | None = None,
    meets_accuracy_floor: bool | None = None,
    logs: dict[str, str] | None = None,
    failure_reason: str = "",
    finished_at: Any = None,
) -> Run:
    """A run in `state`, with its transitions, and a result with `figures` when given.

    `figures` maps (subject, name) to (value, unit, label).
    """
    now = timezone.now()
    terminal = state in Run.TERMINAL_STATES
    run = Run.objects.create(
        submission=submission,
        hardware_class=hardware_class,
        state=state,
        runner_host="" if state == Run.QUEUED else "runner-1.test",
        logs=logs or {},
        failure_phase="compress" if state == Run.FAILED else "",
        failure_code="compress_nonzero_exit" if state == Run.FAILED else "",
        failure_reason=failure_reason,
        finished_at=(finished_at or now) if terminal else None,
    )
    path = {
        Run.QUEUED: [],
        Run.COMPRESSING: [Run.STAGING, Run.COMPRESSING],
        Run.SUCCEEDED: [Run.STAGING, Run.COMPRESSING, Run.MEASURING, Run.SUCCEEDED],
        Run.FAILED: [Run.STAGING, Run.COMPRESSING, Run.FAILED],
        Run.CANCELLED: [Run.CANCELLED],
    }[state]
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
        result = Result.objects.create(
            run=run,
            schema="footprint.result/1",
            document={"schema": "footprint.result/1", "run_id": run.pk, "status": state},
            provenance={"runner_host": "runner-1.test"},
            meets_accuracy_floor=meets_accuracy_floor,
        )
        Figure.objects.bulk_create(
            Figure(result=result, subject=subject, name=name, value=value, unit=unit, label=label)
            for (subject, name), (value, unit, label) in figures.items()
        )
    return run


def result_figures(
    *,
    accuracy: float,
    latency_p50_us: float,
    speedup: float,
    reference_accuracy: float = 0.97,
    reference_p50_us: float = 200.0,
    speedup_label: str = "measured",
) -> dict[tuple[str, str], tuple[float, str, str]]:
    return {
        ("submission", "accuracy"): (accuracy, "fraction", "measured"),
        ("reference", "accuracy"): (reference_accuracy, "fraction", "measured"),
        ("submission", "latency_p50"): (latency_p50_us, "us", "measured"),
        ("submission", "latency_p90"): (latency_p50_us * 1.2, "us", "measured"),
        ("reference", "latency_p50"): (reference_p50_us, "us", "measured"),
        ("reference", "latency_p90"): (reference_p50_us * 1.2, "us", "measured"),
        ("submission", "speedup"): (speedup, "ratio", speedup_label),
        ("submission", "serve_peak_memory"): (50 * 2**20 / speedup, "bytes", "measured"),
        ("reference", "serve_peak_memory"): (80 * 2**20, "bytes", "measured"),
        ("submission", "compress_wall"): (12.5 * speedup, "s", "measured"),
    }


@dataclass
class Demo:
    benchmark: Benchmark
    hardware_class: HardwareClass
    owner: Any
    fast: Submission  # published, 2.0x, meets the floor
    accurate: Submission  # published, 1.2x, more accurate, meets the floor
    sloppy: Submission  # published, under the floor, estimated speed-up
    broken: Submission  # published, its run failed with a hostile log
    waiting: Submission  # published, its run is queued
    private: Submission  # unpublished, succeeded
    fast_run: Run
    failed_run: Run
    queued_run: Run
    private_run: Run

    @property
    def leaderboard_url(self) -> str:
        return f"/benchmarks/{self.benchmark.slug}/{self.hardware_class.name}/"


@pytest.fixture
def demo(db: None, owner: Any) -> Demo:
    benchmark = make_benchmark()
    hardware_class = make_hardware_class()
    fast = make_submission(owner=owner, benchmark=benchmark, name="int8 dynamic")
    accurate = make_submission(owner=owner, benchmark=benchmark, name="magnitude pruning 50%")
    sloppy = make_submission(owner=owner, benchmark=benchmark, name="binary net")
    broken = make_submission(owner=owner, benchmark=benchmark, name="crashes")
    waiting = make_submission(owner=owner, benchmark=benchmark, name="waits")
    private = make_submission(owner=owner, benchmark=benchmark, name="secret", published=False)
    fast_run = make_run(
        submission=fast,
        hardware_class=hardware_class,
        figures=result_figures(accuracy=0.962, latency_p50_us=100.0, speedup=2.0),
        meets_accuracy_floor=True,
        logs={"compress": "quantized 3 layers\n", "serve_submission": "ready\n"},
    )
    make_run(
        submission=accurate,
        hardware_class=hardware_class,
        figures=result_figures(accuracy=0.975, latency_p50_us=166.0, speedup=1.2),
        meets_accuracy_floor=True,
    )
    make_run(
        submission=sloppy,
        hardware_class=hardware_class,
        figures=result_figures(accuracy=0.70, latency_p50_us=40.0, speedup=5.0, speedup_label="estimated"),
        meets_accuracy_floor=False,
    )
    failed_run = make_run(
        submission=broken,
        hardware_class=hardware_class,
        state=Run.FAILED,
        failure_reason="compress exited with code 1; its last output is below",
        logs={"compress": HOSTILE_LOG},
    )
    queued_run = make_run(submission=waiting, hardware_class=hardware_class, state=Run.QUEUED)
    private_run = make_run(
        submission=private,
        hardware_class=hardware_class,
        figures=result_figures(accuracy=0.99, latency_p50_us=10.0, speedup=20.0),
        meets_accuracy_floor=True,
    )
    RunnerStatus.objects.create(
        host="runner-1.test",
        hardware_class_name=hardware_class.name,
        hardware_class=hardware_class,
        state=RunnerStatus.State.IDLE,
        docker_ok=True,
        detail="docker 20.10, cgroup v1",
    )
    return Demo(
        benchmark=benchmark,
        hardware_class=hardware_class,
        owner=owner,
        fast=fast,
        accurate=accurate,
        sloppy=sloppy,
        broken=broken,
        waiting=waiting,
        private=private,
        fast_run=fast_run,
        failed_run=failed_run,
        queued_run=queued_run,
        private_run=private_run,
    )


@pytest.fixture
def no_dispatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Record the runs handed to the broker instead of sending them (no broker in page tests)."""
    from submissions import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.dispatch_run, "delay", lambda run_id: sent.append(run_id))
    yield sent
