"""How faithful is Footprint's latency? The harness against the model timed in process.

    .venv/bin/python perf/harness.py [--json] [--repeats 5] [--data DIR] [--cpuset 1]

Runs whole jobs (the reference model submitted as an identity method) through the real
path: Docker sandbox, Unix socket, harness. Prints the null server's p50 (the harness's
own overhead), the reference's p50 through Footprint, the same model timed in process
after each job on the same CPU with the same thread count and the same queries (see
inprocess_p50_us), their ratio, and the coefficient of variation of the reference p50
over the repeated jobs.

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
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import docker  # noqa: E402
import numpy as np  # noqa: E402

from runners.harness import latency_percentile_us, parse_cpuset, pin_current_process  # noqa: E402
from runners.images import build_image  # noqa: E402
from runners.job import run_job  # noqa: E402
from runners.sandbox.docker import DockerSandbox  # noqa: E402

IDENTITY = """#!/usr/bin/env python3
import shutil, footprint_sdk
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("identity (perf)")
"""
PERF_LABELS = {"org.footprint.perf": "1"}
# The job spec's single-stream settings, which the in-process timing copies.
WARMUP_QUERIES, WARMUP_S, MIN_QUERIES, SEED = 10, 2.0, 1024, 0


def default_data_dir() -> Path:
    root = REPO / "var" / "storage" / "benchmarks" / "digits"
    versions = sorted((p for p in root.glob("*") if (p / "reference" / "model.pt").is_file()), key=lambda p: p.name)
    if not versions:
        sys.exit(f"no demo benchmark under {root}: run `.venv/bin/python manage.py seed_digits` first, or pass --data")
    return versions[-1]


def inprocess_p50_us(model_path: Path, x: np.ndarray, cpus: set[int], threads: int, *, seed: int) -> dict[str, float]:
    """The model's own speed in this process, on the container's CPUs with its thread count.

    `queries`: the figure comparable with Footprint's: the same inputs in the same seeded
    order as the harness sends them (torch.from_numpy of each batch-1 view, as the runtime
    does), the same warm-up and query count, each call timed, p50 by the same rule.
    `fixed_input`: torch.utils.benchmark timing one input again and again (the median of
    its blocks' means), kept for comparison: one input repeated is faster than varied ones
    (caches and branch predictors learn it), so it understates the model's latency.
    """
    import torch
    import torch.utils.benchmark as benchmark

    previous = pin_current_process(cpus)
    try:
        torch.set_num_threads(threads)
        model = torch.jit.load(str(model_path), map_location="cpu").eval()
        order = np.random.default_rng(seed).permutation(len(x))
        samples = [x[i : i + 1] for i in order]
        clock = time.perf_counter_ns
        with torch.inference_mode():
            start = clock()
            done = 0
            while done < WARMUP_QUERIES or clock() - start < WARMUP_S * 1e9:
                model(torch.from_numpy(samples[done % len(samples)]))
                done += 1
            timed = []
            for k in range(MIN_QUERIES):
                sample = samples[(done + k) % len(samples)]
                t0 = clock()
                model(torch.from_numpy(sample))
                timed.append(clock() - t0)
            sorted_us = np.sort(np.asarray(timed, dtype=np.float64) / 1000.0)
            fixed = torch.from_numpy(x[:1])
            timer = benchmark.Timer(
                stmt="model(sample)", globals={"model": model, "sample": fixed}, num_threads=threads
            )
            measurement = timer.blocked_autorange(min_run_time=1.0)
        return {"queries": latency_percentile_us(sorted_us, 50), "fixed_input": measurement.median * 1e6}
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
            "warmup_queries": WARMUP_QUERIES,
            "warmup_s": WARMUP_S,
            "min_queries": MIN_QUERIES,
            "min_duration_s": 0.0,
            "accuracy_batch_size": 64,
            "seed": SEED,
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
        inprocess = []
        placement = None
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
            placement = document["provenance"].get("placement")
            # After each job, not once at the end: the machine's speed drifts (on a shared
            # VM by tens of percent over seconds), and both figures should see the same.
            inprocess.append(inprocess_p50_us(data / "reference" / "model.pt", x, cpus, threads=1, seed=SEED))
    finally:
        shutil.rmtree(context, ignore_errors=True)
        try:
            client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass

    reference = [j[("reference", "latency_p50")] for j in jobs]
    null = [j[("null", "latency_p50")] for j in jobs]
    own = [r["queries"] for r in inprocess]
    fixed = [r["fixed_input"] for r in inprocess]
    result = {
        "null_p50_us": round(statistics.median(null), 2),
        "reference_inprocess_p50_us": round(statistics.median(own), 2),
        "reference_footprint_p50_us": round(statistics.median(reference), 2),
        "fidelity_ratio": round(statistics.median(reference) / statistics.median(own), 4),
        "cv_p50": round(statistics.pstdev(reference) / statistics.mean(reference), 4) if len(reference) > 1 else None,
        "repeats": args.repeats,
        "reference_p50_us_per_job": [round(v, 2) for v in reference],
        "reference_inprocess_p50_us_per_job": [round(v, 2) for v in own],
        "null_p50_us_per_job": [round(v, 2) for v in null],
        "reference_inprocess_fixed_input_p50_us": round(statistics.median(fixed), 2),
        "fidelity_ratio_fixed_input": round(statistics.median(reference) / statistics.median(fixed), 4),
        "reference_p90_us": round(statistics.median(j[("reference", "latency_p90")] for j in jobs), 2),
        "cpuset": args.cpuset,
        "placement": placement,
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
