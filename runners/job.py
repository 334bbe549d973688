"""One job, from its spec to its result document: stage, compress, measure.

The sequence is fixed by the submission contract (docs/submission-contract.md):
staging (image and inputs), `compress` in the sandbox, then the null server, the
reference model and the submission are each served in a fresh container and measured
by the harness, in the same job on the same CPUs, so that ratios compare like with like.
Every way a submission can misbehave ends in a failed document whose reason a
researcher can act on; only a bug of our own ends in `runner_error`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import shutil
import socket
import stat
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np

from runners import footprint_sdk as sdk
from runners import harness
from runners.footprint_sdk import CONTRACT
from runners.meters import cgroup, nvml, runtime_stats
from runners.meters import energy as energy_meters
from runners.sandbox.docker import (
    ContainerOutcome,
    ContainerSpec,
    DockerSandbox,
    Mount,
    RunningContainer,
    SandboxError,
)
from runners.schema import RESULT_SCHEMA, SchemaError, validate_job, validate_method

CONTAINER_USER = (10001, 10001)
# A runner reaps only its own class's orphans: other runners (and test sessions) may share
# this Docker engine.
HARDWARE_CLASS_LABEL = "org.footprint.hardware-class"
METHOD_JSON_MAX_BYTES = 1 << 20
SERVE_STOP_GRACE_S = 5.0

Report = Callable[[str, str], None]


class JobFailure(Exception):
    """The submission (or its inputs) cannot be measured; `reason` says why in words."""

    def __init__(self, phase: str, code: str, reason: str) -> None:
        super().__init__(reason)
        self.phase, self.code, self.reason = phase, code, reason


def phase_record(outcome: ContainerOutcome) -> dict:
    """A container's outcome as the result document's `phases` hold it."""
    return {
        "exit_code": outcome.exit_code,
        "wall_s": round(outcome.wall_s, 6),
        "cpu_s": outcome.cpu_s,
        "peak_memory_bytes": outcome.peak_memory_bytes,
        "log_tail": outcome.log_tail,
        "timed_out": outcome.timed_out,
        "oom_killed": outcome.oom_killed,
        "pids_limit_hit": outcome.pids_limit_hit,
    }


@dataclass
class ResultDocument:
    run_id: int
    attempt: int
    phases: dict[str, dict] = field(default_factory=dict)
    figures: list[dict] = field(default_factory=list)
    method: dict | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    # Audit and stability flags (docs/measurement.md, "Flags"), e.g. "unstable".
    flags: list[str] = field(default_factory=list)

    def figure(self, subject: str, name: str, value: float, unit: str, label: str = "measured") -> None:
        self.figures.append({"subject": subject, "name": name, "value": float(value), "unit": unit, "label": label})

    def phase(self, name: str, outcome: ContainerOutcome) -> None:
        self.phases[name] = phase_record(outcome)

    def as_dict(self, failure: JobFailure | None) -> dict:
        return {
            "schema": RESULT_SCHEMA,
            "run_id": self.run_id,
            "attempt": self.attempt,
            "status": "failed" if failure else "succeeded",
            "failure": (
                {"phase": failure.phase, "code": failure.code, "reason": failure.reason[:4000]} if failure else None
            ),
            "phases": self.phases,
            "figures": [] if failure else self.figures,
            "flags": [] if failure else sorted(set(self.flags)),
            "method": self.method,
            "provenance": self.provenance,
        }


def local_path(location: str) -> Path:
    """The path behind a data location. Only `file://` exists while runners share the
    platform's host; a download URL with a per-job token will replace it."""
    url = urlparse(location)
    if url.scheme != "file":
        raise JobFailure("staging", "unsupported_location", f"this runner cannot fetch {url.scheme}:// locations yet")
    return Path(unquote(url.path))


def run_job(
    spec: dict,
    *,
    sandbox: DockerSandbox,
    report: Report,
    work_root: Path,
    host: dict | None = None,
) -> dict:
    """Run one job; always returns a result document (never raises for a bad submission)."""
    run_id = spec.get("run_id") if isinstance(spec.get("run_id"), int) and spec["run_id"] > 0 else 1
    attempt = spec.get("attempt") if isinstance(spec.get("attempt"), int) and spec["attempt"] > 0 else 1
    doc = ResultDocument(run_id=run_id, attempt=attempt)
    phase = "staging"
    work: Path | None = None
    try:
        try:
            validate_job(spec)
        except SchemaError as exc:
            raise JobFailure("staging", "invalid_job_spec", f"the platform sent a job this runner cannot read: {exc}")
        doc.provenance = _provenance(spec, host or host_fingerprint(sandbox))
        report("staging", f"loading image and inputs on {doc.provenance['runner']['host']}")
        work = Path(tempfile.mkdtemp(prefix=f"run-{run_id}-a{attempt}-", dir=_ensure_dir(work_root)))
        staged = _stage(spec, sandbox, work)
        energy = _job_energy(spec, doc)
        try:
            with energy.running():
                phase = "compress"
                report("compressing", "running the submission's compress command")
                _compress(spec, sandbox, staged, doc, energy)

                phase = "measuring"
                report("measuring", "serving the null server, the reference and the submission")
                _measure(spec, sandbox, staged, doc, energy)
        finally:
            doc.provenance["energy"] = energy.provenance()
            _energy_figures(doc, energy)
        return doc.as_dict(None)
    except JobFailure as failure:
        return doc.as_dict(failure)
    except SandboxError as exc:  # the engine went away under us: not the submission's fault
        return doc.as_dict(JobFailure(phase, exc.code, f"the runner lost its sandbox: {exc.reason}"))
    except Exception as exc:  # a bug of ours: say so rather than blame the submission
        return doc.as_dict(
            JobFailure(
                "measuring" if phase == "measuring" else phase,
                "runner_error",
                f"the runner failed ({type(exc).__name__}: {exc}). This is a fault of Footprint, "
                "not of the submission; the run can be retried.",
            )
        )
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


