"""Job specs for running whole jobs in the Docker sandbox (on tests.fixtures.benchmark's data)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.benchmark import FAST_MEASUREMENT


@pytest.fixture
def job_spec(benchmark_dir: Path, runtime_image: str, docker_client, tmp_path: Path) -> Callable[..., dict]:
    """job_spec(image_tag, division="standard", limits={...}, image_id=None, tarball=None) -> spec."""

    def make(
        image: str,
        *,
        division: str = "standard",
        limits: dict | None = None,
        image_id: str | None = None,
        tarball: Path | None = None,
        run_id: int = 7,
    ) -> dict:
        if image_id is None:
            image_id = docker_client.images.get(image).id
        if tarball is None:
            tarball = tmp_path / "unused.tar"  # the image is present: the runner loads nothing
            tarball.write_bytes(b"")
        return {
            "schema": "footprint.job/1",
            "run_id": run_id,
            "attempt": 1,
            "submission": {
                "id": 3,
                "division": division,
                "image_id": image_id,
                "image_location": tarball.as_uri(),
                "tarball_sha256": hashlib.sha256(tarball.read_bytes()).hexdigest(),
            },
            "benchmark": {
                "slug": "digits-test",
                "data_location": benchmark_dir.as_uri() + "/",
                "task": {
                    "contract": "footprint.contract/1",
                    "benchmark": "digits-test",
                    "metric": "accuracy",
                    "input": {"shape": [1, 8, 8], "dtype": "float32"},
                    "num_classes": 10,
                    "threads": 1,
                    "seed": 0,
                },
            },
            "hardware_class": {"name": "cpu-test", "cpuset": "0", "cores": 1, "gpus": 0},
            "limits": {
                "compress_wall_s": 60,
                "serve_wall_s": 120,
                "serve_ready_s": 30,
                "memory_bytes": 1 << 30,
                "pids": 128,
                "tmpfs_bytes": 64 << 20,
                "output_max_bytes": 64 << 20,
                "log_tail_bytes": 4096,
                **(limits or {}),
            },
            "measurement": dict(FAST_MEASUREMENT),
            "runtime_image": runtime_image,
        }

    return make


@pytest.fixture
def run(docker_sandbox, tmp_path: Path) -> Callable[[dict], tuple[dict, list[tuple[str, str]]]]:
    """run(spec) -> (result document, progress reports)."""
    from runners.job import run_job
    from runners.schema import validate_result

    def execute(spec: dict) -> tuple[dict, list[tuple[str, str]]]:
        reports: list[tuple[str, str]] = []
        document = run_job(
            spec, sandbox=docker_sandbox, report=lambda s, r: reports.append((s, r)), work_root=tmp_path / "work"
        )
        validate_result(document)
        work = tmp_path / "work"
        assert not (work.exists() and any(work.iterdir())), "the job left its work folder behind"
        return document, reports

    return execute
