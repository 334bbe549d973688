"""Writes of the benchmarks app: importing a benchmark's files, recording runner heartbeats."""

from __future__ import annotations

import json
import logging
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from benchmarks.data import (
    BenchmarkDataError,
    Split,
    check_labels,
    content_sha256,
    file_sha256,
    load_split,
    reference_accuracy,
)
from benchmarks.models import Benchmark, HardwareClass, RunnerCredential, RunnerStatus
from core.text import storable
from footprint.storage import storage_root

log = logging.getLogger(__name__)

TRAIN_FILE = "train.npz"
TEST_FILE = "test.npz"
REFERENCE_FILE = "reference/model.pt"
MANIFEST_FILE = "manifest.json"
DATA_FILES = (TRAIN_FILE, TEST_FILE, REFERENCE_FILE)

# Benchmark fields an import may set besides the data (limits, measurement, floor...).
SETTABLE_FIELDS = (
    "description",
    "accuracy_floor_fraction",
    "compress_wall_s",
    "serve_wall_s",
    "serve_ready_s",
    "memory_bytes",
    "pids_limit",
    "tmpfs_bytes",
    "output_max_bytes",
    "warmup_queries",
    "warmup_s",
    "min_queries",
    "min_duration_s",
    "accuracy_batch_size",
    "seed",
    "serve_repeats",
    "unstable_cv_threshold",
    "data_public",
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True)
class BenchmarkImport:
    benchmark: Benchmark
    created: bool
    # False when the files were already stored (same content): nothing was copied.
    data_written: bool


def benchmark_version_dirs(slug: str) -> dict[int, Path]:
    base = storage_root() / "benchmarks" / slug
    if not base.is_dir():
        return {}
    return {int(p.name): p for p in base.iterdir() if p.is_dir() and p.name.isdigit()}


def stored_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a stored data folder whose files still match it, else None."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        files = manifest["files"]
        for name in DATA_FILES:
            if file_sha256(folder / name) != files[name]:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return manifest


def benchmark_files_intact(benchmark: Benchmark) -> bool:
    """Whether the benchmark's stored files are there and are the ones it was imported with."""
    manifest = stored_manifest(storage_root() / benchmark.data_dir)
    return (
        manifest is not None
        and manifest.get("data_sha256") == benchmark.data_sha256
        and manifest["files"][REFERENCE_FILE] == benchmark.reference_model_sha256
    )