# -- staging ---------------------------------------------------------------------------


@dataclass
class Staged:
    in_dir: Path
    out_dir: Path
    reference_dir: Path
    test_x: np.ndarray
    test_y: np.ndarray
    work: Path


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _give_to_container(path: Path) -> None:
    """Folders the container writes must belong to its (non-root) user."""
    if os.geteuid() == 0:
        os.chown(path, *CONTAINER_USER)
    else:
        path.chmod(0o777)


def _stage(spec: dict, sandbox: DockerSandbox, work: Path) -> Staged:
    submission = spec["submission"]
    data = local_path(spec["benchmark"]["data_location"])
    for name in ("train.npz", "test.npz", "reference/model.pt"):
        if not (data / name).is_file():
            raise JobFailure("staging", "benchmark_data_missing", f"the benchmark's {name} is missing at {data}")
    try:
        sandbox.ensure_image(submission["image_id"], local_path(submission["image_location"]))
    except SandboxError as exc:
        if exc.code == "docker_unavailable":
            raise
        raise JobFailure("staging", exc.code, f"the submission image could not be loaded: {exc.reason}")
    except FileNotFoundError as exc:
        raise JobFailure("staging", "image_missing", f"the submission tarball is missing: {exc.filename}")

    work.chmod(0o755)
    in_dir = _ensure_dir(work / "in")
    (in_dir / "reference").mkdir()
    # Copies, not a mount of the benchmark folder: the test split must not be reachable.
    shutil.copyfile(data / "train.npz", in_dir / "train.npz")
    shutil.copyfile(data / "reference/model.pt", in_dir / "reference/model.pt")
    (in_dir / "task.json").write_text(json.dumps(spec["benchmark"]["task"], indent=2))
    for path in (in_dir, in_dir / "reference"):
        path.chmod(0o755)
    for path in (in_dir / "train.npz", in_dir / "reference/model.pt", in_dir / "task.json"):
        path.chmod(0o644)
    out_dir = _ensure_dir(work / "out")
    _give_to_container(out_dir)
    with np.load(data / "test.npz", allow_pickle=False) as test:
        test_x, test_y = test["x"], test["y"]
    return Staged(in_dir, out_dir, in_dir / "reference", test_x, test_y, work)


def _container(
    spec: dict, *, image: str, command: list[str], mounts: list[Mount], phase: str, wall_s: float
) -> ContainerSpec:
    limits, hw = spec["limits"], spec["hardware_class"]
    threads = str(hw["cores"])
    return ContainerSpec(
        image=image,
        command=command,
        mounts=mounts,
        env={
            "FOOTPRINT_PHASE": phase.split("_")[0],
            "FOOTPRINT_THREADS": threads,
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "FOOTPRINT_SOCKET": "/footprint/sock/serve.sock",
            # The standard runtime serves on the class's GPUs when it has any (CUDA-synchronised).
            "FOOTPRINT_DEVICE": "cuda" if int(hw["gpus"]) > 0 else "cpu",
            "HOME": "/tmp",
            # One example input for footprint-serve's FLOP count (model_stats).
            "FOOTPRINT_INPUT_SHAPE": json.dumps(spec["benchmark"]["task"]["input"]["shape"]),
            "FOOTPRINT_INPUT_DTYPE": str(spec["benchmark"]["task"]["input"]["dtype"]),
        },
        cpuset=hw["cpuset"],
        memory_bytes=int(limits["memory_bytes"]),
        pids_limit=int(limits["pids"]),
        tmpfs_bytes=int(limits["tmpfs_bytes"]),
        wall_limit_s=float(wall_s),
        labels={
            "org.footprint.run": str(spec["run_id"]),
            "org.footprint.phase": phase,
            HARDWARE_CLASS_LABEL: hw["name"],
        },
        log_tail_bytes=int(limits["log_tail_bytes"]),
        user=f"{CONTAINER_USER[0]}:{CONTAINER_USER[1]}",
        gpus=int(hw["gpus"]),
    )


# -- compress --------------------------------------------------------------------------


def _compress(
    spec: dict, sandbox: DockerSandbox, staged: Staged, doc: ResultDocument, energy: energy_meters.JobEnergy
) -> None:
    limits = spec["limits"]
    container = _container(
        spec,
        image=spec["submission"]["image_id"],
        command=["compress"],
        mounts=[Mount(str(staged.in_dir), "/footprint/in", True), Mount(str(staged.out_dir), "/footprint/out", False)],
        phase="compress",
        wall_s=limits["compress_wall_s"],
    )
    # The container's cgroup is read once it has exited: its CPU time is 0 before, the
    # outcome's after.
    totals: dict[str, float | None] = {"cpu_s": 0.0}
    with energy.window(lambda: totals["cpu_s"]) as span:
        outcome = sandbox.run(container)
        totals["cpu_s"] = outcome.cpu_s
    doc.phase("compress", outcome)
    energy.record("compress", "submission", span)
    failure = _container_failure("compress", "compress", outcome, limits)
    if failure:
        raise failure
    doc.method = _read_outputs(staged.out_dir, spec)
    doc.figure("submission", "compress_wall", outcome.wall_s, "s")
    if outcome.cpu_s is not None:
        doc.figure("submission", "compress_cpu", outcome.cpu_s, "s")
    if outcome.peak_memory_bytes is not None:
        doc.figure("submission", "compress_peak_memory", outcome.peak_memory_bytes, "bytes")


