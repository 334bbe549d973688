"""Reads of the submissions app, and the one place that decides who may see or edit what."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from benchmarks.models import HardwareClass, RunnerStatus
from benchmarks.selectors import MISSED_HEARTBEATS, runner_start_command, runners_reported_after
from core.formatting import bytes_exact
from core.numbers import finite_number
from core.units import joules_to_kwh
from submissions.models import Audit, Figure, JobToken, Result, Run, RunTransition, Submission

log = logging.getLogger(__name__)


def submission_can_edit(user: AbstractBaseUser | AnonymousUser, submission: Submission) -> bool:
    """Whether `user` may change, publish, re-run or cancel runs of `submission`.

    The owner for now; when teams arrive, members of the submission's team too.
    """
    return bool(user.is_authenticated and (user.pk == submission.owner_id or user.is_superuser))


def submission_can_view(user: AbstractBaseUser | AnonymousUser, submission: Submission) -> bool:
    """Published submissions are public; the others only to those who may edit them."""
    return submission.published or submission_can_edit(user, submission)


def submissions_visible_to(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Submission]:
    """The submissions `user` may see, as a queryset (list views filter with it)."""
    queryset = Submission.objects.select_related("owner", "benchmark")
    if user.is_authenticated and user.is_superuser:
        return queryset
    if user.is_authenticated:
        return queryset.filter(Q(published=True) | Q(owner_id=user.pk))
    return queryset.filter(published=True)


def submissions_of(*, owner: AbstractBaseUser) -> list[Submission]:
    """A user's own submissions, newest first, each with its runs and their classes (2 queries)."""
    return list(
        Submission.objects.filter(owner=owner)
        .select_related("benchmark")
        .prefetch_related(Prefetch("runs", queryset=Run.objects.select_related("hardware_class").order_by("-created")))
    )


def submission_runs(*, submission: Submission) -> list[Run]:
    """The runs of a submission, newest first, with class, result, figures and audits (4 queries)."""
    return list(
        submission.runs.select_related("hardware_class", "result__invalidation").prefetch_related(
            Prefetch("result__figures", queryset=Figure.objects.order_by("subject", "name")),
            Prefetch("result__audits", queryset=Audit.objects.order_by("id")),
        )
    )


def run_detail(*, run_id: int) -> Run | None:
    """A run with everything its page shows: submission, class, transitions, result, audits."""
    return (
        # The result joined: its energy, provenance and latency readers each look at it.
        Run.objects.select_related(
            "submission__owner", "submission__benchmark", "hardware_class", "result__invalidation"
        )
        .prefetch_related(
            Prefetch("transitions", queryset=RunTransition.objects.order_by("at", "id")),
            Prefetch("result__audits", queryset=Audit.objects.order_by("id")),
        )
        .filter(pk=run_id)
        .first()
    )


def run_for_viewer(*, run_id: int, viewer: AbstractBaseUser | AnonymousUser) -> Run | None:
    """run_detail of a run that `viewer` may see; None for a run that does not exist or is
    private to them (pages answer both with the same 404, revealing nothing)."""
    run = run_detail(run_id=run_id)
    if run is None or not submission_can_view(viewer, run.submission):
        return None
    return run


# The run page shows at most this much of each phase's output (its end, where errors are).
LOG_TAIL_DISPLAY_CHARS = 16384
# Phases in the order they run; others (a future contract's) follow in name order.
PHASE_ORDER = ("staging", "compress", "serve_reference", "serve_submission", "serve_null")


@dataclass(frozen=True)
class LogTail:
    phase: str
    # Rendered with autoescaping: this is untrusted output of a submission.
    text: str
    cut: bool  # the phase wrote more than is shown


def run_log_tails(*, run: Run) -> list[LogTail]:
    """The end of each phase's output, phases in the order they run."""
    logs = run.logs if isinstance(run.logs, dict) else {}
    order = {phase: index for index, phase in enumerate(PHASE_ORDER)}
    tails = []
    for phase in sorted(logs, key=lambda name: (order.get(name, len(order)), name)):
        text = logs[phase] if isinstance(logs[phase], str) else ""
        tails.append(LogTail(phase=phase, text=text[-LOG_TAIL_DISPLAY_CHARS:], cut=len(text) > LOG_TAIL_DISPLAY_CHARS))
    return tails


