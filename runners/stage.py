"""Staging: the submission's image on this runner, and the folders its containers see.

`compress` gets `/footprint/in` (task.json, the reference model, the training split: copies,
so that the test split is never reachable) and an empty `/footprint/out`. The test split
stays in the runner process: inputs go to servers one query at a time, labels never leave.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
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


BENCHMARK_FILES = ("train.npz", "test.npz", "reference/model.pt")

# fetch(url, sha256) -> a local file with exactly that content (runners.platform_client,
# bound to the job's token and the runner's cache); raises JobFailure when it cannot.
Fetch = Callable[[str, str], Path]


def local_path(location: str) -> Path:
    """The path behind a `file://` location (a runner on the platform's own host, `make run`)."""
    url = urlparse(location)
    if url.scheme != "file":
        raise JobFailure("staging", "unsupported_location", f"{url.scheme}:// locations are fetched, not read")
    return Path(unquote(url.path))


def _is_remote(location: str) -> bool:
    return urlparse(location).scheme in ("http", "https")


def _no_fetch(url: str, sha256: str) -> Path:
    raise JobFailure(
        "staging",
        "unsupported_location",
        f"the job's files are at {url}, but this runner was given no platform to fetch them from "
        "(set FOOTPRINT_PLATFORM_URL and FOOTPRINT_RUNNER_CREDENTIAL)",
    )


def job_inputs(spec: JobSpec, work: Path, fetch: Fetch | None) -> tuple[Path, Path | None]:
    """(the benchmark's data folder, the submission's tarball) on this runner's disk; no
    tarball for a submission named by registry reference (the runner pulls it).

    `file://` locations are read where they are. `http(s)://` ones are fetched with the job's
    token, checked against the sha256 the spec names, and linked into the job's folder.
    """
    fetch = fetch or _no_fetch
    if _is_remote(spec.benchmark.data_location):
        missing = [name for name in BENCHMARK_FILES if name not in spec.benchmark.files]
        if missing:
            raise JobFailure(
                "staging",
                "benchmark_data_missing",
                f"the platform named no sha256 for the benchmark's {', '.join(missing)}: it cannot be fetched safely",
            )
        data = work / "data"
        (data / "reference").mkdir(parents=True, exist_ok=True)
        base = spec.benchmark.data_location.rstrip("/") + "/"
        for name in BENCHMARK_FILES:
            _link(fetch(base + name, spec.benchmark.files[name]), data / name)
    else:
        data = local_path(spec.benchmark.data_location)
    location = spec.submission.image_location
    if location is None:
        tarball = None
    elif _is_remote(location):
        tarball = fetch(location, spec.submission.tarball_sha256)
    else:
        tarball = local_path(location)
    return data, tarball


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # the cache is on the same file system: no copy
    except OSError:
        shutil.copyfile(source, target)


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def stage(spec: JobSpec, sandbox: DockerSandbox, work: Path, fetch: Fetch | None = None) -> Staged:
    work.chmod(0o755)
    try:
        spec.hardware_class.gpu_indices  # noqa: B018 - the runner's GPUs must fit the class
    except ValueError as exc:
        raise JobFailure(
            "staging", "runner_gpus_mismatch", f"{exc}; this is a fault of the runner's set-up, not of the submission"
        ) from None
    data, tarball = job_inputs(spec, work, fetch)
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
            assert tarball is not None  # the schema wants a reference or a tarball's location
            sandbox.ensure_image(
                spec.submission.image_id,
                tarball,
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
