"""Result documents as a runner writes them (footprint.result/1), for ingestion tests.

The energy, provenance and raw-latency fields (energy_result_document) are those of
docs/measurement.md; figure() here is a document's figure (a dict), not a Figure row.
"""

from __future__ import annotations

from typing import Any


def phase(log_tail: str = "", *, wall_s: float = 1.0, exit_code: int | None = 0) -> dict[str, Any]:
    return {
        "exit_code": exit_code,
        "wall_s": wall_s,
        "cpu_s": wall_s * 0.9,
        "peak_memory_bytes": 100_000_000,
        "log_tail": log_tail,
        "timed_out": False,
        "oom_killed": False,
        "pids_limit_hit": False,
    }


def figure(subject: str, name: str, value: float, unit: str, label: str = "measured") -> dict[str, Any]:
    return {"subject": subject, "name": name, "value": value, "unit": unit, "label": label}


def audit(
    name: str,
    verdict: str = "passed",
    *,
    subject: str = "submission",
    figure: str | None = None,
    value: float | None = None,
    threshold: float | None = None,
    unit: str | None = None,
    sentence: str = "The timed replies match the accuracy pass.",
) -> dict[str, Any]:
    """One entry of a document's `audits` (runners/README.md)."""
    return {
        "name": name,
        "subject": subject,
        "verdict": verdict,
        "figure": figure,
        "value": value,
        "threshold": threshold,
        "unit": unit,
        "sentence": sentence,
    }


def failed_timed_predictions(rate: float = 0.9) -> dict[str, Any]:
    """The audit a server that times one model and scores another fails."""
    return audit(
        "timed_predictions",
        "failed",
        figure="prediction_mismatch_rate",
        value=rate,
        threshold=0.001,
        unit="fraction",
        sentence=f"{rate:.0%} of the timed replies differ from the accuracy pass's predictions for the same inputs.",
    )


def result_document(
    run_id: int,
    *,
    attempt: int = 1,
    accuracy: float = 0.975,
    reference_accuracy: float = 0.98,
    latency_p50_us: float = 100.0,
    reference_latency_p50_us: float = 150.0,
    speedup_label: str = "measured",
    serve_peak_memory_bytes: int = 50_000_000,
    compress_wall_s: float = 12.5,
    host: str = "runner-host-1",
    compression_ratio: float | None = None,
    theoretical_speedup: float | None = None,
    footprint_label: str = "measured",
) -> dict[str, Any]:
    """A succeeded result document; the speed-up is the ratio of the two p50 latencies.

    The footprint ratios are added (with `footprint_label`) only when given.
    """
    footprint = [
        figure("submission", name, value, "ratio", footprint_label)
        for name, value in (("compression_ratio", compression_ratio), ("theoretical_speedup", theoretical_speedup))
        if value is not None
    ]
    return {
        "schema": "footprint.result/1",
        "run_id": run_id,
        "attempt": attempt,
        "status": "succeeded",
        "failure": None,
        "phases": {
            "compress": phase("compressing...\ncompressed 2 layers\n", wall_s=compress_wall_s),
            "serve_reference": phase("reference ready\n"),
            "serve_submission": phase("submission ready\n"),
            "serve_null": phase("null ready\n"),
        },
        "figures": [
            figure("submission", "accuracy", accuracy, "fraction"),
            figure("reference", "accuracy", reference_accuracy, "fraction"),
            figure("submission", "latency_p50", latency_p50_us, "us"),
            figure("submission", "latency_p90", latency_p50_us * 1.2, "us"),
            figure("reference", "latency_p50", reference_latency_p50_us, "us"),
            figure("reference", "latency_p90", reference_latency_p50_us * 1.2, "us"),
            figure("null", "latency_p50", 9.0, "us"),
            figure("submission", "serve_peak_memory", serve_peak_memory_bytes, "bytes"),
            figure("reference", "serve_peak_memory", 80_000_000, "bytes"),
            figure("submission", "compress_wall", compress_wall_s, "s"),
            figure("submission", "speedup", reference_latency_p50_us / latency_p50_us, "ratio", speedup_label),
            *footprint,
        ],
        "method": {"name": "test method"},
        "provenance": {"runner": {"host": host, "cpu_model": "test CPU"}, "image_id": "sha256:" + "a" * 64},
    }


def failed_document(
    run_id: int,
    *,
    phase_name: str = "compress",
    code: str = "compress_nonzero_exit",
    reason: str = "compress exited with code 3",
    log_tail: str = "Traceback: boom\n",
) -> dict[str, Any]:
    return {
        "schema": "footprint.result/1",
        "run_id": run_id,
        "attempt": 1,
        "status": "failed",
        "failure": {"phase": phase_name, "code": code, "reason": reason},
        "phases": {"compress": phase(log_tail, exit_code=3)},
        "figures": [],
        "method": None,
        "provenance": {"runner": {"host": "runner-host-1"}},
    }


# ---------------------------------------------------------------------------------------
# Energy, provenance and raw latencies

# Two repeats of the reference (3 + 2 timed queries), one of the submission (4), one of the null server (2).
LATENCY_SAMPLES_US: dict[str, list[float]] = {
    "reference": [150.0, 151.5, 149.25, 160.0, 158.75],
    "submission": [100.0, 101.0, 99.5, 98.0],
    "null": [9.0, 9.5],
}
LATENCY_QUERIES: dict[str, list[int]] = {"reference": [3, 2], "submission": [4], "null": [2]}