def run_failure_sentence(*, run: Run) -> str:
    """What the run page says of a failed run, in the same words: headline, then the reason."""
    where = f" in {run.failure_phase}" if run.failure_phase else ""
    code = f" ({run.failure_code})" if run.failure_code else ""
    return f"The run failed{where}{code}. {run.failure_reason}".strip()


@dataclass(frozen=True)
class PhaseTiming:
    """How one phase of a job went, from the result document's `phases`."""

    phase: str
    exit_code: int | None
    timed_out: bool | None
    oom_killed: bool | None
    # (figure name, value, unit): wall and CPU time, peak memory; only those the runner sent.
    figures: list[tuple[str, float, str]]


_PHASE_FIGURES = (("wall_s", "wall", "s"), ("cpu_s", "cpu", "s"), ("peak_memory_bytes", "peak_memory", "bytes"))


def run_phase_timings(*, phases: Any) -> list[PhaseTiming]:
    """Each phase the runner ran (a result document's `phases`, None without a result), in the
    order they run, with what it measured of it."""
    phases = _dict(phases)
    order = {phase: index for index, phase in enumerate(PHASE_ORDER)}
    timings = []
    for phase in sorted(phases, key=lambda name: (order.get(name, len(order)), name)):
        outcome = _dict(phases[phase])
        exit_code = outcome.get("exit_code")
        timings.append(
            PhaseTiming(
                phase=phase,
                exit_code=exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool) else None,
                timed_out=outcome["timed_out"] if isinstance(outcome.get("timed_out"), bool) else None,
                oom_killed=outcome["oom_killed"] if isinstance(outcome.get("oom_killed"), bool) else None,
                figures=[
                    (name, number, unit)
                    for key, name, unit in _PHASE_FIGURES
                    if (number := finite_number(outcome.get(key))) is not None
                ],
            )
        )
    return timings


def run_result_figures(*, run: Run) -> list[Figure]:
    """The figures of a run's result (empty while it has none)."""
    try:
        result = run.result
    except Result.DoesNotExist:
        return []
    return list(result.figures.order_by("subject", "name"))


# ---------------------------------------------------------------------------------------
# A result's energy, provenance and raw latencies, shaped for the run page and downloads.
# Results older than a field lack it: every reader here takes what is there and says what
# is not, rather than failing (a result is never re-ingested).

# Display order of subjects on the run page and in the downloads; others follow by name.
SUBJECT_ORDER = (Figure.Subject.REFERENCE, Figure.Subject.SUBMISSION, Figure.Subject.NULL)
SUBJECT_DISPLAY = dict(Figure.Subject.choices)
# provenance["energy"]["source"] in words.
ENERGY_SOURCE_TEXT = {
    "rapl": "RAPL counters of the runner host's CPU packages (measured)",
    "nvml": "NVML energy counters of the runner host's GPUs (measured)",
    "rapl+nvml": "RAPL counters of the CPU packages and NVML counters of the GPUs (measured)",
    "estimate": "an estimate from the containers' CPU time (no energy counter was readable)",
    "none": "none: no energy counter was readable and the hardware class sets no power per core",
}
NO_GROSS_TITLE = (
    "No gross figure: gross energy is a whole-host counter reading (RAPL, NVML); an estimate "
    "from CPU time has no gross, only the net figure"
)


@dataclass(frozen=True)
class EnergyQuantity:
    """One energy quantity of one subject, and the figure behind it (None: absent)."""

    name: str  # the figure's name in the result document
    title: str  # what it is, in words
    unit: str  # the unit the figure must carry to be shown
    figure: Figure | None
    # The figure in kWh, for figures in J (1 kWh = 3.6e6 J); None otherwise.
    kwh: float | None = None
    # Why the value is missing, for the dash's title.
    missing_title: str = "not in this result"


@dataclass(frozen=True)
class SubjectEnergy:
    subject: str
    subject_display: str
    quantities: list[EnergyQuantity]


