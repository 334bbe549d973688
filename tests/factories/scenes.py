"""Scenes for the page tests: a demo-like board, and the same board with budget tracks.

`make_demo` builds one benchmark on one hardware class with: two published succeeded runs
above the accuracy floor, one published run below it (with an estimated figure), a
failed run with a hostile log tail, a queued run, a private submission, and a runner.

`make_budget_board` adds to it (the demo's entries have no compress energy, so their total
is unknown: large-lab only):

| entry | speed-up | totals | track | declared |
|---|---|---|---|---|
| at the limit | 1.5x | 24 device-hours, 10 kWh exactly | small-lab | yes |
| just above | 3.0x | 24 device-hours, 10.001 kWh | medium | yes |
| measured small | 1.3x | 1 device-hour, 1 kWh (estimated) | small-lab | no |
| private small | 9.0x | 1 device-hour, 1 kWh, unpublished | small-lab | no |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.models import Benchmark, HardwareClass, RunnerStatus
from budgets.services import tracks_ensure_defaults
from submissions.models import Run, Submission
from tests.factories.figures import result_figures, search, trial_log
from tests.factories.rows import make_benchmark, make_entry, make_hardware_class, make_run, make_submission

HOSTILE_LOG = '<script>alert("pwned")</script> & <b>bold</b>\nTraceback: boom'
GRID_G_PER_KWH = 480.0
HOSTILE = '<script>alert("x")</script>'


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


def make_demo(*, owner: Any) -> Demo:
    """The demo-like board: digits on cpu-local, with the entries listed in this module's docstring."""
    benchmark = make_benchmark(slug="digits", name="Digits", data_dir="benchmarks/digits/1", reference_accuracy=0.97)
    hardware_class = make_hardware_class(name="cpu-local", cpu_description="Test CPU @ 2 GHz")
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


@dataclass
class BudgetBoard:
    demo: Demo
    at_limit: Run
    just_above: Run
    measured_small: Run
    private_small: Run

    @property
    def url(self) -> str:
        return self.demo.leaderboard_url


def make_budget_board(demo: Demo) -> BudgetBoard:
    """Budget tracks and search costs added to the demo board (see this module's docstring)."""
    tracks_ensure_defaults(benchmark=demo.benchmark)
    demo.hardware_class.grid_intensity_g_per_kwh = GRID_G_PER_KWH
    demo.hardware_class.save()

    def add(name: str, **fields) -> Run:
        return make_entry(
            owner=demo.owner, benchmark=demo.benchmark, hardware_class=demo.hardware_class, name=name, **fields
        )

    return BudgetBoard(
        demo=demo,
        at_limit=add(
            "at the limit",
            speedup=1.5,
            search=search(device_count=23, hours=1.0, energy_kwh=9.0, trials=7, note=f"grid search {HOSTILE}"),
            trials=trial_log([0.90, None, 0.93, 0.91, 0.95, 0.94, 0.96], energy_kwh=9.0 / 7),
            per_inference_mj=(0.5, 0.3, "measured"),
        ),
        just_above=add(
            "just above",
            speedup=3.0,
            search=search(device_count=23, hours=1.0, energy_kwh=9.001),
            per_inference_mj=(0.3, 0.5, "measured"),
        ),
        measured_small=add("measured small", speedup=1.3, compress_energy_label="estimated"),
        private_small=add("private small", speedup=9.0, published=False),
    )
