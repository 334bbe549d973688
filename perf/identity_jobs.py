"""Whole jobs of the identity method (the reference model submitted as it is), for perf/.

The real path: Docker sandbox, Unix socket, harness, interleaved rounds. Shared by
perf/harness.py (how faithful the harness is) and perf/speedup.py (how stable the speed-up is).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import docker  # noqa: E402

from runners.images import build_image  # noqa: E402
from runners.job import run_job  # noqa: E402
from runners.sandbox.docker import DockerSandbox  # noqa: E402

IDENTITY = """#!/usr/bin/env python3
import shutil, footprint_sdk
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("identity (perf)")
"""
PERF_LABELS = {"org.footprint.perf": "1"}
# The job spec's single-stream settings (the platform's defaults).
WARMUP_QUERIES, WARMUP_S, MIN_QUERIES, REPEATS = 10, 2.0, 1024, 3


def default_data_dir() -> Path:
    root = REPO / "var" / "storage" / "benchmarks" / "digits"
    versions = sorted((p for p in root.glob("*") if (p / "reference" / "model.pt").is_file()), key=lambda p: p.name)
    if not versions:
        sys.exit(f"no demo benchmark under {root}: run `.venv/bin/python manage.py seed_digits` first, or pass --data")
    return versions[-1]


def default_cpuset() -> str:
    return str(max(os.sched_getaffinity(0)))


def job_spec(image_id: str, data: Path, runtime: str, cpuset: str, run_id: int) -> dict:
    task = {
        "contract": "footprint.contract/1",
        "benchmark": "perf",
        "metric": "accuracy",
        "input": {"shape": [1, 8, 8], "dtype": "float32"},
        "num_classes": 10,
        "threads": 1,
        "seed": 0,
    }
    return {
        "schema": "footprint.job/1",
        "run_id": run_id,
        "attempt": 1,
        "submission": {
            "id": 1,
            "division": "standard",
            "image_id": image_id,
            "image_location": (data / "reference" / "model.pt").as_uri(),
            "tarball_sha256": hashlib.sha256(b"").hexdigest(),
        },
        "benchmark": {"slug": "perf", "data_location": data.as_uri() + "/", "task": task},
        "hardware_class": {"name": "perf", "cpuset": cpuset, "cores": 1, "gpus": 0},
        "limits": {
            "compress_wall_s": 300,
            "serve_wall_s": 600,
            "serve_ready_s": 60,
            "memory_bytes": 2 << 30,
            "pids": 256,
            "tmpfs_bytes": 256 << 20,
            "output_max_bytes": 256 << 20,
            "log_tail_bytes": 4096,
        },
        "measurement": {
            "warmup_queries": WARMUP_QUERIES,
            "warmup_s": WARMUP_S,
            "min_queries": MIN_QUERIES,
            "min_duration_s": 0.0,
            "accuracy_batch_size": 64,
            "seed": 0,
            "repeats": REPEATS,
        },
        "runtime_image": runtime,
    }


class IdentityJobs:
    """Build the identity image once; run() one job and return its document's figures."""

    def __init__(self, *, runtime_image: str, data: Path, cpuset: str) -> None:
        self.client = docker.from_env()
        self.client.images.get(runtime_image)  # fails loudly: build it with `make images`
        self.sandbox = DockerSandbox(self.client)
        self.runtime_image, self.data, self.cpuset = runtime_image, data, cpuset
        self.context = Path(tempfile.mkdtemp(prefix="footprint-perf-"))
        self.tag = f"footprint-perf/identity:{os.getpid()}"
        (self.context / "compress").write_text(IDENTITY)
        (self.context / "compress").chmod(0o755)
        (self.context / "Dockerfile").write_text(
            "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY compress /usr/local/bin/compress\n"
        )
        self.image_id = build_image(
            self.context, tag=self.tag, buildargs={"BASE_IMAGE": runtime_image}, labels=PERF_LABELS, client=self.client
        )
        self.runs = 0

    def spec(self) -> dict:
        """The next job's spec document."""
        self.runs += 1
        return job_spec(self.image_id, self.data, self.runtime_image, self.cpuset, self.runs)

    def run(self) -> dict:
        document = run_job(
            self.spec(),
            sandbox=self.sandbox,
            report=lambda *_: None,
            work_root=self.context / "work",
        )
        if document["status"] != "succeeded":
            sys.exit(f"job {self.runs} failed: {document['failure']}")
        return document

    def close(self) -> None:
        shutil.rmtree(self.context, ignore_errors=True)
        with contextlib.suppress(docker.errors.ImageNotFound):
            self.client.images.remove(self.tag, force=True)


@contextlib.contextmanager
def identity_jobs(**kwargs) -> Iterator[IdentityJobs]:
    jobs = IdentityJobs(**kwargs)
    try:
        yield jobs
    finally:
        jobs.close()


def figures(document: dict) -> dict[tuple[str, str], float]:
    return {(f["subject"], f["name"]): f["value"] for f in document["figures"]}


def add_arguments(parser) -> None:
    """The options every perf/ benchmark of identity jobs takes."""
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--runtime-image", default=os.environ.get("FOOTPRINT_RUNTIME_IMAGE", "footprint/runtime:1"))
    parser.add_argument("--cpuset", default=default_cpuset())


def print_result(result: dict, *, as_json: bool, width: int = 28) -> None:
    if as_json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:{width}} {value}")