@dataclass(frozen=True)
class RunEnergy:
    """The energy block of a run page: figures by subject, and how they were obtained."""

    subjects: list[SubjectEnergy]
    has_figures: bool
    # provenance["energy"]: None when the result predates energy recording.
    source: str | None
    source_text: str
    counters: list[str]
    idle_power_w: float | None
    idle_window_s: float | None
    notes: list[str]
    # How an estimate was made ("CPU time x 5 W per core, hardware class setting"); "" if none.
    estimate_text: str


# (figure name, words, unit, subjects it applies to)
_ENERGY_QUANTITIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("energy_per_inference", "energy per inference", "mJ", SUBJECT_ORDER),
    ("serve_energy_net", "serve energy, net", "J", SUBJECT_ORDER),
    ("serve_energy_gross", "serve energy, gross", "J", SUBJECT_ORDER),
    ("samples_per_kwh", "samples per kWh (offline)", "samples/kWh", SUBJECT_ORDER),
    ("compress_energy_net", "compress energy, net", "J", (Figure.Subject.SUBMISSION,)),
    ("compress_energy_gross", "compress energy, gross", "J", (Figure.Subject.SUBMISSION,)),
    ("idle_power", "idle power (before the job)", "W", (Figure.Subject.REFERENCE, Figure.Subject.SUBMISSION)),
)
ENERGY_FIGURE_NAMES = frozenset(name for name, *_ in _ENERGY_QUANTITIES)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value if item is not None]
    return []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def energy_estimate_text(*, provenance: Any) -> str:
    """How estimated energy figures were made, from provenance["energy"]["estimate"]."""
    estimate = _dict(_dict(_dict(provenance).get("energy")).get("estimate"))
    watts = finite_number(estimate.get("cpu_watts_per_core"))
    basis = estimate.get("basis") if isinstance(estimate.get("basis"), str) else "hardware class setting"
    if watts is None:
        return "estimated from CPU time; the power per core it assumed is not recorded in this result"
    return f"CPU time \u00d7 {watts:g} W per core, {basis}"


def run_energy(*, run: Run, figures: list[Figure]) -> RunEnergy:
    """The energy figures of a run's result by subject, with the provenance's source and notes."""
    try:
        provenance = _dict(run.result.provenance)
    except Result.DoesNotExist:
        provenance = {}
    energy = _dict(provenance.get("energy"))
    by_key = {(f.subject, f.name): f for f in figures if f.name in ENERGY_FIGURE_NAMES}
    estimated = any(f.label == Figure.Label.ESTIMATED for f in by_key.values())
    subjects = []
    for subject in SUBJECT_ORDER:
        quantities = []
        for name, title, unit, applies_to in _ENERGY_QUANTITIES:
            if subject not in applies_to:
                continue
            figure = by_key.get((subject, name))
            if figure is not None and figure.unit != unit:
                figure = None  # another unit than the contract's: not comparable, not shown
            if name == "idle_power" and figure is None:
                continue  # measured once per job (reference), only with counters
            missing = "not in this result"
            if name == "samples_per_kwh":
                missing = (
                    "not in this result: offline throughput is measured only when method.json declares batch_sizes"
                )
            if name.endswith("_gross") and (estimated or energy.get("source") == "estimate"):
                missing = NO_GROSS_TITLE
            quantities.append(
                EnergyQuantity(
                    name=name,
                    title=title,
                    unit=unit,
                    figure=figure,
                    kwh=joules_to_kwh(figure.value) if figure is not None and unit == "J" else None,
                    missing_title=missing,
                )
            )
        # A subject without any energy figure (e.g. the null server on an older runner) is left out.
        if any(quantity.figure is not None for quantity in quantities):
            subjects.append(
                SubjectEnergy(subject=subject, subject_display=SUBJECT_DISPLAY[subject], quantities=quantities)
            )
    source = energy.get("source") if isinstance(energy.get("source"), str) else None
    return RunEnergy(
        subjects=subjects,
        has_figures=bool(by_key),
        source=source,
        source_text=ENERGY_SOURCE_TEXT.get(source, source) if source else "",
        counters=_strings(energy.get("counters")),
        idle_power_w=finite_number(energy.get("idle_power_w")),
        idle_window_s=finite_number(energy.get("idle_window_s")),
        notes=_strings(energy.get("notes")),
        estimate_text=energy_estimate_text(provenance=provenance) if estimated or source == "estimate" else "",
    )


