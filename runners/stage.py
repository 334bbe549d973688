"""Staging: the submission's image on this runner, and the folders its containers see.

`compress` gets `/footprint/in` (task.json, the reference model, the training split: copies,
so that the test split is never reachable) and an empty `/footprint/out`. The test split
stays in the runner process: inputs go to servers one query at a time, labels never leave.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np

from runners.containers import give_to_container
from runners.result import JobFailure
from runners.sandbox.docker import DockerSandbox, SandboxError
from runners.spec import JobSpec

# Warm-up and the bridge queries before each timed block come from the training split:
# never a test input, so that nothing timed can have been seen. This many are kept.
WARMUP_POOL = 256


@dataclass(frozen=True)
class Staged:
    work: Path
    in_dir: Path
    out_dir: Path
    reference_dir: Path
    test_x: np.ndarray
    test_y: np.ndarray
    warmup_x: np.ndarray  # training inputs for warm-up (untimed)


def local_path(location: str) -> Path:
    """The path behind a data location. Only `file://` exists while runners share the
    platform's host; a download URL with a per-job token will replace it."""
    url = urlparse(location)
    if url.scheme != "file":
        raise JobFailure("staging", "unsupported_location", f"this runner cannot fetch {url.scheme}:// locations yet")
    return Path(unquote(url.path))


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def stage(spec: JobSpec, sandbox: DockerSandbox, work: Path) -> Staged:
    data = local_path(spec.benchmark.data_location)
    for name in ("train.npz", "test.npz", "reference/model.pt"):
        if not (data / name).is_file():
            raise JobFailure("staging", "benchmark_data_missing", f"the benchmark's {name} is missing at {data}")
    try:
        sandbox.ensure_image(spec.submission.image_id, local_path(spec.submission.image_location))
    except SandboxError as exc:
        if exc.code == "docker_unavailable":
            raise
        raise JobFailure("staging", exc.code, f"the submission image could not be loaded: {exc.reason}")
    except FileNotFoundError as exc:
        raise JobFailure("staging", "image_missing", f"the submission tarball is missing: {exc.filename}")

    work.chmod(0o755)
    in_dir = _ensure_dir(work / "in")
    (in_dir / "reference").mkdir()
    # Copies, not a mount of the benchmark folder: the test split must not be reachable.
    shutil.copyfile(data / "train.npz", in_dir / "train.npz")
    shutil.copyfile(data / "reference/model.pt", in_dir / "reference/model.pt")
    (in_dir / "task.json").write_text(spec.benchmark.task.json_text())
    for path in (in_dir, in_dir / "reference"):
        path.chmod(0o755)
    for path in (in_dir / "train.npz", in_dir / "reference/model.pt", in_dir / "task.json"):
        path.chmod(0o644)
    out_dir = _ensure_dir(work / "out")
    give_to_container(out_dir)
    with np.load(data / "test.npz", allow_pickle=False) as test:
        test_x, test_y = test["x"], test["y"]
    with np.load(data / "train.npz", allow_pickle=False) as train:
        train_x = train["x"]
        warmup_x = np.ascontiguousarray(train_x[: min(WARMUP_POOL, len(train_x))])
    if len(warmup_x) == 0:
        warmup_x = np.zeros((1, *test_x.shape[1:]), dtype=test_x.dtype)  # an input no model has seen
    return Staged(work, in_dir, out_dir, in_dir / "reference", test_x, test_y, warmup_x)
