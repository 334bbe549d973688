"""How stable is a measured speed-up? The identity method, whose true speed-up is 1.

    .venv/bin/python perf/speedup.py [--json] [--jobs 5] [--data DIR] [--cpuset 1]

Submits the identity method (the reference model as it is, perf/identity_jobs.py) as
`--jobs` whole jobs, then as many again with the runner's other CPUs kept busy by a spinning
process (what a neighbour on a shared host does). Prints each job's speed-up and its
interval, and the largest |speed-up - 1| of each set: `identity_speedup_max_dev` and
`identity_speedup_max_dev_loaded`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time

from identity_jobs import add_arguments, default_data_dir, figures, identity_jobs, print_result

from runners.placement import parse_cpuset


def _spin(cpus: set[int]) -> None:
    os.sched_setaffinity(0, cpus)
    x = 0
    while True:
        x += 1


def run_set(runner, count: int) -> tuple[list[float], list[list[float]], list[float]]:
    speedups, intervals, walls = [], [], []
    for _ in range(count):
        started = time.monotonic()
        got = figures(runner.run())
        walls.append(round(time.monotonic() - started, 2))
        speedups.append(round(got[("submission", "speedup")], 4))
        intervals.append(
            [round(got[("submission", "speedup_ci_low")], 4), round(got[("submission", "speedup_ci_high")], 4)]
        )
    return speedups, intervals, walls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5)
    add_arguments(parser)
    args = parser.parse_args()
    data = args.data or default_data_dir()
    others = os.sched_getaffinity(0) - parse_cpuset(args.cpuset)
    with identity_jobs(runtime_image=args.runtime_image, data=data, cpuset=args.cpuset) as runner:
        idle, idle_ci, idle_walls = run_set(runner, args.jobs)
        busy = multiprocessing.Process(target=_spin, args=(others or os.sched_getaffinity(0),), daemon=True)
        busy.start()
        try:
            loaded, loaded_ci, loaded_walls = run_set(runner, args.jobs)
        finally:
            busy.terminate()
            busy.join()
    result = {
        "identity_speedup_per_job": idle,
        "identity_speedup_max_dev": round(max(abs(s - 1) for s in idle), 4),
        "identity_speedup_interval_per_job": idle_ci,
        "identity_speedup_loaded_per_job": loaded,
        "identity_speedup_max_dev_loaded": round(max(abs(s - 1) for s in loaded), 4),
        "identity_speedup_loaded_interval_per_job": loaded_ci,
        "intervals_covering_1": sum(1 for low, high in idle_ci + loaded_ci if low <= 1 <= high),
        "job_wall_s": idle_walls + loaded_walls,
        "busy_cpus": sorted(others),
        "cpuset": args.cpuset,
    }
    print_result(result, as_json=args.json, width=42)
    return 0


if __name__ == "__main__":
    sys.exit(main())