@dataclass(frozen=True)
class Entry:
    """A named value of the provenance, ready to print ("" when absent)."""

    name: str
    text: str


@dataclass(frozen=True)
class GpuEntry:
    index: str
    name: str
    uuid: str
    driver_version: str
    memory_total_bytes: float | None


@dataclass(frozen=True)
class RunProvenance:
    """The provenance block of a run page; every field tolerates an older result."""

    present: bool
    host: list[Entry]  # host name, CPU, cores, memory, kernel, Docker, Python
    placement: list[Entry]
    gpus: list[GpuEntry]
    gpu_notes: str
    artifacts: list[Entry]  # image id, tarball sha256, runtime image
    runtimes: list[Entry]  # subject -> the READY frame's server string
    measurement: list[Entry]  # seed, repeats, other protocol settings
    limits: list[Entry]
    # The whole provenance minus the raw latencies, pretty-printed (escaped by the template).
    json_text: str


def _text(value: Any) -> str:
    """A provenance value as text: "" when absent, JSON for structures."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


def _bytes_text(value: Any) -> str:
    return _text(value) if finite_number(value) is None else bytes_exact(value)


def _subject_key(subject: str) -> tuple[int, str]:
    return (SUBJECT_ORDER.index(subject) if subject in SUBJECT_ORDER else len(SUBJECT_ORDER), subject)


def without_runner_identity(document: dict[str, Any]) -> dict[str, Any]:
    """The document as readers see it: the runner's hardware and software, not which machine.

    A reader judges the hardware by its CPU and GPU models, cores, memory and driver; the
    runner's host name and its GPUs' serial UUIDs say nothing more about a result and much
    about an operator's machines (the run keeps the host, for operators: Run.runner_host).
    """
    provenance = dict(document.get("provenance") or {})
    runner = provenance.get("runner")
    if isinstance(runner, dict):
        runner = {key: value for key, value in runner.items() if key != "host"}
        if isinstance(runner.get("gpus"), list):
            runner["gpus"] = [
                {k: v for k, v in gpu.items() if k != "uuid"} if isinstance(gpu, dict) else gpu
                for gpu in runner["gpus"]
            ]
        provenance["runner"] = runner
    provenance.pop("runner_host", None)
    return {**document, "provenance": provenance}


def run_provenance(*, run: Run) -> RunProvenance:
    """Where and how a run's result was measured, from its provenance."""
    try:
        raw = run.result.provenance
    except Result.DoesNotExist:
        raw = None
    # Results stored before runner identities were dropped at ingestion are shown without them.
    provenance = without_runner_identity({"provenance": _dict(raw)})["provenance"] if raw else {}
    runner = _dict(provenance.get("runner"))
    placement = _dict(provenance.get("placement"))
    hardware_class = _dict(provenance.get("hardware_class"))
    measurement = _dict(provenance.get("measurement"))

    # The hardware and its software, never which machine (docs/security.md).
    host = [
        Entry("CPU model", _text(runner.get("cpu_model"))),
        Entry("CPUs on the host", _text(runner.get("cpu_count"))),
        Entry("memory", _bytes_text(runner.get("memory_bytes"))),
        Entry("kernel", _text(runner.get("kernel"))),
        Entry("Docker", _text(runner.get("docker"))),
        Entry("Python (runner)", _text(runner.get("python"))),
    ]
    placement_entries = [
        Entry("hardware class", _text(hardware_class.get("name"))),
        Entry("cores given", _text(hardware_class.get("cores"))),
        Entry("container cpuset", _text(placement.get("container_cpuset") or hardware_class.get("cpuset"))),
        Entry(
            "harness CPUs",
            ", ".join(str(c) for c in placement["harness_cpus"])
            if isinstance(placement.get("harness_cpus"), list)
            else _text(placement.get("harness_cpus")),
        ),
        Entry("policy", _text(placement.get("policy"))),
    ]
    gpus = []
    for gpu in runner.get("gpus") if isinstance(runner.get("gpus"), list) else []:
        gpu = _dict(gpu)
        gpus.append(
            GpuEntry(
                index=_text(gpu.get("index")),
                name=_text(gpu.get("name")),
                uuid=_text(gpu.get("uuid")),
                driver_version=_text(gpu.get("driver_version")),
                memory_total_bytes=finite_number(gpu.get("memory_total_bytes")),
            )
        )
    artifacts = [
        Entry("image id", _text(provenance.get("image_id"))),
        Entry("tarball sha256", _text(provenance.get("tarball_sha256"))),
        Entry("runtime image", _text(provenance.get("runtime_image"))),
        Entry("division", _text(provenance.get("division"))),
        Entry("contract", _text(provenance.get("contract"))),
    ]
    runtimes_raw = _dict(provenance.get("runtimes"))
    runtimes = [
        Entry(SUBJECT_DISPLAY.get(subject, subject), _text(runtimes_raw[subject]))
        for subject in sorted(runtimes_raw, key=_subject_key)
    ]
    repeats = provenance.get("repeats", measurement.get("repeats"))
    measurement_entries = [
        Entry("seed", _text(measurement.get("seed"))),
        Entry("repeats (fresh servers per subject)", _text(repeats)),
        *(Entry(name, _text(measurement[name])) for name in sorted(measurement) if name not in ("seed", "repeats")),
    ]
    limits_raw = _dict(provenance.get("limits"))
    limits = [
        Entry(name, _bytes_text(limits_raw[name]) if name.endswith("_bytes") else _text(limits_raw[name]))
        for name in sorted(limits_raw)
    ]
    shown = {key: value for key, value in provenance.items() if key != "latency_samples_us"}
    return RunProvenance(
        present=bool(provenance),
        host=host,
        placement=placement_entries,
        gpus=gpus,
        gpu_notes=_text(runner.get("gpu_notes")),
        artifacts=artifacts,
        runtimes=runtimes,
        measurement=measurement_entries,
        limits=limits,
        json_text=json.dumps(shown, indent=2, sort_keys=True, ensure_ascii=False, default=str) if provenance else "",
    )