def _container_failure(phase: str, what: str, outcome: ContainerOutcome, limits: dict) -> JobFailure | None:
    """Turn a container's outcome into the reason a researcher reads, or None if it went well."""
    memory_mib = int(limits["memory_bytes"]) // (1 << 20)
    if outcome.start_error:
        return JobFailure(
            phase,
            f"{what}_not_runnable",
            f"`{what}` could not be started: {outcome.start_error}. The image must have an executable "
            f"named `{what}` on its PATH (submission contract v1).",
        )
    if outcome.timed_out:
        limit_s = limits["compress_wall_s"] if what == "compress" else limits["serve_wall_s"]
        return JobFailure(
            phase, f"{what}_timeout", f"`{what}` ran past the wall-clock limit of {limit_s:g} s and was killed."
        )
    if outcome.oom_killed:
        return JobFailure(
            phase,
            f"{what}_out_of_memory",
            f"`{what}` exceeded the memory limit of {memory_mib} MiB (memory + swap) and was killed.",
        )
    if outcome.pids_limit_hit and outcome.exit_code not in (0, None):
        return JobFailure(
            phase,
            f"{what}_pids_limit",
            f"`{what}` hit the limit of {int(limits['pids'])} processes/threads and exited with code "
            f"{outcome.exit_code}. Use fewer threads or processes.",
        )
    if outcome.exit_code not in (0, None):
        return JobFailure(
            phase, f"{what}_nonzero_exit", f"`{what}` exited with code {outcome.exit_code}; its log tail is below."
        )
    return None


def _read_outputs(out_dir: Path, spec: dict) -> dict:
    """Check what compress left, without following links and within the size cap."""
    cap = int(spec["limits"]["output_max_bytes"])
    total = 0
    for root, dirs, files in os.walk(out_dir, followlinks=False):
        for name in dirs + files:
            path = Path(root) / name
            st = path.lstat()
            relative = path.relative_to(out_dir)
            if stat.S_ISLNK(st.st_mode):
                raise JobFailure(
                    "compress",
                    "output_symlink",
                    f"/footprint/out/{relative} is a symbolic link; outputs must be plain files.",
                )
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
                raise JobFailure(
                    "compress", "output_special_file", f"/footprint/out/{relative} is not a plain file or folder."
                )
            total += st.st_size if stat.S_ISREG(st.st_mode) else 0
    if total > cap:
        raise JobFailure(
            "compress", "output_too_large", f"/footprint/out holds {total} bytes, over the limit of {cap} bytes."
        )
    method = _read_method_json(out_dir / "method.json")
    if spec["submission"]["division"] == "standard":
        model = out_dir / "model.pt"
        if not model.exists():
            raise JobFailure(
                "compress",
                "model_missing",
                "compress exited 0 but wrote no /footprint/out/model.pt; "
                "the standard division serves that TorchScript file.",
            )
        if not stat.S_ISREG(model.lstat().st_mode):
            raise JobFailure("compress", "model_missing", "/footprint/out/model.pt is not a plain file.")
    return method


def _read_method_json(path: Path) -> dict:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise JobFailure(
            "compress",
            "method_json_missing",
            "compress wrote no /footprint/out/method.json (see the submission contract).",
        )
    except OSError as exc:
        raise JobFailure(
            "compress", "method_json_invalid", f"/footprint/out/method.json cannot be read: {exc.strerror}"
        )
    with os.fdopen(fd, "rb") as f:
        raw = f.read(METHOD_JSON_MAX_BYTES + 1)
    if len(raw) > METHOD_JSON_MAX_BYTES:
        raise JobFailure("compress", "method_json_invalid", "/footprint/out/method.json is larger than 1 MiB.")
    try:
        method = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JobFailure("compress", "method_json_invalid", f"/footprint/out/method.json is not valid JSON: {exc}")
    if not isinstance(method, dict) or not isinstance(method.get("name"), str) or not method["name"].strip():
        raise JobFailure(
            "compress", "method_json_invalid", '/footprint/out/method.json must be an object with a non-empty "name".'
        )
    try:
        validate_method(method)
    except SchemaError as exc:
        # Declared search cost and the trial log feed the budget tracks: a block that
        # cannot be read must fail here, with its field, not be published half-understood.
        raise JobFailure(
            "compress",
            "method_json_invalid",
            f"/footprint/out/method.json does not follow the contract: {str(exc).removeprefix('footprint.method/1 ')}",
        )
    return method


# -- measuring -------------------------------------------------------------------------

