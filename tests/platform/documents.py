"""Result documents as a runner writes them (footprint.result/1), for ingestion tests."""

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