# Raw latencies ---------------------------------------------------------------------------


class NoLatencySamples(LookupError):
    """A run whose result keeps no raw latencies; the message says why, for the 404 page."""


@dataclass(frozen=True)
class LatencySeries:
    """The timed single-stream latencies of one serve repeat of one subject, in issue order."""

    subject: str
    # 1 for the first fresh server (the one that also ran the accuracy pass); None when the
    # result does not say where its repeats start.
    repeat: int | None
    samples_us: list[float]


def _split_into_repeats(samples: list[float], summaries: Any, repeats: Any) -> list[tuple[int | None, list[float]]]:
    """Cut one subject's samples at the repeats' boundaries.

    runners/job.py `_measure_subject` stores every repeat's samples as one list in issue
    order, and `latency_repeats[subject]` lists the repeats in the same order, each with
    its `queries` (timed samples): repeat k starts after the queries of repeats 1..k-1.
    A result from before repeats existed (no summaries, one server) is one repeat.
    """
    if isinstance(summaries, list) and summaries:
        counts = [_dict(summary).get("queries") for summary in summaries]
        counted = all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts)
        if counted and sum(counts) == len(samples):
            parts = []
            start = 0
            for number, count in enumerate(counts, start=1):
                parts.append((number, samples[start : start + count]))
                start += count
            return parts
        # The counts do not add up: the boundaries are unknown, so no repeat is claimed.
        return [(None, samples)]
    if repeats in (None, 1):
        return [(1, samples)]
    return [(None, samples)]


def run_latency_samples(*, run: Run) -> list[LatencySeries]:
    """Every timed latency of a run by subject and repeat; NoLatencySamples says why not."""
    try:
        result = run.result
    except Result.DoesNotExist:
        raise NoLatencySamples(
            f"Run {run.pk} has no result yet (it is {run.state}): raw latencies exist once a run has been measured."
        ) from None
    provenance = _dict(result.provenance)
    samples_by_subject = _dict(provenance.get("latency_samples_us"))
    summaries_by_subject = _dict(provenance.get("latency_repeats"))
    series: list[LatencySeries] = []
    for subject in sorted(samples_by_subject, key=_subject_key):
        raw = samples_by_subject[subject]
        if not isinstance(raw, list) or not raw:
            continue
        numbers = [finite_number(value) for value in raw]
        samples = [value for value in numbers if value is not None]
        if len(samples) != len(numbers):
            # A list with something other than finite numbers is not a latency record.
            log.warning("run %s: the raw latencies of %s are not all numbers; left out", run.pk, subject)
            continue
        parts = _split_into_repeats(samples, summaries_by_subject.get(subject), provenance.get("repeats"))
        for repeat, part in parts:
            series.append(LatencySeries(subject=subject, repeat=repeat, samples_us=part))
    if not series:
        reason = (
            "its run failed before any latency was timed"
            if run.state == Run.FAILED
            else "its result keeps no raw per-query latencies (results measured before they were recorded do not)"
        )
        raise NoLatencySamples(f"Run {run.pk} has no raw latencies: {reason}.")
    return series