# Settings a footprint.job/1 spec may leave out (older platforms): one repeat, 5% CV.
DEFAULT_REPEATS = 1
DEFAULT_UNSTABLE_CV_THRESHOLD = 0.05
# Timed replies that may disagree with the accuracy run before a result is flagged:
# batch-1 and batched kernels may round differently and flip a near-tie arg-max.
PREDICTION_MISMATCH_TOLERANCE = 0.001
CACHE_PROBE_QUERIES = 64
THROUGHPUT_MIN_DURATION_S = 1.0
THROUGHPUT_MIN_BATCHES = 64
# Bounds on method.json's batch_sizes: each is tried in a fresh container.
MAX_DECLARED_BATCH_SIZES = 8
MAX_BATCH_SIZE = 65536

WHO = {
    "null": "the null server",
    "reference": "the reference model's server",
    "submission": "the submission's server",
}


@dataclass
class Server:
    subject: str
    image: str
    command: list[str]
    out_dir: Path | None


@dataclass
class SubjectSummary:
    """One subject's latency over its repeats, and its audits (None for the null server)."""

    p50_us: float
    p50_cv: float | None
    mismatch_rate: float | None
    probe: harness.CachingProbe | None


def _measure(
    spec: dict, sandbox: DockerSandbox, staged: Staged, doc: ResultDocument, energy: energy_meters.JobEnergy
) -> None:
    runtime = spec["runtime_image"]
    own = spec["submission"]["division"] == "own"
    settings = spec["measurement"]
    repeats = int(settings.get("repeats", DEFAULT_REPEATS))
    cv_threshold = float(settings.get("unstable_cv_threshold", DEFAULT_UNSTABLE_CV_THRESHOLD))
    servers = [
        Server("null", runtime, ["footprint-null-serve"], None),
        Server("reference", runtime, ["footprint-serve"], staged.reference_dir),
        Server(
            "submission",
            spec["submission"]["image_id"] if own else runtime,
            ["serve"] if own else ["footprint-serve"],
            staged.out_dir,
        ),
    ]
    container_cpus = harness.parse_cpuset(spec["hardware_class"]["cpuset"])
    # The harness sits on a CPU of its own when there is one (docs/measurement.md, "Placement").
    cpus, policy = harness.harness_cpus(container_cpus, os.sched_getaffinity(0))
    previous = harness.pin_current_process(cpus)
    doc.provenance["placement"] = {
        "container_cpuset": spec["hardware_class"]["cpuset"],
        "harness_cpus": sorted(cpus),
        "policy": policy,
        # Polling windows: the standard runtime's server, and the harness's when apart.
        "serve_spin_ns": sdk.SERVE_SPIN_NS,
        "reply_spin_ns": harness.REPLY_SPIN_NS,
    }
    doc.provenance["repeats"] = repeats
    summaries: dict[str, SubjectSummary] = {}
    try:
        for server in servers:
            summaries[server.subject] = _measure_subject(
                spec, sandbox, staged, doc, server, repeats=repeats, energy=energy
            )
        batch_sizes = _declared_batch_sizes(doc)
        if batch_sizes:
            _measure_offline(spec, sandbox, staged, doc, {s.subject: s for s in servers}, batch_sizes, energy)
    finally:
        harness.pin_current_process(previous)
    doc.figure("submission", "speedup", summaries["reference"].p50_us / summaries["submission"].p50_us, "ratio")
    _flag(doc, summaries, cv_threshold=cv_threshold)
    _footprint_ratios(doc)
    for subject, path in (
        ("reference", staged.reference_dir / "model.pt"),
        ("submission", staged.out_dir / "model.pt"),
    ):
        if path.is_file():
            doc.figure(subject, "artifact_size", path.stat().st_size, "bytes")


def _flag(doc: ResultDocument, summaries: dict[str, SubjectSummary], *, cv_threshold: float) -> None:
    """The result's flags (docs/measurement.md, "Flags"); the thresholds go to the provenance."""
    doc.provenance["flag_thresholds"] = {
        "unstable_cv": cv_threshold,
        "prediction_mismatch_rate": PREDICTION_MISMATCH_TOLERANCE,
        "repeat_latency_ratio": harness.CACHE_SUSPECT_RATIO,
    }
    cvs = [summaries[s].p50_cv for s in ("reference", "submission")]
    if any(cv is not None and cv > cv_threshold for cv in cvs):
        doc.flags.append("unstable")
    submission = summaries["submission"]
    if submission.mismatch_rate is not None and submission.mismatch_rate > PREDICTION_MISMATCH_TOLERANCE:
        doc.flags.append("predictions_differ")
    if submission.probe is not None and submission.probe.cache_suspected:
        doc.flags.append("cache_suspected")


