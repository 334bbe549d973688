"""A benchmark created by an import (or in the admin) gets the default budget tracks, once."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import numpy as np
import pytest
import torch
from django.core.management import call_command
from torch import nn

from benchmarks.models import Benchmark
from benchmarks.services import benchmark_import
from budgets.models import Track

pytestmark = pytest.mark.django_db

DEFAULTS = [("small-lab", 24.0, 10.0), ("medium", 500.0, 200.0), ("large-lab", None, None)]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A 3-class problem on [N, 1, 2, 2] inputs and a scripted linear reference."""
    rng = np.random.default_rng(0)
    paths = {}
    for split, count in (("train", 30), ("test", 12)):
        paths[split] = tmp_path / f"{split}.npz"
        np.savez(
            paths[split],
            x=rng.random((count, 1, 2, 2), dtype=np.float32),
            y=rng.integers(0, 3, size=count).astype(np.int64),
        )
    torch.manual_seed(0)
    paths["reference"] = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Flatten(), nn.Linear(4, 3))), str(paths["reference"]))
    return paths


def _import(files: dict[str, Path]) -> Benchmark:
    """What an operator runs: manage.py import_benchmark."""
    options = ["--slug", "tracked", "--name", "Tracked", "--train", str(files["train"]), "--test", str(files["test"])]
    call_command("import_benchmark", *options, "--reference", str(files["reference"]), stdout=StringIO())
    return Benchmark.objects.get(slug="tracked")


def _tracks(benchmark: Benchmark) -> list[tuple[str, float | None, float | None]]:
    return [(t.slug, t.max_device_hours, t.max_kwh) for t in Track.objects.filter(benchmark=benchmark)]


def test_an_imported_benchmark_gets_the_default_tracks(files, storage_root):
    assert _tracks(_import(files)) == DEFAULTS


def test_the_import_service_leaves_the_tracks_to_its_caller(files, storage_root):
    # benchmarks sits below budgets: the command (or the demo seed) asks for the tracks.
    imported = benchmark_import(
        slug="bare", name="Bare", train_path=files["train"], test_path=files["test"], reference_path=files["reference"]
    )
    assert imported.created and _tracks(imported.benchmark) == []


def test_importing_again_keeps_the_operators_tracks_and_deletions(files, storage_root):
    benchmark = _import(files)
    Track.objects.filter(benchmark=benchmark, slug="medium").delete()
    Track.objects.filter(benchmark=benchmark, slug="small-lab").update(max_device_hours=12.0)
    _import(files)
    assert _tracks(benchmark) == [("small-lab", 12.0, 10.0), ("large-lab", None, None)]


def test_an_import_that_removed_every_track_does_not_bring_them_back(files, storage_root):
    benchmark = _import(files)
    Track.objects.filter(benchmark=benchmark).delete()
    _import(files)
    assert _tracks(benchmark) == []


def test_the_admin_cannot_add_a_benchmark_without_its_files(admin_client):
    # Only an import creates a benchmark (files, data fields, default tracks); the admin edits one.
    assert admin_client.get("/admin/benchmarks/benchmark/add/").status_code == 403
    assert "/admin/benchmarks/benchmark/add/" not in admin_client.get("/admin/benchmarks/benchmark/").content.decode()


def test_the_benchmark_admin_page_lists_its_tracks(admin_client, files, storage_root):
    benchmark = _import(files)
    body = admin_client.get(f"/admin/benchmarks/benchmark/{benchmark.pk}/change/").content.decode()
    assert 'name="tracks-0-max_device_hours"' in body
    assert 'value="small-lab"' in body