def run_has_latency_samples(*, run: Run) -> bool:
    """Whether the run page should link the raw latency downloads."""
    try:
        samples = _dict(run.result.provenance).get("latency_samples_us")
    except Result.DoesNotExist:
        return False
    return isinstance(samples, dict) and any(isinstance(v, list) and v for v in samples.values())


LATENCY_COLUMNS = ("subject", "repeat", "query", "latency_us")


def latency_rows(*, series: list[LatencySeries]) -> Iterator[tuple[str, int | None, int, float]]:
    """(subject, repeat, query, latency_us) for each timed query; queries count from 1 per repeat."""
    for part in series:
        for query, latency_us in enumerate(part.samples_us, start=1):
            yield (part.subject, part.repeat, query, latency_us)


def latency_document(*, run: Run, series: list[LatencySeries]) -> dict[str, Any]:
    """The rows of the CSV download as one JSON document."""
    return {
        "run_id": run.pk,
        "unit": "us",
        "columns": list(LATENCY_COLUMNS),
        "note": (
            "repeat counts the fresh servers from 1 (null where the result does not delimit its repeats); "
            "query counts the timed queries from 1 within a repeat, in issue order"
        ),
        "rows": [list(row) for row in latency_rows(series=series)],
    }


# ---------------------------------------------------------------------------------------
# The runners page: runners of each hardware class and the runs waiting for them


@dataclass
class HardwareClassRunners:
    """What the runners page says about one hardware class."""

    hardware_class: HardwareClass
    queued_runs: int
    # Runners that reported within the last MISSED_HEARTBEATS intervals.
    recent: list[RunnerStatus] = field(default_factory=list)
    # Runners that reported once but not recently.
    gone: list[RunnerStatus] = field(default_factory=list)
    can_start: bool = False
    # Why no run can start now (None when one can), in words an operator can act on.
    reason: str | None = None
    start_command: str = ""
    # Jobs waiting in the class's broker queue (None: the broker could not say; see queue_note).
    queue_length: int | None = None
    queue_note: str = ""
    # The latest run a runner of the class took that the viewer may see; None: none yet.
    last_run: Run | None = None


@dataclass(frozen=True)
class QueueLength:
    length: int | None
    note: str  # why the length is unknown; "" when known


def broker_queue_lengths(*, queues: list[str]) -> dict[str, QueueLength]:
    """Messages waiting in each queue, as the broker counts them (RabbitMQ, Redis and the
    filesystem transport can); unknown, with the reason, where it cannot say or does not answer."""
    from footprint.celery import app

    lengths: dict[str, QueueLength] = {}
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            for queue in queues:
                channel = connection.channel()
                try:
                    declared = channel.queue_declare(queue=queue, passive=True)
                    lengths[queue] = QueueLength(int(declared.message_count), "")
                except Exception as exc:  # noqa: BLE001 - NOT_FOUND, or a transport that cannot count
                    lengths[queue] = QueueLength(None, f"the broker does not count this queue ({exc})")
                finally:
                    try:
                        channel.close()
                    except Exception:  # noqa: BLE001, S110 - a channel the error closed already
                        pass
    except Exception as exc:  # noqa: BLE001 - a broker that does not answer: the page still serves
        note = f"the broker did not answer ({exc})"
        return {queue: QueueLength(None, note) for queue in queues}
    return lengths


