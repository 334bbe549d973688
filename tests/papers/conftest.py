"""Fixtures of the papers tests: a benchmark, a hardware class, a paper, runs with figures."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.models import Benchmark, HardwareClass
from papers.models import Claim, Paper
from submissions.models import Run, Submission
from tests.web.conftest import make_benchmark, make_hardware_class, make_run, make_submission


@pytest.fixture(autouse=True)
def fast_password_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def benchmark(db: None) -> Benchmark:
    return make_benchmark()


@pytest.fixture
def hardware_class(db: None) -> HardwareClass:
    return make_hardware_class()


@pytest.fixture
def paper(db: None) -> Paper:
    return Paper.objects.create(
        slug="sparse-and-fast",
        title="Sparse and fast: pruning digits classifiers",
        authors="A. Lovelace, G. Hopper",
        venue="NeurIPS",
        year=2024,
        arxiv_id="2101.00001v2",
        doi="10.1145/3292500.3330701",
    )


def figures(**named: tuple[float, str] | tuple[float, str, str]) -> dict[tuple[str, str], tuple[float, str, str]]:
    """Submission figures for make_run: name=(value, unit[, label])."""
    return {
        ("submission", name): (spec[0], spec[1], spec[2] if len(spec) > 2 else "measured")
        for name, spec in named.items()
    }


def submission_with_run(
    *,
    owner: Any,
    benchmark: Benchmark,
    hardware_class: HardwareClass,
    paper: Paper,
    run_figures: dict | None,
    state: str = Run.SUCCEEDED,
    **fields: Any,
) -> tuple[Submission, Run]:
    """A submission linked to `paper` with one run in `state` (with `run_figures` as its result)."""
    submission = make_submission(owner=owner, benchmark=benchmark, **fields)
    paper.submissions.add(submission)
    run = make_run(submission=submission, hardware_class=hardware_class, state=state, figures=run_figures)
    return submission, run


def make_claim(*, paper: Paper, benchmark: Benchmark, hardware_class: HardwareClass, **fields: Any) -> Claim:
    values: dict[str, Any] = {"method": "magnitude pruning"}
    values.update(fields)
    claim = Claim(paper=paper, benchmark=benchmark, hardware_class=hardware_class, **values)
    claim.full_clean()
    claim.save()
    return claim