def _measure_subject(
    spec: dict,
    sandbox: DockerSandbox,
    staged: Staged,
    doc: ResultDocument,
    server: Server,
    *,
    repeats: int,
    energy: energy_meters.JobEnergy,
) -> SubjectSummary:
    """Serve one subject in `repeats` fresh containers and publish the medians of its latencies.

    The first container also runs the accuracy pass (whose predictions every timed run is
    checked against) and the caching probe; the others only time queries.
    """
    subject = server.subject
    sessions: list[_Session] = []
    expected: np.ndarray | None = None
    for repeat in range(repeats):
        session = _serve_once(
            spec,
            sandbox,
            staged,
            doc,
            server,
            tag=str(repeat),
            first=repeat == 0,
            expected_predictions=expected,
            energy=energy,
        )
        if session.predictions is not None:
            expected = session.predictions
        if repeat == 0:
            doc.phases[f"serve_{subject}"] = session.phase
        else:
            doc.provenance.setdefault("serve_repeats", {}).setdefault(subject, []).append(session.phase)
        sessions.append(session)
        energy.record("serve", subject, session.energy, queries=session.latency.queries)

    latencies = [s.latency for s in sessions]
    for name in ("p50", "p90", "p99", "mean"):
        doc.figure(subject, f"latency_{name}", statistics.median(getattr(r, f"{name}_us") for r in latencies), "us")
    early = [r.p90_early_stopping_us for r in latencies]
    if all(value is not None for value in early):
        doc.figure(subject, "latency_p90_early_stopping", statistics.median(early), "us")  # type: ignore[type-var]
    doc.figure(subject, "queries", sum(r.queries for r in latencies), "count")
    p50s = [r.p50_us for r in latencies]
    cv = statistics.stdev(p50s) / statistics.mean(p50s) if len(p50s) >= 2 else None
    if cv is not None:
        doc.figure(subject, "latency_p50_cv", cv, "fraction")
    peaks = [s.peak for s in sessions if s.peak is not None]
    if peaks:
        doc.figure(subject, "serve_peak_memory", max(peaks), "bytes")

    mismatch_rate = None
    checked = [r for r in latencies if r.prediction_mismatches is not None]
    if checked:
        mismatch_rate = sum(r.prediction_mismatches or 0 for r in checked) / sum(r.queries for r in checked)
        doc.figure(subject, "prediction_mismatch_rate", mismatch_rate, "fraction")
    probe = sessions[0].probe
    if probe is not None:
        doc.figure(subject, "repeat_latency_ratio", probe.ratio, "ratio")
        doc.provenance.setdefault("caching_probe", {})[subject] = {
            "repeated_p50_us": round(probe.repeated_p50_us, 3),
            "fresh_p50_us": round(probe.fresh_p50_us, 3),
            "queries_each": probe.queries,
        }

    # Every repeat's samples in issue order, one list; latency_repeats says where each starts.
    doc.provenance.setdefault("latency_samples_us", {})[subject] = [
        round(sample, 3) for r in latencies for sample in r.samples_us
    ]
    doc.provenance.setdefault("latency_repeats", {})[subject] = [
        {
            "p50_us": r.p50_us,
            "p90_us": r.p90_us,
            "p99_us": r.p99_us,
            "mean_us": r.mean_us,
            "p90_early_stopping_us": r.p90_early_stopping_us,
            "queries": r.queries,
            "warmup_queries": r.warmup_queries,
            "duration_s": round(r.duration_s, 6),
            "prediction_mismatches": r.prediction_mismatches,
        }
        for r in latencies
    ]
    return SubjectSummary(p50_us=statistics.median(p50s), p50_cv=cv, mismatch_rate=mismatch_rate, probe=probe)


@dataclass
class _Session:
    """What one server container gave."""

    phase: dict
    latency: harness.LatencyResult
    peak: int | None
    predictions: np.ndarray | None = None
    probe: harness.CachingProbe | None = None
    energy: energy_meters.Span | None = None


def _serve_container(spec: dict, staged: Staged, server: Server, *, tag: str) -> tuple[ContainerSpec, Path]:
    sock_dir = staged.work / f"sock-{server.subject}-{tag}"
    sock_dir.mkdir()
    _give_to_container(sock_dir)
    mounts = [Mount(str(sock_dir), "/footprint/sock", False)]
    if server.out_dir is not None:
        mounts.append(Mount(str(server.out_dir), "/footprint/out", True))
    container = _container(
        spec,
        image=server.image,
        command=server.command,
        mounts=mounts,
        phase=f"serve_{server.subject}",
        wall_s=spec["limits"]["serve_wall_s"],
    )
    # The standard runtime reports its device and allocator peaks here when it exits; the
    # folder is ours, only the file's last component is the container's (read with O_NOFOLLOW).
    container.env["FOOTPRINT_STATS_FILE"] = f"/footprint/sock/{RUNTIME_STATS_FILE}"
    return container, sock_dir / "serve.sock"