def _ago(moment: datetime, now: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def runner_overview(
    *,
    now: datetime | None = None,
    viewer: AbstractBaseUser | AnonymousUser | None = None,
    queue_lengths: bool = False,
) -> list[HardwareClassRunners]:
    """Per active hardware class: which runners reported recently, why none can start, the
    latest run a runner of the class took and each runner's last job (`status.last_run`), both
    only when `viewer` may see them, and (`queue_lengths`) the broker's count.

    Four queries whatever the number of classes and runners.
    """
    now = now or timezone.now()
    recent_after = runners_reported_after(now=now)
    classes = list(
        HardwareClass.objects.filter(active=True).annotate(queued_runs=Count("runs", filter=Q(runs__state=Run.QUEUED)))
    )
    visible = submissions_visible_to(user=viewer or AnonymousUser())
    last_ids = (
        Run.objects.filter(hardware_class=OuterRef("pk"), submission__in=visible.values("pk"))
        .exclude(state=Run.QUEUED)
        .order_by("-updated", "-id")
        .values("pk")[:1]
    )
    last_runs = {
        run.hardware_class_id: run
        for run in Run.objects.filter(
            pk__in=HardwareClass.objects.filter(pk__in=[c.pk for c in classes])
            .annotate(last=Subquery(last_ids))
            .values("last")
        ).select_related("submission")
    }
    last_claim = JobToken.objects.filter(credential__name=OuterRef("runner_id")).order_by("-created", "-id")
    lengths = broker_queue_lengths(queues=[c.queue for c in classes]) if queue_lengths and classes else {}
    statuses: dict[int, list[RunnerStatus]] = {}
    reported = list(
        RunnerStatus.objects.filter(hardware_class__in=classes)
        .annotate(last_run_id=Subquery(last_claim.values("run_id")[:1]))
        .order_by("-last_seen")
    )
    runners_last = Run.objects.filter(
        pk__in=[s.last_run_id for s in reported if s.last_run_id], submission__in=visible.values("pk")
    ).select_related("submission")
    last_by_id = {run.pk: run for run in runners_last} if any(s.last_run_id for s in reported) else {}
    for status in reported:
        # A private run is not named (nor its id): only that the runner ran something.
        status.last_run = last_by_id.get(status.last_run_id)
        status.last_run_hidden = status.last_run_id is not None and status.last_run is None
        statuses.setdefault(status.hardware_class_id, []).append(status)

    # Which machine is an operator's business: others read "a runner" (docs/security.md).
    staff = bool(getattr(viewer, "is_staff", False))

    def where(status: RunnerStatus) -> str:
        return f"the runner on {status.host}" if staff else "its runner"

    overview = []
    for hardware_class in classes:
        reported = statuses.get(hardware_class.pk, [])
        entry = HardwareClassRunners(
            hardware_class=hardware_class,
            queued_runs=hardware_class.queued_runs,
            recent=[s for s in reported if s.last_seen >= recent_after],
            gone=[s for s in reported if s.last_seen < recent_after],
            start_command=runner_start_command(hardware_class),
            last_run=last_runs.get(hardware_class.pk),
        )
        if hardware_class.queue in lengths:
            entry.queue_length = lengths[hardware_class.queue].length
            entry.queue_note = lengths[hardware_class.queue].note
        ready = [s for s in entry.recent if s.state != RunnerStatus.State.UNAVAILABLE and s.docker_ok]
        if ready:
            entry.can_start = True
        elif entry.recent:
            latest = entry.recent[0]
            entry.reason = (
                f"{where(latest)} cannot run jobs: {latest.detail or 'it reported itself unavailable without a reason'}"
            )
        elif entry.gone:
            latest = entry.gone[0]
            entry.reason = (
                f"no runner has reported in the last {MISSED_HEARTBEATS * settings.FOOTPRINT_RUNNER_HEARTBEAT_S} s; "
                f"the last one ({where(latest).removeprefix('the runner ')}) reported {_ago(latest.last_seen, now)}"
                f"{': ' + latest.detail if latest.detail else ''}. "
                f"Start one with: {entry.start_command}"
            )
        else:
            entry.reason = f"no runner has reported; start one with: {entry.start_command}"
        overview.append(entry)
    return overview


def pending_runs(*, benchmark: Any, hardware_class: HardwareClass) -> int:
    """Runs of `benchmark` queued or running on `hardware_class`: results on their way."""
    return Run.objects.filter(
        submission__benchmark=benchmark, hardware_class=hardware_class, state__in=Run.ACTIVE_STATES
    ).count()