def latency_repeats(subject: str) -> list[dict[str, Any]]:
    return [
        {
            "p50_us": 150.0,
            "p90_us": 160.0,
            "p99_us": 160.0,
            "mean_us": 150.0,
            "p90_early_stopping_us": None,
            "queries": queries,
            "warmup_queries": 10,
            "duration_s": 0.001,
            "prediction_mismatches": 0,
        }
        for queries in LATENCY_QUERIES[subject]
    ]


def estimated_energy_figures(*, submission_mj: float = 0.41, reference_mj: float = 0.52) -> list[dict[str, Any]]:
    """What a runner without counters sends: net figures only, labelled estimated."""
    return [
        figure("submission", "energy_per_inference", submission_mj, "mJ", "estimated"),
        figure("reference", "energy_per_inference", reference_mj, "mJ", "estimated"),
        figure("null", "energy_per_inference", 0.02, "mJ", "estimated"),
        figure("submission", "serve_energy_net", 1.25, "J", "estimated"),
        figure("reference", "serve_energy_net", 1.8, "J", "estimated"),
        figure("null", "serve_energy_net", 0.05, "J", "estimated"),
        figure("submission", "compress_energy_net", 36.0, "J", "estimated"),
        figure("submission", "samples_per_kwh", 2.5e9, "samples/kWh", "estimated"),
    ]


def measured_energy_figures(*, submission_mj: float = 0.35, reference_mj: float = 0.5) -> list[dict[str, Any]]:
    """What a runner with RAPL sends: net and gross figures and the idle power, measured."""
    return [
        figure("submission", "energy_per_inference", submission_mj, "mJ"),
        figure("reference", "energy_per_inference", reference_mj, "mJ"),
        figure("submission", "serve_energy_net", 7.2e6, "J"),  # 2 kWh: an easy conversion to check
        figure("submission", "serve_energy_gross", 9.0e6, "J"),
        figure("reference", "serve_energy_net", 2.0, "J"),
        figure("reference", "serve_energy_gross", 3.5, "J"),
        figure("submission", "compress_energy_net", 40.0, "J"),
        figure("submission", "compress_energy_gross", 55.0, "J"),
        figure("reference", "idle_power", 12.5, "W"),
    ]


def full_provenance(*, source: str = "estimate", watts: float = 5.0) -> dict[str, Any]:
    return {
        "runner": {
            "host": "runner-host-1",
            "cpu_model": "Test CPU 9000 @ 3 GHz",
            "cpu_count": 16,
            "memory_bytes": 64 * 2**30,
            "kernel": "6.1.0-test",
            "docker": "Docker 24.0.7, cgroup v2",
            "python": "3.11.2",
            "gpus": [],
            "gpu_notes": "NVML not found (libnvidia-ml.so.1 missing)",
        },
        "image_id": "sha256:" + "a" * 64,
        "tarball_sha256": "d" * 64,
        "runtime_image": "footprint/runtime:1",
        "division": "standard",
        "contract": "footprint.contract/1",
        "hardware_class": {"name": "cpu-test", "cpuset": "3", "cores": 1, "gpus": 0, "cpu_watts_per_core": watts},
        "placement": {"container_cpuset": "3", "harness_cpus": [3], "policy": "harness pinned to the container's CPUs"},
        "limits": {"compress_wall_s": 900, "memory_bytes": 2 * 2**30, "pids": 256},
        "measurement": {"seed": 1234, "repeats": 2, "min_queries": 1024, "warmup_queries": 10},
        "repeats": 2,
        "runtimes": {
            "submission": "footprint-serve/1 torch 2.13.0+cpu",
            "reference": "footprint-serve/1 torch 2.13.0+cpu (reference)",
            "null": "footprint-null/1",
        },
        "energy": {
            "source": source,
            "counters": ["rapl:package-0", "rapl:package-0:dram"] if source == "rapl" else [],
            "idle_power_w": 12.5 if source == "rapl" else None,
            "idle_window_s": 3.0,
            "estimate": {"cpu_watts_per_core": watts, "basis": "hardware class setting"}
            if source == "estimate"
            else None,
            "notes": ["no /sys/class/powercap on this host"] if source == "estimate" else [],
        },
        "latency_samples_us": {subject: list(samples) for subject, samples in LATENCY_SAMPLES_US.items()},
        "latency_repeats": {subject: latency_repeats(subject) for subject in LATENCY_SAMPLES_US},
    }


def energy_result_document(run_id: int, *, measured: bool = False, **kwargs: Any) -> dict[str, Any]:
    """A succeeded result with energy figures (estimated unless `measured`) and the new provenance."""
    energy_mj = {key: kwargs.pop(key) for key in ("submission_mj", "reference_mj") if key in kwargs}
    document = result_document(run_id, **kwargs)
    if measured:
        document["figures"].extend(measured_energy_figures(**energy_mj))
        document["provenance"] = full_provenance(source="rapl")
    else:
        document["figures"].extend(estimated_energy_figures(**energy_mj))
        document["provenance"] = full_provenance(source="estimate")
    return document
