"""manage.py import_benchmark: checks the files, stores them, creates or updates the row."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from django.core.management import call_command
from django.core.management.base import CommandError
from torch import nn

from benchmarks.models import Benchmark

pytestmark = pytest.mark.django_db


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 3))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A 3-class problem on [N, 1, 2, 2] inputs and a scripted linear reference."""
    rng = np.random.default_rng(0)
    paths = {}
    for split, count in (("train", 30), ("test", 12)):
        x = rng.random((count, 1, 2, 2), dtype=np.float32)
        y = rng.integers(0, 3, size=count).astype(np.int64)
        paths[split] = tmp_path / f"{split}.npz"
        np.savez(paths[split], x=x, y=y)
    paths["reference"] = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(_model()), str(paths["reference"]))
    return paths


def _import(files: dict[str, Path], *extra: str, slug: str = "tiny-import") -> str:
    from io import StringIO

    out = StringIO()
    call_command(
        "import_benchmark",
        "--slug",
        slug,
        "--name",
        "Tiny import",
        "--train",
        str(files["train"]),
        "--test",
        str(files["test"]),
        "--reference",
        str(files["reference"]),
        *extra,
        stdout=out,
    )
    return out.getvalue()


def _accuracy(model_path: Path, test_path: Path) -> float:
    model = torch.jit.load(str(model_path))
    with np.load(test_path) as test, torch.no_grad():
        predictions = model(torch.from_numpy(test["x"])).argmax(1).numpy()
        return float((predictions == test["y"]).mean())


def test_it_imports_good_files_into_storage_and_measures_the_reference(files, storage_root):
    output = _import(files, "--accuracy-floor-fraction", "0.9", "--compress-wall-s", "120")
    benchmark = Benchmark.objects.get(slug="tiny-import")
    assert output.startswith("created benchmark tiny-import: 3 classes, input [1, 2, 2], data version 1")
    assert (benchmark.num_classes, benchmark.input_shape, benchmark.data_version) == (3, [1, 2, 2], 1)
    assert benchmark.reference_accuracy == pytest.approx(_accuracy(files["reference"], files["test"]))
    assert (benchmark.accuracy_floor_fraction, benchmark.compress_wall_s) == (0.9, 120)
    folder = storage_root / benchmark.data_dir
    assert benchmark.data_dir == "benchmarks/tiny-import/1"
    assert (folder / "reference" / "model.pt").read_bytes() == files["reference"].read_bytes()
    with np.load(folder / "test.npz") as stored, np.load(files["test"]) as given:
        assert stored["x"].dtype == np.float32 and stored["y"].dtype == np.int64
        assert np.array_equal(stored["x"], given["x"]) and np.array_equal(stored["y"], given["y"])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["data_sha256"] == benchmark.data_sha256
    assert manifest["files"]["reference/model.pt"] == benchmark.reference_model_sha256


def test_reimporting_the_same_files_keeps_the_version(files, storage_root):
    _import(files)
    output = _import(files, "--description", "now described")
    benchmark = Benchmark.objects.get(slug="tiny-import")
    assert "(files unchanged)" in output
    assert (benchmark.data_version, benchmark.description) == (1, "now described")
    assert Benchmark.objects.count() == 1


def test_new_files_get_a_new_version_and_the_old_folder_stays(files, storage_root, tmp_path):
    _import(files)
    torch.jit.save(torch.jit.script(_model(seed=1)), str(files["reference"]))
    _import(files)
    benchmark = Benchmark.objects.get(slug="tiny-import")
    assert benchmark.data_version == 2
    assert (storage_root / "benchmarks/tiny-import/1/reference/model.pt").is_file()
    assert (storage_root / "benchmarks/tiny-import/2/reference/model.pt").is_file()


def test_it_rejects_a_split_whose_inputs_and_labels_differ_in_length(files, storage_root):
    np.savez(files["train"], x=np.zeros((10, 1, 2, 2), np.float32), y=np.zeros(9, np.int64))
    with pytest.raises(CommandError, match=r"the train split has 10 inputs \(x\) but 9 labels \(y\)"):
        _import(files)
    assert not Benchmark.objects.exists()
    assert not (storage_root / "benchmarks").exists()


def test_it_rejects_a_split_without_labels(files, storage_root):
    np.savez(files["test"], x=np.zeros((4, 1, 2, 2), np.float32), labels=np.zeros(4, np.int64))
    with pytest.raises(CommandError, match=r"the test split test.npz has no array named y \(it has: labels, x\)"):
        _import(files)


def test_it_rejects_float_labels(files, storage_root):
    np.savez(files["test"], x=np.zeros((4, 1, 2, 2), np.float32), y=np.zeros(4, np.float32))
    with pytest.raises(CommandError, match="y has dtype float32; expected integer"):
        _import(files)


def test_it_rejects_labels_outside_the_classes(files, storage_root):
    np.savez(files["test"], x=np.zeros((4, 1, 2, 2), np.float32), y=np.array([0, 1, 2, 3]))
    with pytest.raises(CommandError, match=r"labels span \[0, 3\]; with 3 classes they must lie in \[0, 2\]"):
        _import(files)


def test_it_rejects_a_file_that_is_not_an_npz(files, storage_root):
    files["train"].write_text("x,y\n1,2\n")
    with pytest.raises(CommandError, match="the train split train.npz is not a NumPy .npz archive"):
        _import(files)


def test_it_rejects_splits_with_different_input_shapes(files, storage_root):
    np.savez(files["test"], x=np.zeros((4, 4), np.float32), y=np.zeros(4, np.int64))
    with pytest.raises(CommandError, match=r"train inputs have shape \[1, 2, 2\] but the test inputs \[4\]"):
        _import(files)


def test_it_rejects_a_reference_that_is_not_torchscript(files, storage_root):
    torch.save(_model().state_dict(), str(files["reference"]))
    with pytest.raises(CommandError, match="the reference model model.pt is not a TorchScript file"):
        _import(files)
    assert not Benchmark.objects.exists()


def test_it_rejects_a_reference_with_the_wrong_number_of_classes(files, storage_root):
    with pytest.raises(CommandError, match="the reference model scores 3 classes; the benchmark has 5"):
        _import(files, "--num-classes", "5")


def test_it_rejects_a_reference_that_fails_on_the_inputs(files, storage_root):
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Flatten(), nn.Linear(7, 3))), str(files["reference"]))
    with pytest.raises(CommandError, match=r"the reference model fails on a batch of shape \[12, 1, 2, 2\]"):
        _import(files)


def test_it_rejects_an_accuracy_floor_fraction_above_one(files, storage_root):
    with pytest.raises(CommandError, match="accuracy_floor_fraction"):
        _import(files, "--accuracy-floor-fraction", "1.5")
    assert not (storage_root / "benchmarks" / "tiny-import" / "1").exists()


def test_it_rejects_a_slug_that_is_not_a_slug(files, storage_root):
    with pytest.raises(CommandError, match="the slug '../evil' must be lower-case letters"):
        _import(files, slug="../evil")