def _write_version(folder: Path, *, train: Split, test: Split, reference: Path, manifest: dict) -> None:
    """Write the files into a hidden folder, then rename it: a runner never sees half."""
    staging = folder.parent / f".import-{secrets.token_hex(8)}"
    try:
        (staging / "reference").mkdir(parents=True)
        np.savez(staging / TRAIN_FILE, x=train.x, y=train.y)
        np.savez(staging / TEST_FILE, x=test.x, y=test.y)
        shutil.copyfile(reference, staging / REFERENCE_FILE)
        manifest["files"] = {name: file_sha256(staging / name) for name in DATA_FILES}
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def benchmark_import(
    *,
    slug: str,
    name: str,
    train_path: Path,
    test_path: Path,
    reference_path: Path,
    num_classes: int | None = None,
    fields: dict[str, Any] | None = None,
    on_create: Callable[..., object] | None = None,
) -> BenchmarkImport:
    """Check a benchmark's files, store them, and create or update the Benchmark.

    The files are stored under benchmarks/<slug>/<version>/; new content gets a new
    version folder (a queued job keeps reading the folder it was given), the same content
    reuses the folder it is in. `fields` sets any of SETTABLE_FIELDS. `on_create(benchmark=...)`
    runs in the transaction that saves a new benchmark (budgets.services.tracks_ensure_defaults
    gives it the default tracks); an existing benchmark is only updated. Raises
    BenchmarkDataError with a reason for the operator.
    """
    if not _SLUG.match(slug):
        raise BenchmarkDataError(f"the slug {slug!r} must be lower-case letters, digits and dashes (at most 64)")
    unknown = set(fields or {}) - set(SETTABLE_FIELDS)
    if unknown:
        raise BenchmarkDataError(f"unknown benchmark fields: {', '.join(sorted(unknown))}")
    if num_classes is not None and num_classes < 2:
        raise BenchmarkDataError(f"num_classes is {num_classes}; a classification needs at least 2")

    train = load_split(Path(train_path), role="train")
    test = load_split(Path(test_path), role="test")
    if train.input_shape != test.input_shape:
        raise BenchmarkDataError(
            f"the train inputs have shape {train.input_shape} but the test inputs "
            f"{test.input_shape}; both splits must share one input shape"
        )
    reference_sha256 = file_sha256(Path(reference_path)) if Path(reference_path).is_file() else ""
    accuracy, classes = reference_accuracy(Path(reference_path), test, num_classes=num_classes)
    num_classes = num_classes or classes
    check_labels(train, num_classes=num_classes, role="train")
    check_labels(test, num_classes=num_classes, role="test")
    data_sha256 = content_sha256(train, test, reference_sha256)

    benchmark = Benchmark.objects.filter(slug=slug).first()
    created = benchmark is None
    benchmark = benchmark or Benchmark(slug=slug)

    versions = benchmark_version_dirs(slug)
    reuse = [
        version
        for version, folder in sorted(versions.items(), reverse=True)
        if (stored_manifest(folder) or {}).get("data_sha256") == data_sha256
    ]
    if reuse:
        version = reuse[0]
    else:
        version = max([0 if created else benchmark.data_version, *versions]) + 1

    benchmark.name = name
    benchmark.num_classes = num_classes
    benchmark.input_shape = train.input_shape
    benchmark.data_version = version
    benchmark.data_dir = f"benchmarks/{slug}/{version}"
    benchmark.reference_accuracy = accuracy
    benchmark.reference_model_sha256 = reference_sha256
    benchmark.data_sha256 = data_sha256
    for field, value in (fields or {}).items():
        setattr(benchmark, field, value)
    try:
        benchmark.full_clean()
    except ValidationError as exc:
        problems = "; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
        raise BenchmarkDataError(f"invalid benchmark settings: {problems}") from None

    if not reuse:
        folder = storage_root() / benchmark.data_dir
        folder.parent.mkdir(parents=True, exist_ok=True)
        _write_version(
            folder,
            train=train,
            test=test,
            reference=Path(reference_path),
            manifest={
                "slug": slug,
                "data_version": version,
                "data_sha256": data_sha256,
                "num_classes": num_classes,
                "input_shape": train.input_shape,
                "reference_accuracy": accuracy,
                "train_count": len(train.y),
                "test_count": len(test.y),
            },
        )
    with transaction.atomic():
        benchmark.save()
        if created and on_create is not None:
            on_create(benchmark=benchmark)
    log.info(
        "benchmark %s: version %s, reference accuracy %.4f (%s)",
        slug,
        version,
        accuracy,
        "created" if created else "updated",
    )
    return BenchmarkImport(benchmark=benchmark, created=created, data_written=not reuse)


# ---------------------------------------------------------------------------------------
# Runner heartbeats


def runner_status_record(*, status: Any, credential: RunnerCredential | None = None) -> RunnerStatus:
    """footprint.runner_heartbeat: keep the last status a runner reported.

    `credential` signed the heartbeat (benchmarks.credentials); its name is the runner's id.
    Raises TypeError or ValueError for a status that does not follow runners/README.md.
    """
    if not isinstance(status, dict):
        raise TypeError(f"a runner status must be an object, got {type(status).__name__}")
    status = storable(status)
    host, class_name, state = status.get("host"), status.get("hardware_class"), status.get("state")
    if not isinstance(host, str) or not host or not isinstance(class_name, str) or not class_name:
        raise ValueError("a runner status needs a host and a hardware_class")
    if state not in RunnerStatus.State.values:
        raise ValueError(f"runner {host}: unknown state {state!r}")
    runner_id = credential.name if credential is not None else str(status.get("runner_id") or host)[:64]
    versions = status.get("versions")
    running = status.get("running")
    record, _ = RunnerStatus.objects.update_or_create(
        runner_id=runner_id,
        hardware_class_name=class_name[:64],
        defaults={
            "host": host[:255],
            "credential": credential,
            "hardware_class": HardwareClass.objects.filter(name=class_name).first(),
            "state": state,
            "docker_ok": status.get("docker_ok") is True,
            "detail": str(status.get("detail") or "")[:4000],
            "versions": versions if isinstance(versions, dict) else {},
            "running": [r for r in running if isinstance(r, int)][:100] if isinstance(running, list) else [],
            "last_seen": timezone.now(),
        },
    )
    return record
