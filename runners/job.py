"""One job, from its spec to its result document: stage, compress, measure, aggregate.

The sequence is fixed by the submission contract (docs/submission-contract.md) and the
measurement protocol (docs/measurement.md): staging (image and inputs), `compress` in the
sandbox, then the null server, the reference model and the submission served at once and
measured interleaved (runners.single_stream), offline throughput when method.json asks for
it (runners.offline), and the figures, audits and flags (runners.aggregate). Every way a
submission can misbehave ends in a failed document whose reason a researcher can act on;
only a bug of our own ends in `runner_error`.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from runners import aggregate, files, placement
from runners.compress import run_compress
from runners.containers import HARDWARE_CLASS_LABEL
from runners.footprint_sdk import SERVE_SPIN_NS
from runners.meters import energy as energy_meters
from runners.offline import declared_batch_sizes, measure_offline
from runners.provenance import host_fingerprint, job_provenance
from runners.result import CANCELLED, JobFailure, ResultDocument
from runners.sandbox.docker import DockerSandbox, SandboxError
from runners.schema import SchemaError
from runners.servers import SUBMISSION, job_servers
from runners.single_stream import Context, measure_single_stream
from runners.spec import JobSpec, parse_job
from runners.stage import Fetch, Staged, stage

Report = Callable[[str, str], None]

__all__ = ["HARDWARE_CLASS_LABEL", "Report", "host_fingerprint", "run_job"]


def run_job(
    document: dict,
    *,
    sandbox: DockerSandbox,
    report: Report,
    work_root: Path,
    host: dict | None = None,
    stop: Callable[[], str | None] | None = None,
    execution: str | None = None,
    fetch: Fetch | None = None,
) -> dict:
    """Run one job; always returns a result document (never raises for a bad submission).

    `fetch` gets the job's files when the spec names http(s) locations (runners.stage).

    `stop` (a cancel): returns the reason once the job must stop, checked between phases,
    between blocks and by every container's monitor; the job then fails as `cancelled`.
    """
    stop = stop or (lambda: None)
    run_id = document.get("run_id") if isinstance(document.get("run_id"), int) and document["run_id"] > 0 else 1
    attempt = document.get("attempt") if isinstance(document.get("attempt"), int) and document["attempt"] > 0 else 1
    doc = ResultDocument(run_id=run_id, attempt=attempt)
    phase = "staging"
    work: Path | None = None
    try:
        try:
            spec = parse_job(document)
        except SchemaError as exc:
            raise JobFailure("staging", "invalid_job_spec", f"the platform sent a job this runner cannot read: {exc}")
        doc.provenance = job_provenance(spec, host or host_fingerprint(sandbox), execution=execution)
        report("staging", f"loading image and inputs on {doc.provenance['runner']['host']}")
        work = Path(tempfile.mkdtemp(prefix=f"run-{run_id}-a{attempt}-", dir=_ensure_dir(work_root)))
        staged = stage(spec, sandbox, work, fetch)
        doc.provenance["runtime_image_id"] = staged.runtime_image_id
        energy = _job_energy(spec)
        try:
            with energy.running():
                phase = "compress"
                _check(stop, phase)
                report("compressing", "running the submission's compress command")
                run_compress(spec, sandbox, staged, doc, energy, stop=stop)

                phase = "measuring"
                _check(stop, phase)
                report("measuring", "serving the null server, the reference and the submission")
                _measure(spec, sandbox, staged, doc, energy, stop)
        finally:
            doc.provenance["energy"] = energy.provenance()
            aggregate.energy_figures(doc, energy)
        return doc.as_dict(None)
    except JobFailure as failure:
        return doc.as_dict(failure)
    except SandboxError as exc:  # the engine went away under us: not the submission's fault
        return doc.as_dict(JobFailure(phase, exc.code, f"the runner lost its sandbox: {exc.reason}"))
    except Exception as exc:  # a bug of ours: say so rather than blame the submission
        return doc.as_dict(
            JobFailure(
                phase,
                "runner_error",
                f"the runner failed ({type(exc).__name__}: {exc}). This is a fault of Footprint, "
                "not of the submission; the run can be retried.",
            )
        )
    finally:
        if work is not None:
            files.unmount_below(work)
            files.remove_tree(work)


def _check(stop: Callable[[], str | None], phase: str) -> None:
    reason = stop()
    if reason:
        raise JobFailure(phase, CANCELLED, reason)


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _measure(
    spec: JobSpec,
    sandbox: DockerSandbox,
    staged: Staged,
    doc: ResultDocument,
    energy: energy_meters.JobEnergy,
    stop: Callable[[], str | None],
) -> None:
    # The order of the timed inputs, the request ids and the interleaving come from this
    # secret, drawn here and published only in the result (docs/measurement.md).
    secret = secrets.randbits(128)
    rng = np.random.default_rng(secret)
    container_cpus = placement.parse_cpuset(spec.hardware_class.cpuset)
    # The harness sits on a CPU of its own when there is one (docs/measurement.md, "Placement").
    cpus, policy = placement.harness_cpus(container_cpus, os.sched_getaffinity(0))
    previous = placement.pin_current_process(cpus)
    doc.provenance["placement"] = {
        "container_cpuset": spec.hardware_class.cpuset,
        "harness_cpus": sorted(cpus),
        "policy": policy,
        "serve_spin_ns": SERVE_SPIN_NS,
        "reply_spin_ns": placement.REPLY_SPIN_NS,
    }
    ctx = Context(
        spec=spec,
        sandbox=sandbox,
        staged=staged,
        doc=doc,
        energy=energy,
        servers=job_servers(spec, staged),
        rng=rng,
        stop=stop,
    )
    try:
        measured = measure_single_stream(ctx)
        offline = None
        batch_sizes = declared_batch_sizes(doc)
        if batch_sizes:
            offline = measure_offline(ctx, batch_sizes, measured.accuracy[SUBMISSION].predictions)
    finally:
        placement.pin_current_process(previous)
    doc.provenance["repeats"] = measured.rounds
    doc.provenance["schedule_secret"] = f"{secret:032x}"
    aggregate.latency_figures(doc, measured, spec.measurement)
    aggregate.speedup_figures(doc, measured, spec.measurement, rng)
    aggregate.audit_results(doc, measured, staged, offline)
    aggregate.stability_flags(doc, spec.measurement)
    aggregate.throughput_figures(doc, offline)
    aggregate.artifact_figures(doc, staged)


def _job_energy(spec: JobSpec) -> energy_meters.JobEnergy:
    return energy_meters.job_energy(
        cpu_watts_per_core=spec.hardware_class.cpu_watts_per_core,
        gpu_indices=spec.hardware_class.gpu_indices,
        idle_window_s=spec.measurement.idle_power_s,
    )
