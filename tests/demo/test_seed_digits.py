"""The digits demo benchmark: trained once, reference accuracy >= 0.95, seeding idempotent."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.models import Benchmark
from benchmarks.services import benchmark_files_intact
from demo import digits

pytestmark = pytest.mark.django_db


def test_the_trained_reference_reaches_095_on_the_test_split(digits_seed):
    assert digits_seed["reference_accuracy"] >= 0.95


def test_seeding_registers_the_stored_files_without_training_again(digits_storage, monkeypatch):
    monkeypatch.setattr(digits, "train_reference", pytest.fail)
    benchmark = digits.seed_digits()
    assert benchmark.slug == "digits"
    assert benchmark.reference_accuracy >= 0.95
    assert (benchmark.num_classes, benchmark.input_shape) == (10, [1, 8, 8])
    assert benchmark_files_intact(benchmark)


def test_seeding_twice_neither_duplicates_the_row_nor_rewrites_the_files(digits_storage, monkeypatch):
    first = digits.seed_digits()
    model = digits_storage / first.data_dir / "reference" / "model.pt"
    written = model.stat().st_mtime_ns
    monkeypatch.setattr(digits, "train_reference", pytest.fail)
    second = digits.seed_digits()
    assert second.pk == first.pk and second.data_version == first.data_version
    assert Benchmark.objects.filter(slug="digits").count() == 1
    assert model.stat().st_mtime_ns == written


def test_the_stored_splits_follow_the_contract(digits_storage):
    benchmark = digits.seed_digits()
    folder = digits_storage / benchmark.data_dir
    with np.load(folder / "train.npz") as train, np.load(folder / "test.npz") as test:
        assert train["x"].dtype == np.float32 and train["x"].shape[1:] == (1, 8, 8)
        assert train["y"].dtype == np.int64
        assert (len(train["y"]), len(test["y"])) == (1257, 540)  # 70/30 of 1,797
        assert 0.0 <= float(train["x"].min()) and float(train["x"].max()) <= 1.0
        # Stratified: every class is in both splits in about the same share.
        assert np.bincount(test["y"]).min() >= 50


def test_the_reference_is_the_documented_sequential(digits_storage):
    benchmark = digits.seed_digits()
    model = torch.jit.load(str(digits_storage / benchmark.data_dir / "reference" / "model.pt"))
    kinds = [child.original_name for child in model.children()]
    assert kinds == ["Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear"]
    with torch.no_grad():
        assert model(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


def test_a_damaged_stored_model_is_not_trusted(digits_storage, monkeypatch):
    benchmark = digits.seed_digits()
    model = digits_storage / benchmark.data_dir / "reference" / "model.pt"
    model.write_bytes(model.read_bytes()[:-10])
    assert not benchmark_files_intact(benchmark)
    trained: list[bool] = []
    real_train = digits.train_reference

    def train(*args, **kwargs):
        trained.append(True)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(digits, "train_reference", train)
    monkeypatch.setattr(digits, "EPOCHS", 1)  # what is checked here is the retraining
    reseeded = digits.seed_digits()
    assert trained == [True]
    assert benchmark_files_intact(reseeded)
    assert reseeded.data_version == benchmark.data_version + 1
