"""The containers of a job: how each is specified, and what its end means to a researcher.

Every container of a job gets the same environment (only what the runner sets), limits,
CPU set and labels; `container_failure` turns an outcome into the reason shown on the run
page, or None when the container did what it should.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from runners.result import CANCELLED, JobFailure
from runners.sandbox.docker import ContainerOutcome, ContainerSpec, Mount
from runners.spec import JobSpec

CONTAINER_USER = (10001, 10001)
# A runner reaps only its own class's orphans: other runners (and test sessions) may share
# this Docker engine.
HARDWARE_CLASS_LABEL = "org.footprint.hardware-class"
SOCKET_IN_CONTAINER = "/footprint/sock/serve.sock"


def give_to_container(path: Path) -> None:
    """Folders the container writes must belong to its (non-root) user."""
    if os.geteuid() == 0:
        os.chown(path, *CONTAINER_USER)
    else:
        path.chmod(0o777)


def container_spec(
    spec: JobSpec,
    *,
    image: str,
    command: list[str],
    mounts: list[Mount],
    phase: str,
    wall_s: float,
    max_file_bytes: int | None = None,
    stop: Callable[[], str | None] | None = None,
) -> ContainerSpec:
    hw, limits, task = spec.hardware_class, spec.limits, spec.benchmark.task
    threads = str(hw.cores)
    return ContainerSpec(
        image=image,
        command=command,
        mounts=mounts,
        env={
            "FOOTPRINT_PHASE": phase.split("_")[0],
            "FOOTPRINT_THREADS": threads,
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "FOOTPRINT_SOCKET": SOCKET_IN_CONTAINER,
            # The standard runtime serves on the class's GPUs when it has any (CUDA-synchronised).
            "FOOTPRINT_DEVICE": "cuda" if hw.gpus > 0 else "cpu",
            "HOME": "/tmp",
            # The root file system is read-only: no byte-code cache can be written anyway.
            "PYTHONDONTWRITEBYTECODE": "1",
            # One example input for footprint-serve's FLOP count (model_stats).
            "FOOTPRINT_INPUT_SHAPE": json.dumps(list(task.input_shape)),
            "FOOTPRINT_INPUT_DTYPE": task.input_dtype,
        },
        cpuset=hw.cpuset,
        memory_bytes=limits.memory_bytes,
        pids_limit=limits.pids,
        tmpfs_bytes=limits.tmpfs_bytes,
        wall_limit_s=wall_s,
        labels={
            "org.footprint.run": str(spec.run_id),
            "org.footprint.phase": phase,
            HARDWARE_CLASS_LABEL: hw.name,
        },
        log_tail_bytes=limits.log_tail_bytes,
        user=f"{CONTAINER_USER[0]}:{CONTAINER_USER[1]}",
        gpus=hw.gpus,
        gpu_ids=tuple(hw.gpu_indices),
        # No file larger than the container's /tmp can hold, unless the phase says more.
        max_file_bytes=max_file_bytes or limits.tmpfs_bytes,
        stop_requested=stop,
    )


def container_failure(phase: str, what: str, outcome: ContainerOutcome, spec: JobSpec) -> JobFailure | None:
    """Turn a container's outcome into the reason a researcher reads, or None if it went well."""
    limits = spec.limits
    if outcome.stopped:
        return JobFailure(phase, CANCELLED, outcome.stopped)
    if outcome.start_error:
        return JobFailure(
            phase,
            f"{what}_not_runnable",
            f"`{what}` could not be started: {outcome.start_error}. The image must have an executable "
            f"named `{what}` on its PATH (submission contract v1).",
        )
    if outcome.timed_out:
        limit_s = limits.compress_wall_s if what == "compress" else limits.serve_wall_s
        return JobFailure(
            phase, f"{what}_timeout", f"`{what}` ran past the wall-clock limit of {limit_s:g} s and was killed."
        )
    if outcome.oom_killed:
        return JobFailure(
            phase,
            f"{what}_out_of_memory",
            f"`{what}` exceeded the memory limit of {limits.memory_mib} MiB (memory + swap) and was killed.",
        )
    if outcome.pids_limit_hit and outcome.exit_code not in (0, None):
        return JobFailure(
            phase,
            f"{what}_pids_limit",
            f"`{what}` hit the limit of {limits.pids} processes/threads and exited with code "
            f"{outcome.exit_code}. Use fewer threads or processes.",
        )
    if outcome.exit_code not in (0, None):
        return JobFailure(
            phase, f"{what}_nonzero_exit", f"`{what}` exited with code {outcome.exit_code}; its log tail is below."
        )
    return None
