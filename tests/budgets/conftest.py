"""Fixtures of the budgets tests: a benchmark (with its default tracks), hardware classes,
and results with the figures and method.json a runner would store."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from benchmarks.models import Benchmark, HardwareClass
from budgets.services import tracks_ensure_defaults
from submissions.models import Figure, Result, Run, Submission


@pytest.fixture(autouse=True)
def fast_password_hasher(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="ada", password="x-unused-password-1")


@pytest.fixture
def benchmark(db) -> Benchmark:
    benchmark = Benchmark.objects.create(
        slug="tiny",
        name="Tiny",
        num_classes=10,
        input_shape=[1, 8, 8],
        data_dir="benchmarks/tiny/1",
        reference_accuracy=0.98,
        reference_model_sha256="b" * 64,
    )
    tracks_ensure_defaults(benchmark=benchmark)
    return benchmark


@pytest.fixture
def hardware_class(db) -> HardwareClass:
    return HardwareClass.objects.create(
        name="cpu-test", cpu_description="test CPU", cores=1, cpuset="1", grid_intensity_g_per_kwh=400.0
    )


def compress_figures(
    *, wall_s: float | None = 3600.0, cpu_s: float | None = 3000.0, energy_j: float | None = 360_000.0, label="measured"
) -> list[tuple[str, str, float, str, str]]:
    figures = [("submission", "compress_peak_memory", 2.0e8, "bytes", "measured")]
    if wall_s is not None:
        figures.append(("submission", "compress_wall", wall_s, "s", "measured"))
    if cpu_s is not None:
        figures.append(("submission", "compress_cpu", cpu_s, "s", "measured"))
    if energy_j is not None:
        figures.append(("submission", "compress_energy_net", energy_j, "J", label))
    return figures


@pytest.fixture
def make_result(user, benchmark, hardware_class):
    """make_result(figures=[(subject, name, value, unit, label)], method={...}, speedup=...)"""
    counter = iter(range(1, 10_000))

    def make(
        *,
        figures: list[tuple[str, str, float, str, str]] | None = None,
        method: dict[str, Any] | None = None,
        speedup: float = 2.0,
        hardware: HardwareClass | None = None,
        published: bool = True,
    ) -> Result:
        n = next(counter)
        submission = Submission.objects.create(
            owner=user,
            benchmark=benchmark,
            name=f"method {n}",
            division=Submission.Division.STANDARD,
            image_id="sha256:" + f"{n:064x}",
            tarball_sha256=f"{n:064x}",
            tarball_path=f"submissions/{n:032x}.tar",
            tarball_size_bytes=1024,
            published=published,
        )
        run = Run.objects.create(
            submission=submission,
            hardware_class=hardware or hardware_class,
            state=Run.SUCCEEDED,
            finished_at=timezone.now(),
        )
        result = Result.objects.create(
            run=run,
            schema="footprint.result/1",
            document={"schema": "footprint.result/1", "status": "succeeded", "method": method or {"name": "m"}},
            meets_accuracy_floor=True,
        )
        rows = [
            ("submission", "accuracy", 0.975, "fraction", "measured"),
            ("reference", "accuracy", 0.98, "fraction", "measured"),
            ("submission", "speedup", speedup, "ratio", "measured"),
            *(compress_figures() if figures is None else figures),
        ]
        Figure.objects.bulk_create(
            Figure(result=result, subject=s, name=name, value=v, unit=u, label=label) for s, name, v, u, label in rows
        )
        return result

    return make