def _serve_once(
    spec: dict,
    sandbox: DockerSandbox,
    staged: Staged,
    doc: ResultDocument,
    server: Server,
    *,
    tag: str,
    first: bool,
    expected_predictions: np.ndarray | None,
    energy: energy_meters.JobEnergy,
) -> _Session:
    limits, settings, task = spec["limits"], spec["measurement"], spec["benchmark"]["task"]
    subject = server.subject
    own_runtime = subject == "submission" and spec["submission"]["division"] == "own"
    container, sock_path = _serve_container(spec, staged, server, tag=tag)
    who = WHO[subject]
    failure: JobFailure | None = None
    latency: harness.LatencyResult | None = None
    predictions: np.ndarray | None = None
    probe: harness.CachingProbe | None = None
    peak: int | None = None
    span: energy_meters.Span | None = None
    running = sandbox.start(container)
    timed_window = energy.window(running.cpu_time_s)
    gpu_memory = _gpu_memory_sampler(spec, running)
    with running, gpu_memory:
        try:
            client = harness.ServeClient.connect(
                str(sock_path), ready_timeout_s=float(limits["serve_ready_s"]), is_alive=running.is_alive
            )
            try:
                if first:
                    # The runtime's own words for what it is: name, library versions, device.
                    server_info = client.ready_info.get("server")
                    doc.provenance.setdefault("runtimes", {})[subject] = (
                        server_info[:200] if isinstance(server_info, str) else None
                    )
                if subject != "null" and first:
                    _footprint_figures(doc, subject, client.ready_info.get("footprint"), own=own_runtime)
                    accuracy = harness.measure_accuracy(
                        client,
                        staged.test_x,
                        staged.test_y,
                        batch_size=int(settings["accuracy_batch_size"]),
                        num_classes=int(task["num_classes"]),
                    )
                    doc.figure(subject, "accuracy", accuracy.accuracy, "fraction")
                    predictions = expected_predictions = accuracy.predictions
                latency = harness.measure_latency(
                    client,
                    staged.test_x,
                    warmup_queries=int(settings["warmup_queries"]),
                    warmup_s=float(settings["warmup_s"]),
                    min_queries=int(settings["min_queries"]),
                    min_duration_s=float(settings["min_duration_s"]),
                    seed=int(settings["seed"]),
                    expected_predictions=expected_predictions,
                    num_classes=int(task["num_classes"]) if expected_predictions is not None else None,
                    around_timed=timed_window,
                )
                span = timed_window.span
                if subject != "null" and first and len(staged.test_x) >= 2:
                    probe = harness.probe_caching(
                        client, staged.test_x, queries=CACHE_PROBE_QUERIES, seed=int(settings["seed"])
                    )
                peak = running.peak_memory_bytes()
                client.shutdown()
            finally:
                client.close()
        except harness.HarnessError as exc:
            code = "reference_failed" if subject == "reference" else exc.code
            failure = JobFailure("measuring", code, f"{who}: {exc.reason}")
        outcome = running.stop(SERVE_STOP_GRACE_S if failure is None else 0.0)
    _runtime_stats(doc, subject, sock_path.parent / RUNTIME_STATS_FILE, gpu_memory)
    container_failure = _container_failure("measuring", "serve", outcome, limits)
    if container_failure is not None:
        # The container's own fate (killed for memory or time, dead on its own) explains more
        # than what the socket saw; an exit we caused by killing it after a failure does not.
        decisive = outcome.start_error or outcome.timed_out or outcome.oom_killed or outcome.pids_limit_hit
        if failure is None or decisive or failure.code in ("serve_exited", "serve_closed"):
            failure = JobFailure(
                "measuring",
                "reference_failed" if subject == "reference" else container_failure.code,
                f"{who}: {container_failure.reason}",
            )
    if failure is not None:
        doc.phase(f"serve_{subject}", outcome)  # the failing container's log tail is the evidence
        raise failure
    assert latency is not None
    return _Session(
        phase=phase_record(outcome), latency=latency, peak=peak, predictions=predictions, probe=probe, energy=span
    )


RUNTIME_STATS_FILE = "stats.json"


def _gpu_memory_sampler(spec: dict, running: RunningContainer) -> contextlib.AbstractContextManager:
    """NVML per-process memory of the container's host pids, on GPU classes only."""
    gpus = _gpu_indices(spec["hardware_class"])
    parent = running.cgroup_path
    if not gpus or parent is None:
        return contextlib.nullcontext()

    def pids() -> set[int]:
        found: set[int] = set()
        for directory in cgroup.cgroup_dirs(parent):
            found |= nvml.cgroup_pids(directory)
        return found

    return nvml.GpuProcessMemorySampler(gpus, pids)


def _runtime_stats(doc: ResultDocument, subject: str, path: Path, gpu_memory: object) -> None:
    """What the runtime reported about itself at exit, and the GPU memory NVML saw, per repeat."""
    stats, reason = runtime_stats.read_runtime_stats(path)
    doc.provenance.setdefault("runtime_stats", {}).setdefault(subject, []).append(
        stats if stats is not None else {"unavailable": reason}
    )
    if isinstance(gpu_memory, nvml.GpuProcessMemorySampler):
        entry = doc.provenance.setdefault("gpu_memory", {}).setdefault(subject, {"peak_process_bytes": None})
        if gpu_memory.peak_bytes is not None:
            entry["peak_process_bytes"] = max(entry["peak_process_bytes"] or 0, gpu_memory.peak_bytes)
        if gpu_memory.notes:
            entry["notes"] = sorted(set(entry.get("notes", [])) | set(gpu_memory.notes))


# -- offline throughput ----------------------------------------------------------------


def _declared_batch_sizes(doc: ResultDocument) -> list[int]:
    """method.json's `batch_sizes`, largest first; a malformed list is left out, with why."""
    declared = (doc.method or {}).get("batch_sizes")
    if declared is None:
        return []
    ok = (
        isinstance(declared, list)
        and 0 < len(declared) <= MAX_DECLARED_BATCH_SIZES
        and all(isinstance(b, int) and not isinstance(b, bool) and 1 <= b <= MAX_BATCH_SIZE for b in declared)
    )
    if not ok:
        doc.provenance["throughput"] = {
            "skipped": f"method.json's batch_sizes must be a list of 1 to {MAX_DECLARED_BATCH_SIZES} integers "
            f"in [1, {MAX_BATCH_SIZE}]; got {json.dumps(declared)[:200]}"
        }
        return []
    return sorted(set(declared), reverse=True)


