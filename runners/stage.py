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

from runners.containers import CONTAINER_USER, give_to_container
from runners.files import OUTPUT_MAX_ENTRIES, OutputVolume
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
    outputs: OutputVolume  # /footprint/out, capped while compress writes (runners.files)
    runtime_image_id: str  # the standard runtime, pinned by id for the whole job


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
    work.chmod(0o755)
    for name in ("train.npz", "test.npz", "reference/model.pt"):
        if not (data / name).is_file():
            raise JobFailure("staging", "benchmark_data_missing", f"the benchmark's {name} is missing at {data}")
    # Every container of the job that runs Footprint's runtime runs this very image: the id
    # the spec names (or its name resolves to now, once), never a tag looked up again.
    runtime_image_id = sandbox.image_id(spec.runtime_image)
    if runtime_image_id is None:
        raise JobFailure(
            "staging",
            "runtime_image_missing",
            f"the standard runtime image {spec.runtime_image} is not on this runner; this is a fault of the "
            "runner's set-up, not of the submission (build it with `make images` on the runner host)",
        )
    if spec.runtime_image.startswith("sha256:") and runtime_image_id != spec.runtime_image:
        raise JobFailure("staging", "runtime_image_missing", f"the runtime image {spec.runtime_image} is not here")
    try:
        if spec.submission.image_reference:
            sandbox.pull_image(spec.submission.image_reference, spec.submission.image_id)
        else:
            assert spec.submission.image_location is not None  # the schema wants one or the other
            sandbox.ensure_image(
                spec.submission.image_id,
                local_path(spec.submission.image_location),
                scratch_dir=work,
                max_expanded_bytes=spec.limits.image_max_expanded_bytes,
            )
    except SandboxError as exc:
        if exc.code == "docker_unavailable":
            raise
        raise JobFailure("staging", exc.code, f"the submission image could not be loaded: {exc.reason}")
    except FileNotFoundError as exc:
        raise JobFailure("staging", "image_missing", f"the submission tarball is missing: {exc.filename}")

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
    with np.load(data / "test.npz", allow_pickle=False) as test:
        test_x, test_y = test["x"], test["y"]
    with np.load(data / "train.npz", allow_pickle=False) as train:
        train_x = train["x"]
        warmup_x = np.ascontiguousarray(train_x[: min(WARMUP_POOL, len(train_x))])
    if len(warmup_x) == 0:
        warmup_x = np.zeros((1, *test_x.shape[1:]), dtype=test_x.dtype)  # an input no model has seen
    # Mounted last: a staging failure before it leaves nothing mounted (and the job's work
    # folder is unmounted and removed whatever happens: runners.files).
    outputs = OutputVolume(
        work / "out",
        max_bytes=spec.limits.output_max_bytes,
        max_entries=OUTPUT_MAX_ENTRIES,
        uid=CONTAINER_USER[0],
        gid=CONTAINER_USER[1],
    ).mount()
    if not outputs.mounted:
        give_to_container(outputs.path)
    return Staged(work, in_dir, outputs.path, in_dir / "reference", test_x, test_y, warmup_x, outputs, runtime_image_id)
