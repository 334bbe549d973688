"""The job spec `footprint.job/1`, parsed once into frozen objects that the phases read.

JSON Schema (runners/schemas/job-v1.json) checks the bytes; `parse_job` turns a valid spec
into a `JobSpec`, with every optional setting's default written here once. No phase reads
the spec dictionary: a setting has one name, one type and one default.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from runners import image_tarball
from runners.schema import validate_job

# Defaults of the settings an older platform's spec may leave out.
DEFAULT_REPEATS = 1
DEFAULT_UNSTABLE_CV_THRESHOLD = 0.05
DEFAULT_IDLE_POWER_S = 3.0
# Single-stream queries per block: each block of one server is followed by the same inputs
# sent to the other (docs/measurement.md, "Interleaving").
DEFAULT_BLOCK_QUERIES = 32
DEFAULT_BOOTSTRAP_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class SubmissionSpec:
    """The image to measure: from a tarball (`image_location`, `tarball_sha256`) or from a
    registry by a reference pinned by digest (`image_reference`, pulled by the runner)."""

    id: int
    division: str  # "standard" | "own"
    image_id: str
    image_location: str | None = None
    tarball_sha256: str | None = None
    image_reference: str | None = None

    @property
    def own_runtime(self) -> bool:
        return self.division == "own"


@dataclass(frozen=True)
class TaskSpec:
    """What the runner reads of task.json; `document` is written to /footprint/in as it is."""

    num_classes: int
    input_shape: tuple[int, ...]
    input_dtype: str
    document: dict[str, Any] = field(repr=False, compare=False)

    def json_text(self) -> str:
        return json.dumps(self.document, indent=2)


@dataclass(frozen=True)
class BenchmarkSpec:
    slug: str
    data_location: str
    task: TaskSpec
    # sha256 of each file under data_location (train.npz, test.npz, reference/model.pt):
    # required to fetch them over HTTP, where the runner checks every byte it got.
    files: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HardwareClassSpec:
    name: str
    cpuset: str
    cores: int
    gpus: int
    cpu_watts_per_core: float | None

    @property
    def gpu_indices(self) -> list[int]:
        """The host GPUs (NVML indices) a class's containers get and its meters read.

        The runner's FOOTPRINT_RUNNER_GPUS names them ("2,3"), so that two classes on one host
        never share a GPU; unset, the first `gpus` of the host. ValueError when the runner
        names a different number of GPUs than the class has.
        """
        return assigned_gpus(self.gpus, os.environ.get("FOOTPRINT_RUNNER_GPUS", ""))


def assigned_gpus(count: int, setting: str) -> list[int]:
    """The GPU indices of `setting` ("0,1"), which must name exactly `count`; "" = the first `count`."""
    if count <= 0:
        return []
    if not setting.strip():
        return list(range(count))
    try:
        indices = [int(part) for part in setting.split(",")]
    except ValueError:
        raise ValueError(f"FOOTPRINT_RUNNER_GPUS={setting!r}: expected GPU indices such as 0,1") from None
    if len(indices) != count or len(set(indices)) != count or min(indices) < 0:
        raise ValueError(
            f"FOOTPRINT_RUNNER_GPUS={setting!r} names {len(set(indices))} distinct GPUs, but the hardware class "
            f"has {count}"
        )
    return indices


@dataclass(frozen=True)
class Limits:
    compress_wall_s: float
    serve_wall_s: float
    serve_ready_s: float
    memory_bytes: int
    pids: int
    tmpfs_bytes: int
    output_max_bytes: int
    log_tail_bytes: int
    # What a submission image's layers may expand to when loaded (runners/image_tarball.py).
    image_max_expanded_bytes: int = image_tarball.DEFAULT_MAX_EXPANDED_BYTES
    # How long one request may wait for its reply before the server is taken for stuck.
    request_timeout_s: float = 30.0

    @property
    def memory_mib(self) -> int:
        return self.memory_bytes // (1 << 20)


@dataclass(frozen=True)
class MeasurementSettings:
    """How to measure, LoadGen-style: one object, unit-suffixed fields, defaults here.

    `repeats` is the least number of rounds (fresh server processes); more run when the
    query count or duration needs them. `seed` seeds nothing the server could learn: the
    runner draws the order of the timed inputs from a secret of its own (docs/measurement.md,
    "What the server cannot know") and records it after the job.
    """

    warmup_queries: int
    warmup_s: float
    min_queries: int
    min_duration_s: float
    accuracy_batch_size: int
    seed: int
    repeats: int = DEFAULT_REPEATS
    unstable_cv_threshold: float = DEFAULT_UNSTABLE_CV_THRESHOLD
    idle_power_s: float = DEFAULT_IDLE_POWER_S
    block_queries: int = DEFAULT_BLOCK_QUERIES
    bootstrap_resamples: int = DEFAULT_BOOTSTRAP_RESAMPLES
    confidence: float = DEFAULT_CONFIDENCE

    def as_document(self) -> dict[str, Any]:
        return {
            "warmup_queries": self.warmup_queries,
            "warmup_s": self.warmup_s,
            "min_queries": self.min_queries,
            "min_duration_s": self.min_duration_s,
            "accuracy_batch_size": self.accuracy_batch_size,
            "seed": self.seed,
            "repeats": self.repeats,
            "unstable_cv_threshold": self.unstable_cv_threshold,
            "idle_power_s": self.idle_power_s,
            "block_queries": self.block_queries,
            "bootstrap_resamples": self.bootstrap_resamples,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class JobSpec:
    run_id: int
    attempt: int
    submission: SubmissionSpec
    benchmark: BenchmarkSpec
    hardware_class: HardwareClassSpec
    limits: Limits
    measurement: MeasurementSettings
    runtime_image: str
    document: dict[str, Any] = field(repr=False, compare=False)


def parse_job(document: Any) -> JobSpec:
    """A JobSpec from a spec document; runners.schema.SchemaError when it is not one."""
    spec = validate_job(document)
    task, hw, limits, settings = spec["benchmark"]["task"], spec["hardware_class"], spec["limits"], spec["measurement"]
    watts = hw.get("cpu_watts_per_core")
    return JobSpec(
        run_id=spec["run_id"],
        attempt=spec["attempt"],
        submission=SubmissionSpec(
            **{k: spec["submission"][k] for k in SubmissionSpec.__dataclass_fields__ if k in spec["submission"]}
        ),
        benchmark=BenchmarkSpec(
            slug=spec["benchmark"]["slug"],
            data_location=spec["benchmark"]["data_location"],
            task=TaskSpec(
                num_classes=int(task["num_classes"]),
                input_shape=tuple(int(d) for d in task["input"]["shape"]),
                input_dtype=str(task["input"]["dtype"]),
                document=task,
            ),
            files=dict(spec["benchmark"].get("files") or {}),
        ),
        hardware_class=HardwareClassSpec(
            name=hw["name"],
            cpuset=hw["cpuset"],
            cores=int(hw["cores"]),
            gpus=int(hw["gpus"]),
            cpu_watts_per_core=float(watts) if watts else None,
        ),
        limits=Limits(
            compress_wall_s=float(limits["compress_wall_s"]),
            serve_wall_s=float(limits["serve_wall_s"]),
            serve_ready_s=float(limits["serve_ready_s"]),
            memory_bytes=int(limits["memory_bytes"]),
            pids=int(limits["pids"]),
            tmpfs_bytes=int(limits["tmpfs_bytes"]),
            output_max_bytes=int(limits["output_max_bytes"]),
            log_tail_bytes=int(limits["log_tail_bytes"]),
            image_max_expanded_bytes=int(
                limits.get("image_max_expanded_bytes", image_tarball.DEFAULT_MAX_EXPANDED_BYTES)
            ),
            request_timeout_s=float(limits.get("request_timeout_s", 30.0)),
        ),
        measurement=MeasurementSettings(
            warmup_queries=int(settings["warmup_queries"]),
            warmup_s=float(settings["warmup_s"]),
            min_queries=int(settings["min_queries"]),
            min_duration_s=float(settings["min_duration_s"]),
            accuracy_batch_size=int(settings["accuracy_batch_size"]),
            seed=int(settings["seed"]),
            repeats=int(settings.get("repeats", DEFAULT_REPEATS)),
            unstable_cv_threshold=float(settings.get("unstable_cv_threshold", DEFAULT_UNSTABLE_CV_THRESHOLD)),
            idle_power_s=float(settings.get("idle_power_s", DEFAULT_IDLE_POWER_S)),
            block_queries=int(settings.get("block_queries", DEFAULT_BLOCK_QUERIES)),
            bootstrap_resamples=int(settings.get("bootstrap_resamples", DEFAULT_BOOTSTRAP_RESAMPLES)),
            confidence=float(settings.get("confidence", DEFAULT_CONFIDENCE)),
        ),
        runtime_image=spec["runtime_image"],
        document=spec,
    )