def _measure_offline(
    spec: dict,
    sandbox: DockerSandbox,
    staged: Staged,
    doc: ResultDocument,
    servers: dict[str, Server],
    batch_sizes: list[int],
    energy: energy_meters.JobEnergy,
) -> None:
    """Throughput of the submission at its largest declared batch size that works, then of the
    reference at that same size. A size that fails (out of memory, an error, a dead server)
    is recorded and the next smaller one tried, each in a fresh container; none failing the
    run: the latency figures stand on their own."""
    notes: dict[str, Any] = {"batch_sizes_declared": batch_sizes, "attempts": []}
    doc.provenance["throughput"] = notes
    chosen = None
    for size in batch_sizes:
        result = _throughput_once(spec, sandbox, staged, servers["submission"], size, notes, energy)
        if result is not None:
            chosen = size
            doc.figure("submission", "throughput", result.samples_per_s, "samples/s")
            break
    if chosen is None:
        notes["submission"] = "no declared batch size could be served: see attempts"
        return
    notes["batch_size"] = chosen
    doc.figure("submission", "throughput_batch_size", chosen, "count")
    result = _throughput_once(spec, sandbox, staged, servers["reference"], chosen, notes, energy)
    if result is not None:
        doc.figure("reference", "throughput", result.samples_per_s, "samples/s")


def _throughput_once(
    spec: dict,
    sandbox: DockerSandbox,
    staged: Staged,
    server: Server,
    batch_size: int,
    notes: dict,
    energy: energy_meters.JobEnergy,
) -> harness.ThroughputResult | None:
    container, sock_path = _serve_container(spec, staged, server, tag=f"offline-{batch_size}")
    limits = spec["limits"]
    result: harness.ThroughputResult | None = None
    problem: str | None = None
    running = sandbox.start(container)
    timed_window = energy.window(running.cpu_time_s)
    with running:
        try:
            client = harness.ServeClient.connect(
                str(sock_path), ready_timeout_s=float(limits["serve_ready_s"]), is_alive=running.is_alive
            )
            try:
                result = harness.measure_throughput(
                    client,
                    staged.test_x,
                    batch_size=batch_size,
                    min_duration_s=THROUGHPUT_MIN_DURATION_S,
                    min_batches=THROUGHPUT_MIN_BATCHES,
                    num_classes=int(spec["benchmark"]["task"]["num_classes"]),
                    around_timed=timed_window,
                )
                client.shutdown()
            finally:
                client.close()
        except harness.HarnessError as exc:
            problem = exc.reason
        except sdk.ProtocolError as exc:  # a batch larger than a frame may carry
            problem = str(exc)
        outcome = running.stop(SERVE_STOP_GRACE_S if problem is None else 0.0)
    container_failure = _container_failure("measuring", "serve", outcome, limits)
    if container_failure is not None and (problem is None or outcome.oom_killed or outcome.timed_out):
        problem = container_failure.reason
    attempt: dict[str, Any] = {"subject": server.subject, "batch_size": batch_size, "phase": phase_record(outcome)}
    if problem is not None or result is None:
        attempt["failure"] = problem or "no result"
        result = None
    else:
        attempt.update(samples_per_s=result.samples_per_s, batches=result.batches, duration_s=result.duration_s)
        energy.record("offline", server.subject, timed_window.span, samples=result.batches * batch_size)
    notes["attempts"].append(attempt)
    return result


# -- energy ----------------------------------------------------------------------------


def _job_energy(spec: dict, doc: ResultDocument) -> energy_meters.JobEnergy:
    hw = spec["hardware_class"]
    watts = hw.get("cpu_watts_per_core")
    return energy_meters.job_energy(
        cpu_watts_per_core=float(watts) if watts else None,
        gpu_indices=_gpu_indices(hw),
        idle_window_s=float(spec["measurement"].get("idle_power_s", energy_meters.DEFAULT_IDLE_WINDOW_S)),
    )


def _gpu_indices(hw: dict) -> list[int]:
    """The GPUs a class's containers get: the first `gpus` of the host (see the sandbox)."""
    return list(range(int(hw.get("gpus") or 0)))


def _energy_figures(doc: ResultDocument, energy: energy_meters.JobEnergy) -> None:
    """The energy figures of every window measured (docs/measurement.md, "Energy").

    Serve energy is the timed single-stream windows' total over the repeats; per inference
    is the median over the repeats of each window's net energy / its queries.
    """
    label = energy.label
    if label is None:
        return
    if energy.idle_power_w is not None:
        doc.figure("reference", "idle_power", energy.idle_power_w, "W", label)
    groups: dict[tuple[str, str], list[dict]] = {}
    for record in energy.records:
        groups.setdefault((record["phase"], record["subject"]), []).append(record)
    for (phase, subject), records in groups.items():
        spans = [r["span"] for r in records]
        gross = [s.gross_j for s in spans]
        net = [s.net_j for s in spans]
        if phase in ("compress", "serve"):
            if gross and all(g is not None for g in gross):
                doc.figure(subject, f"{phase}_energy_gross", sum(gross), "J", label)  # type: ignore[arg-type]
            if net and all(n is not None for n in net):
                doc.figure(subject, f"{phase}_energy_net", sum(net), "J", label)  # type: ignore[arg-type]
        if phase == "serve":
            per_query = [
                r["span"].net_j / r["queries"] for r in records if r["span"].net_j is not None and r["queries"]
            ]
            if per_query and len(per_query) == len(records):
                doc.figure(subject, "energy_per_inference", statistics.median(per_query) * 1000.0, "mJ", label)
        if phase == "offline":
            record = records[-1]  # the size that worked (earlier attempts failed)
            net_j = record["span"].net_j
            if net_j is not None and net_j > 0 and record["samples"]:
                doc.figure(
                    subject,
                    "samples_per_kwh",
                    record["samples"] / (net_j / energy_meters.J_PER_KWH),
                    "samples/kWh",
                    label,
                )


