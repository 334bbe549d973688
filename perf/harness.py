"""How faithful is Footprint's latency? The harness against the model timed in process.

    .venv/bin/python perf/harness.py [--json] [--repeats 5] [--data DIR] [--cpuset 1]

Runs whole jobs (the reference model submitted as an identity method) through the real
path: Docker sandbox, Unix socket, harness, interleaved rounds (perf/identity_jobs.py).
Prints the null server's p50 (the harness's own overhead), the reference's p50 through
Footprint, the same model timed in process just before and just after each job on the same
CPU with the same thread count on the same kind of queries (see inprocess_p50_us), their
ratio (`fidelity_ratio`: the median over jobs of each job's p50 over its bracket, the
geometric mean of its before and after), how far the machine moved during each job
(`inprocess_drift_per_job`: after over before), and the coefficient of variation of the
reference p50 over the repeated jobs.

DIR is a benchmark folder (train.npz, test.npz, reference/model.pt); the default is the
newest version of the demo benchmark that `manage.py seed_digits` wrote under var/.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from identity_jobs import (
    MIN_QUERIES,
    WARMUP_QUERIES,
    WARMUP_S,
    add_arguments,
    default_data_dir,
    figures,
    identity_jobs,
    print_result,
)

from runners.placement import parse_cpuset, pin_current_process
from runners.stats import latency_percentile_us

# The paired comparison (paired_fidelity): blocks of this many distinct test inputs, each
# timed once through Footprint and once in process, in a random order within the pair.
PAIRED_BLOCKS, PAIRED_BLOCK_QUERIES = 40, 64


def _warm_up(model, warm: np.ndarray) -> None:
    """Call `model` on batch-1 views of `warm` for WARMUP_QUERIES calls and WARMUP_S at least."""
    import torch

    clock, start, done = time.perf_counter_ns, time.perf_counter_ns(), 0
    while done < WARMUP_QUERIES or clock() - start < WARMUP_S * 1e9:
        model(torch.from_numpy(warm[done % len(warm) : done % len(warm) + 1]))
        done += 1


def _timed_calls_us(model, samples: list[np.ndarray]) -> np.ndarray:
    """Each sample's call timed (us), torch.from_numpy included, as the runtime's server does it."""
    import torch

    clock = time.perf_counter_ns
    ns = np.empty(len(samples), dtype=np.int64)
    for k, sample in enumerate(samples):
        t0 = clock()
        model(torch.from_numpy(sample))
        ns[k] = clock() - t0
    return ns / 1000.0


def inprocess_p50_us(model_path: Path, data: Path, cpus: set[int], threads: int, *, seed: int) -> dict[str, float]:
    """The model's own speed in this process, on the container's CPUs with its thread count.

    `queries`: the figure comparable with Footprint's: warm-up on training inputs, then test
    inputs each once in a random order (as a round sends them; cycled when the split is
    smaller than the query count), torch.from_numpy of each batch-1 view as the runtime does,
    each call timed, p50 by the same rule.
    `fixed_input`: torch.utils.benchmark timing one input again and again (the median of
    its blocks' means), kept for comparison: one input repeated is faster than varied ones
    (caches and branch predictors learn it), so it understates the model's latency.
    """
    import torch
    import torch.utils.benchmark as benchmark

    with np.load(data / "test.npz") as test:
        x = test["x"]
    with np.load(data / "train.npz") as train:
        warm = train["x"][:256]
    previous = pin_current_process(cpus)
    try:
        torch.set_num_threads(threads)
        model = torch.jit.load(str(model_path), map_location="cpu").eval()
        rng = np.random.default_rng(seed)
        order = np.concatenate([rng.permutation(len(x)) for _ in range(1 + MIN_QUERIES // len(x))])[:MIN_QUERIES]
        with torch.inference_mode():
            _warm_up(model, warm)
            sorted_us = np.sort(_timed_calls_us(model, [x[i : i + 1] for i in order]))
            fixed = torch.from_numpy(x[:1])
            timer = benchmark.Timer(
                stmt="model(sample)", globals={"model": model, "sample": fixed}, num_threads=threads
            )
            measurement = timer.blocked_autorange(min_run_time=1.0)
        return {"queries": latency_percentile_us(sorted_us, 50), "fixed_input": measurement.median * 1e6}
    finally:
        pin_current_process(previous)


def paired_fidelity(
    runner, *, cpus: set[int], blocks: int = PAIRED_BLOCKS, block_queries: int = PAIRED_BLOCK_QUERIES, seed: int = 0
) -> dict[str, float | int]:
    """The reference served through Footprint against the same model in this process, in
    alternating blocks of the same test inputs, so that the machine's drift hits both alike
    (as the speed-up's blocks do): the median over block pairs of p50(served) / p50(in process).

    Served: the job's own path for one server (its sandbox, socket folder, ServeClient and
    placement: this process on a CPU outside the container's, which is frozen between its
    blocks); in process: this process on the container's CPUs, one thread, each call timed.
    """
    import tempfile

    import torch

    from runners import harness, placement
    from runners.files import remove_tree, unmount_below
    from runners.result import ResultDocument
    from runners.servers import REFERENCE, Server, Session
    from runners.spec import parse_job
    from runners.stage import stage
    from runners.stats import paired_ratio

    spec = parse_job(runner.spec())
    work = Path(tempfile.mkdtemp(prefix="fidelity-", dir=runner.context))
    harness_cpus, _ = placement.harness_cpus(cpus, os.sched_getaffinity(0))
    previous = pin_current_process(harness_cpus)
    try:
        staged = stage(spec, runner.sandbox, work)
        server = Server(REFERENCE, staged.runtime_image_id, ("footprint-serve",), staged.reference_dir)
        rng = np.random.default_rng(seed)
        x, warm = staged.test_x, [staged.warmup_x[i : i + 1] for i in range(len(staged.warmup_x))]
        torch.set_num_threads(1)
        model = torch.jit.load(str(staged.reference_dir / "model.pt"), map_location="cpu").eval()
        num_classes = spec.benchmark.task.num_classes
        served, own = [], []
        with Session.start(spec, runner.sandbox, staged, server, tag="fidelity") as session:
            client = session.connect(harness.RequestIds(rng))
            started = time.monotonic()
            while time.monotonic() - started < WARMUP_S:
                harness.untimed(client, warm[:64], num_classes=num_classes)
            with torch.inference_mode():
                pin_current_process(cpus)
                _warm_up(model, staged.warmup_x)
                for _ in range(blocks):
                    block = [x[i : i + 1] for i in rng.choice(len(x), size=block_queries, replace=False)]
                    for side in rng.permutation(2):
                        if side == 0:
                            pin_current_process(harness_cpus)
                            session.thaw()
                            harness.untimed(client, warm[:8], num_classes=num_classes)
                            served.append(harness.time_queries(client, block, num_classes=num_classes).ns / 1000.0)
                            session.freeze()
                        else:
                            pin_current_process(cpus)
                            own.append(_timed_calls_us(model, block))
            pin_current_process(harness_cpus)
            session.thaw()
            session.finish(ResultDocument(run_id=1, attempt=1))
        ratio = paired_ratio(np.asarray(served), np.asarray(own))
    finally:
        pin_current_process(previous)
        unmount_below(work)
        remove_tree(work)
    return {
        "fidelity_ratio_paired": round(ratio, 4),
        "paired_blocks": blocks,
        "paired_block_queries": block_queries,
        "reference_footprint_p50_us_paired": round(float(np.median(np.concatenate(served))), 2),
        "reference_inprocess_p50_us_paired": round(float(np.median(np.concatenate(own))), 2),
    }


def bracket_us(before_us: float, after_us: float) -> float:
    """The model's in-process figure for a job measured between two in-process timings: their
    geometric mean (a drift of the machine's speed during the job, if steady, cancels)."""
    return math.sqrt(before_us * after_us)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--paired-blocks", type=int, default=PAIRED_BLOCKS)
    add_arguments(parser)
    args = parser.parse_args()
    data = args.data or default_data_dir()
    cpus = parse_cpuset(args.cpuset)
    model = data / "reference" / "model.pt"
    jobs, before, after, placement, walls = [], [], [], None, []
    with identity_jobs(runtime_image=args.runtime_image, data=data, cpuset=args.cpuset) as runner:
        for i in range(args.repeats):
            # Just before and just after each job, not once for all: the machine's speed
            # drifts (on a shared VM by tens of percent over seconds), so each job is
            # compared with the model timed on either side of it (see bracket_us).
            before.append(inprocess_p50_us(model, data, cpus, threads=1, seed=2 * i))
            started = time.monotonic()
            document = runner.run()
            walls.append(time.monotonic() - started)
            jobs.append(figures(document))
            placement = document["provenance"].get("placement")
            after.append(inprocess_p50_us(model, data, cpus, threads=1, seed=2 * i + 1))
        paired = paired_fidelity(runner, cpus=cpus, blocks=args.paired_blocks)

    reference = [j[("reference", "latency_p50")] for j in jobs]
    null = [j[("null", "latency_p50")] for j in jobs]
    own = [bracket_us(b["queries"], a["queries"]) for b, a in zip(before, after, strict=True)]
    fixed = [bracket_us(b["fixed_input"], a["fixed_input"]) for b, a in zip(before, after, strict=True)]
    ratios = [r / o for r, o in zip(reference, own, strict=True)]
    result = {
        "null_p50_us": round(statistics.median(null), 2),
        "reference_inprocess_p50_us": round(statistics.median(own), 2),
        "reference_footprint_p50_us": round(statistics.median(reference), 2),
        # Each job against its own bracket, then the median over jobs (as the speed-up is a
        # median over paired blocks): a slow period then slows both sides of one ratio.
        "fidelity_ratio": round(statistics.median(ratios), 4),
        "fidelity_ratio_per_job": [round(v, 4) for v in ratios],
        **paired,
        # How far the machine moved during each job: in-process after over before.
        "inprocess_drift_per_job": [round(a["queries"] / b["queries"], 4) for b, a in zip(before, after, strict=True)],
        "cv_p50": round(statistics.pstdev(reference) / statistics.mean(reference), 4) if len(reference) > 1 else None,
        "repeats": args.repeats,
        "job_wall_s_median": round(statistics.median(walls), 2),
        "reference_p50_us_per_job": [round(v, 2) for v in reference],
        "reference_inprocess_p50_us_per_job": [round(v, 2) for v in own],
        "null_p50_us_per_job": [round(v, 2) for v in null],
        "reference_inprocess_fixed_input_p50_us": round(statistics.median(fixed), 2),
        "fidelity_ratio_fixed_input": round(statistics.median(r / f for r, f in zip(reference, fixed, strict=True)), 4),
        "reference_p90_us": round(statistics.median(j[("reference", "latency_p90")] for j in jobs), 2),
        "cpuset": args.cpuset,
        "placement": placement,
        "data": str(data),
    }
    print_result(result, as_json=args.json, width=28)
    return 0


if __name__ == "__main__":
    sys.exit(main())
