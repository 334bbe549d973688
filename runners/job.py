"""One job, from its spec to its result document: stage, compress, measure.

The sequence is fixed by the submission contract (docs/submission-contract.md):
staging (image and inputs), `compress` in the sandbox, then the null server, the
reference model and the submission are each served in a fresh container and measured
by the harness, in the same job on the same CPUs, so that ratios compare like with like.
Every way a submission can misbehave ends in a failed document whose reason a
researcher can act on; only a bug of our own ends in `runner_error`.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import socket
import stat
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np

from runners import harness
from runners.footprint_sdk import CONTRACT
from runners.sandbox.docker import ContainerOutcome, ContainerSpec, DockerSandbox, Mount, SandboxError
from runners.schema import RESULT_SCHEMA, SchemaError, validate_job

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


@dataclass
class ResultDocument:
    run_id: int
    attempt: int
    phases: dict[str, dict] = field(default_factory=dict)
    figures: list[dict] = field(default_factory=list)
    method: dict | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    def figure(self, subject: str, name: str, value: float, unit: str, label: str = "measured") -> None:
        self.figures.append({"subject": subject, "name": name, "value": float(value), "unit": unit, "label": label})

    def phase(self, name: str, outcome: ContainerOutcome) -> None:
        self.phases[name] = {
            "exit_code": outcome.exit_code,
            "wall_s": round(outcome.wall_s, 6),
            "cpu_s": outcome.cpu_s,
            "peak_memory_bytes": outcome.peak_memory_bytes,
            "log_tail": outcome.log_tail,
            "timed_out": outcome.timed_out,
            "oom_killed": outcome.oom_killed,
            "pids_limit_hit": outcome.pids_limit_hit,
        }

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

        phase = "compress"
        report("compressing", "running the submission's compress command")
        _compress(spec, sandbox, staged, doc)

        phase = "measuring"
        report("measuring", "serving the null server, the reference and the submission")
        _measure(spec, sandbox, staged, doc)
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


def _compress(spec: dict, sandbox: DockerSandbox, staged: Staged, doc: ResultDocument) -> None:
    limits = spec["limits"]
    container = _container(
        spec,
        image=spec["submission"]["image_id"],
        command=["compress"],
        mounts=[Mount(str(staged.in_dir), "/footprint/in", True), Mount(str(staged.out_dir), "/footprint/out", False)],
        phase="compress",
        wall_s=limits["compress_wall_s"],
    )
    outcome = sandbox.run(container)
    doc.phase("compress", outcome)
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
    return method


# -- measuring -------------------------------------------------------------------------


def _measure(spec: dict, sandbox: DockerSandbox, staged: Staged, doc: ResultDocument) -> None:
    runtime = spec["runtime_image"]
    own = spec["submission"]["division"] == "own"
    servers = [
        ("null", runtime, ["footprint-null-serve"], None),
        ("reference", runtime, ["footprint-serve"], staged.reference_dir),
        (
            "submission",
            spec["submission"]["image_id"] if own else runtime,
            ["serve"] if own else ["footprint-serve"],
            staged.out_dir,
        ),
    ]
    cpus = harness.parse_cpuset(spec["hardware_class"]["cpuset"])
    # The harness shares the container's CPU: a wake-up across CPUs costs more than the
    # model itself on small machines (see runners/README.md and the provenance).
    previous = harness.pin_current_process(cpus)
    doc.provenance["placement"] = {
        "container_cpuset": spec["hardware_class"]["cpuset"],
        "harness_cpus": sorted(cpus),
        "policy": "harness pinned to the container's CPUs",
    }
    latencies: dict[str, harness.LatencyResult] = {}
    try:
        for subject, image, command, out_dir in servers:
            latencies[subject] = _serve_and_measure(spec, sandbox, staged, doc, subject, image, command, out_dir)
    finally:
        harness.pin_current_process(previous)
    doc.figure("submission", "speedup", latencies["reference"].p50_us / latencies["submission"].p50_us, "ratio")
    _footprint_ratios(doc)
    for subject, path in (
        ("reference", staged.reference_dir / "model.pt"),
        ("submission", staged.out_dir / "model.pt"),
    ):
        if path.is_file():
            doc.figure(subject, "artifact_size", path.stat().st_size, "bytes")


def _serve_and_measure(
    spec: dict,
    sandbox: DockerSandbox,
    staged: Staged,
    doc: ResultDocument,
    subject: str,
    image: str,
    command: list[str],
    out_dir: Path | None,
) -> harness.LatencyResult:
    limits, settings, task = spec["limits"], spec["measurement"], spec["benchmark"]["task"]
    own_runtime = subject == "submission" and spec["submission"]["division"] == "own"
    sock_dir = staged.work / f"sock-{subject}"
    sock_dir.mkdir()
    _give_to_container(sock_dir)
    mounts = [Mount(str(sock_dir), "/footprint/sock", False)]
    if out_dir is not None:
        mounts.append(Mount(str(out_dir), "/footprint/out", True))
    container = _container(
        spec, image=image, command=command, mounts=mounts, phase=f"serve_{subject}", wall_s=limits["serve_wall_s"]
    )
    who = {
        "null": "the null server",
        "reference": "the reference model's server",
        "submission": "the submission's server",
    }[subject]
    failure: JobFailure | None = None
    latency: harness.LatencyResult | None = None
    running = sandbox.start(container)
    with running:
        try:
            client = harness.ServeClient.connect(
                str(sock_dir / "serve.sock"), ready_timeout_s=float(limits["serve_ready_s"]), is_alive=running.is_alive
            )
            try:
                if subject != "null":
                    _footprint_figures(doc, subject, client.ready_info.get("footprint"), own=own_runtime)
                    accuracy = harness.measure_accuracy(
                        client,
                        staged.test_x,
                        staged.test_y,
                        batch_size=int(settings["accuracy_batch_size"]),
                        num_classes=int(task["num_classes"]),
                    )
                    doc.figure(subject, "accuracy", accuracy.accuracy, "fraction")
                latency = harness.measure_latency(
                    client,
                    staged.test_x,
                    warmup_queries=int(settings["warmup_queries"]),
                    warmup_s=float(settings["warmup_s"]),
                    min_queries=int(settings["min_queries"]),
                    min_duration_s=float(settings["min_duration_s"]),
                    seed=int(settings["seed"]),
                )
                peak = running.peak_memory_bytes()
                client.shutdown()
            finally:
                client.close()
        except harness.HarnessError as exc:
            code = "reference_failed" if subject == "reference" else exc.code
            failure = JobFailure("measuring", code, f"{who}: {exc.reason}")
        outcome = running.stop(SERVE_STOP_GRACE_S if failure is None else 0.0)
    doc.phase(f"serve_{subject}", outcome)
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
        raise failure
    assert latency is not None
    for name in ("p50", "p90", "p99", "mean"):
        doc.figure(subject, f"latency_{name}", getattr(latency, f"{name}_us"), "us")
    doc.figure(subject, "queries", latency.queries, "count")
    if peak is not None:
        doc.figure(subject, "serve_peak_memory", peak, "bytes")
    doc.provenance.setdefault("latency_samples_us", {})[subject] = [round(s, 3) for s in latency.samples_us]
    return latency


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
    return {
        "host": socket.gethostname(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "memory_bytes": memory_bytes,
        "kernel": platform.release(),
        "docker": docker_detail if ok else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
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