# -- footprint figures -----------------------------------------------------------------

# READY frame key -> (figure name, unit). See docs/measurement.md, "Footprint figures".
FOOTPRINT_FIGURES: dict[str, tuple[str, str]] = {
    "params_total": ("params_total", "count"),
    "params_nonzero": ("params_nonzero", "count"),
    "flops_dense": ("flops_dense", "count"),
    "flops_nonzero": ("flops_nonzero", "count"),
    "artifact_gzip_bytes": ("artifact_gzip_size", "bytes"),
}
# Far above any model a runner can serve; bounds what float() and the database receive.
FOOTPRINT_MAX_VALUE = 1e18
# Pairs where the second can never exceed the first.
_FOOTPRINT_BOUNDS = (("params_nonzero", "params_total"), ("flops_nonzero", "flops_dense"))


def _finite(value: int | float) -> bool:
    return isinstance(value, int) or math.isfinite(value)  # math.isfinite overflows on huge ints


def footprint_problem(block: Any) -> str | None:
    """Why a READY frame's `footprint` block cannot be published, or None if it can."""
    if not isinstance(block, dict):
        return f"it is a {type(block).__name__}, not an object"
    for key, value in block.items():
        if key not in FOOTPRINT_FIGURES and key != "artifact_bytes":
            return f"unknown figure {key!r}"
        # bool is an int in Python; a JSON true is not a count. Python's JSON reads NaN too.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            return f"{key} is {repr(value)[:60]}, not a finite number"
        if value < 0:
            return f"{key} is negative ({value})"
        if value > FOOTPRINT_MAX_VALUE:
            return f"{key} is above the plausible {FOOTPRINT_MAX_VALUE:.0e}"
    for part, whole in _FOOTPRINT_BOUNDS:
        if part in block and whole in block and block[part] > block[whole]:
            return f"{part} ({block[part]}) exceeds {whole} ({block[whole]})"
    return None


def _footprint_figures(doc: ResultDocument, subject: str, block: Any, *, own: bool) -> None:
    """Publish a server's footprint figures: measured by footprint-serve, declared by an own runtime.

    An own runtime's malformed block is left out (and the provenance says why) rather than
    failing a run whose measured figures are sound; footprint-serve's is ours, so a bad one
    is a bug that must show.
    """
    notes = doc.provenance.setdefault("footprint", {})
    if block is None:
        notes[subject] = "not reported by the server"
        return
    problem = footprint_problem(block)
    if problem is not None:
        if not own:
            raise RuntimeError(f"footprint-serve sent a malformed footprint block: {problem}")
        notes[subject] = f"ignored: the server's footprint block is malformed ({problem})"
        return
    label = "declared" if own else "measured"
    notes[subject] = label
    for key, (name, unit) in FOOTPRINT_FIGURES.items():
        if key in block:
            doc.figure(subject, name, block[key], unit, label)


def _footprint_ratios(doc: ResultDocument) -> None:
    """Compression ratio and theoretical speed-up against the reference of the same job.

    reference parameters / submission's non-zero parameters, and reference dense FLOPs /
    submission's non-zero FLOPs. For a model pruned in place (dense shapes, zeros inside)
    this is ShrinkBench's size / non-zero size and FLOPs / non-zero FLOPs; measuring from
    the reference also credits methods that change shapes (channel pruning, distillation).
    """
    reference = {f["name"]: f for f in doc.figures if f["subject"] == "reference"}
    submission = {f["name"]: f for f in doc.figures if f["subject"] == "submission"}
    for name, (whole, part) in {
        "compression_ratio": ("params_total", "params_nonzero"),
        "theoretical_speedup": ("flops_dense", "flops_nonzero"),
    }.items():
        if whole in reference and part in submission and submission[part]["value"] > 0:
            labels = {reference[whole]["label"], submission[part]["label"]}
            label = "measured" if labels == {"measured"} else "declared"
            doc.figure("submission", name, reference[whole]["value"] / submission[part]["value"], "ratio", label)


# -- provenance ------------------------------------------------------------------------


def host_fingerprint(sandbox: DockerSandbox) -> dict:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    ok, docker_detail = sandbox.ping()
    gpus, gpu_notes = nvml.gpu_fingerprint()
    return {
        "host": socket.gethostname(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "memory_bytes": memory_bytes,
        "kernel": platform.release(),
        "docker": docker_detail if ok else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "gpus": gpus,
        "gpu_notes": gpu_notes,
    }


def _provenance(spec: dict, host: dict) -> dict:
    return {
        "runner": host,
        "job_id": str(uuid.uuid4()),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "contract": CONTRACT,
        "image_id": spec["submission"]["image_id"],
        "tarball_sha256": spec["submission"]["tarball_sha256"],
        "runtime_image": spec["runtime_image"],
        "division": spec["submission"]["division"],
        "hardware_class": spec["hardware_class"],
        "limits": spec["limits"],
        "measurement": spec["measurement"],
    }
