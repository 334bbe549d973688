"""How faithful is Footprint's latency? The harness against the model timed in process.

    .venv/bin/python perf/harness.py [--json] [--repeats 5] [--data DIR] [--cpuset 1]

Runs whole jobs (the reference model submitted as an identity method) through the real
path: Docker sandbox, Unix socket, harness. Prints the null server's p50 (the harness's
own overhead), the reference's p50 through Footprint, the same model timed in process
with torch.utils.benchmark on the same CPU with the same thread count, their ratio, and
the coefficient of variation of the reference p50 over the repeated jobs.

DIR is a benchmark folder (train.npz, test.npz, reference/model.pt); the default is the
newest version of the demo benchmark that `manage.py seed_digits` wrote under var/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import docker  # noqa: E402
import numpy as np  # noqa: E402

from runners.harness import parse_cpuset, pin_current_process  # noqa: E402
from runners.images import build_image  # noqa: E402
from runners.job import run_job  # noqa: E402
from runners.sandbox.docker import DockerSandbox  # noqa: E402

IDENTITY = """#!/usr/bin/env python3
import shutil, footprint_sdk
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("identity (perf)")
"""
PERF_LABELS = {"org.footprint.perf": "1"}


def default_data_dir() -> Path:
    root = REPO / "var" / "storage" / "benchmarks" / "digits"
    versions = sorted((p for p in root.glob("*") if (p / "reference" / "model.pt").is_file()), key=lambda p: p.name)
    if not versions:
        sys.exit(f"no demo benchmark under {root}: run `.venv/bin/python manage.py seed_digits` first, or pass --data")
    return versions[-1]


def inprocess_p50_us(model_path: Path, x: np.ndarray, cpus: set[int], threads: int) -> float:
    import torch
    import torch.utils.benchmark as benchmark

    previous = pin_current_process(cpus)
    try:
        torch.set_num_threads(threads)
        model = torch.jit.load(str(model_path), map_location="cpu").eval()
        sample = torch.from_numpy(x[:1])
        with torch.inference_mode():
            for _ in range(200):
                model(sample)
            timer = benchmark.Timer(
                stmt="model(sample)", globals={"model": model, "sample": sample}, num_threads=threads
            )
            measurement = timer.blocked_autorange(min_run_time=3.0)
        return measurement.median * 1e6
    finally:
        pin_current_process(previous)


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
            "warmup_queries": 10,
            "warmup_s": 2.0,
            "min_queries": 1024,
            "min_duration_s": 0.0,
            "accuracy_batch_size": 64,
            "seed": 0,
        },
        "runtime_image": runtime,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--runtime-image", default=os.environ.get("FOOTPRINT_RUNTIME_IMAGE", "footprint/runtime:1"))
    parser.add_argument("--cpuset", default=str(max(os.sched_getaffinity(0))))
    args = parser.parse_args()
    data = args.data or default_data_dir()
    cpus = parse_cpuset(args.cpuset)
    client = docker.from_env()
    sandbox = DockerSandbox(client)
    client.images.get(args.runtime_image)  # fails loudly: build it with `make images`

    context = Path(tempfile.mkdtemp(prefix="footprint-perf-"))
    tag = "footprint-perf/identity:latest"
    try:
        (context / "compress").write_text(IDENTITY)
        (context / "compress").chmod(0o755)
        (context / "Dockerfile").write_text(
            "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY compress /usr/local/bin/compress\n"
        )
        image_id = build_image(
            context, tag=tag, buildargs={"BASE_IMAGE": args.runtime_image}, labels=PERF_LABELS, client=client
        )
        with np.load(data / "test.npz") as test:
            x = test["x"]
        jobs = []
        for i in range(args.repeats):
            document = run_job(
                job_spec(image_id, data, args.runtime_image, args.cpuset, i + 1),
                sandbox=sandbox,
                report=lambda *_: None,
                work_root=context / "work",
            )
            if document["status"] != "succeeded":
                sys.exit(f"job {i + 1} failed: {document['failure']}")
            figures = {(f["subject"], f["name"]): f["value"] for f in document["figures"]}
            jobs.append(figures)
        inprocess = inprocess_p50_us(data / "reference" / "model.pt", x, cpus, threads=1)
    finally:
        shutil.rmtree(context, ignore_errors=True)
        try:
            client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass

    reference = [j[("reference", "latency_p50")] for j in jobs]
    null = [j[("null", "latency_p50")] for j in jobs]
    result = {
        "null_p50_us": round(statistics.median(null), 2),
        "reference_inprocess_p50_us": round(inprocess, 2),
        "reference_footprint_p50_us": round(statistics.median(reference), 2),
        "fidelity_ratio": round(statistics.median(reference) / inprocess, 4),
        "cv_p50": round(statistics.pstdev(reference) / statistics.mean(reference), 4) if len(reference) > 1 else None,
        "repeats": args.repeats,
        "reference_p50_us_per_job": [round(v, 2) for v in reference],
        "null_p50_us_per_job": [round(v, 2) for v in null],
        "reference_p90_us": round(statistics.median(j[("reference", "latency_p90")] for j in jobs), 2),
        "cpuset": args.cpuset,
        "data": str(data),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
