"""Fixtures of the platform tests: rows made through the ORM, storage in a temporary folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings

from benchmarks.models import Benchmark, HardwareClass
from submissions.models import Run, Submission


@pytest.fixture(autouse=True)
def fast_password_hasher(settings) -> None:
    # The default PBKDF2 takes ~0.5 s a password on these machines; these tests check no hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def storage_root(settings, tmp_path: Path) -> Path:
    root = tmp_path / "storage"
    root.mkdir()
    settings.FOOTPRINT_STORAGE_ROOT = root
    return root


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="ada", password="x-unused-password-1")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="grace", password="x-unused-password-2")


@pytest.fixture
def benchmark(db) -> Benchmark:
    return Benchmark.objects.create(
        slug="tiny",
        name="Tiny",
        num_classes=10,
        input_shape=[1, 8, 8],
        data_dir="benchmarks/tiny/1",
        reference_accuracy=0.98,
        reference_model_sha256="b" * 64,
        accuracy_floor_fraction=0.98,
    )


@pytest.fixture
def hardware_class(db) -> HardwareClass:
    return HardwareClass.objects.create(name="cpu-test", cpu_description="test CPU", cores=1, cpuset="1")


@pytest.fixture
def make_submission(user, benchmark):
    counter = iter(range(1, 10_000))

    def make(**fields) -> Submission:
        n = next(counter)
        values = {
            "owner": user,
            "benchmark": benchmark,
            "name": f"method {n}",
            "division": Submission.Division.STANDARD,
            "image_id": "sha256:" + f"{n:064x}",
            "tarball_sha256": f"{n:064x}",
            "tarball_path": f"submissions/{n:032x}.tar",
            "tarball_size_bytes": 1024,
            "published": True,
        }
        values.update(fields)
        return Submission.objects.create(**values)

    return make


@pytest.fixture
def submission(make_submission) -> Submission:
    return make_submission()


@pytest.fixture
def run(submission, hardware_class) -> Run:
    return Run.objects.create(submission=submission, hardware_class=hardware_class)


# ---------------------------------------------------------------------------------------
# The digits benchmark, trained once per session


@pytest.fixture(scope="session")
def digits_seed(django_db_setup, django_db_blocker, tmp_path_factory) -> dict:
    """Seeds digits once into a session folder: trains the reference (seconds).

    The database rows are rolled back; the stored files (with their manifest) stay, so
    that tests copy them and seed without training.
    """
    from demo import digits

    root = tmp_path_factory.mktemp("digits-storage")
    with django_db_blocker.unblock(), override_settings(FOOTPRINT_STORAGE_ROOT=root), transaction.atomic():
        benchmark = digits.seed_digits()
        seeded = {
            "root": root,
            "reference_accuracy": benchmark.reference_accuracy,
            "reference_model_sha256": benchmark.reference_model_sha256,
            "data_dir": benchmark.data_dir,
        }
        transaction.set_rollback(True)
    return seeded


@pytest.fixture
def digits_storage(digits_seed, storage_root) -> Iterator[Path]:
    """A test's storage root holding the digits files of the session's seed."""
    shutil.copytree(digits_seed["root"] / "benchmarks", storage_root / "benchmarks")
    yield storage_root
