"""Single-stream latency, interleaved: the null server, the reference and the submission are up
at once on the same CPUs, each timed in short blocks of the same inputs while the others are
frozen, so that whatever the host does meanwhile hits all of them alike.

A round is one fresh process per server. In it each server is warmed up on training inputs,
then the blocks run: for each block of test inputs (drawn without replacement in an order
only the runner knows), every server in a fresh random order is thawed, sent two untimed
bridge queries (training inputs: caches refilled after the other servers ran), timed on the
block, and frozen again. The first round then runs the caching probe on test inputs that no
server of the round has seen, and the accuracy pass, whose predictions every timed reply is
checked against. Rounds continue until `repeats`, the query count and the duration are all
reached (docs/measurement.md, "Single-stream latency").
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from runners import harness, schedule
from runners.footprint_figures import footprint_figures
from runners.meters import energy as energy_meters
from runners.result import CANCELLED, JobFailure, ResultDocument
from runners.sandbox.docker import DockerSandbox
from runners.servers import NULL, REFERENCE, SUBJECTS, SUBMISSION, Server, ServerFailed, Session, finish_all
from runners.spec import JobSpec
from runners.stage import Staged

BRIDGE_QUERIES = 2
# The platform allows 20 repeats; a benchmark whose minimum query count needs more rounds
# than this gets what this many give (the provenance says so).
MAX_ROUNDS = 32


@dataclass
class Probe:
    repeated_index: int
    repeated_ns: np.ndarray
    fresh_indices: np.ndarray
    fresh_ns: np.ndarray
    repeated_predictions: np.ndarray
    fresh_predictions: np.ndarray

    @property
    def repeated_p50_us(self) -> float:
        return float(np.median(self.repeated_ns)) / 1000.0

    @property
    def fresh_p50_us(self) -> float:
        return float(np.median(self.fresh_ns)) / 1000.0

    @property
    def ratio(self) -> float:
        """repeated / fresh median latency: about 1 for a server that computes every reply."""
        return self.repeated_p50_us / self.fresh_p50_us


@dataclass
class SubjectTiming:
    """What one server's timed blocks gave, over every round (blocks in the order they ran)."""

    blocks_ns: list[np.ndarray] = field(default_factory=list)
    block_inputs: list[np.ndarray] = field(default_factory=list)
    block_predictions: list[np.ndarray] = field(default_factory=list)
    block_rounds: list[int] = field(default_factory=list)
    round_spans: list[energy_meters.Span] = field(default_factory=list)
    round_queries: list[int] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)
    warmup_queries: list[int] = field(default_factory=list)

    def samples_ns(self) -> np.ndarray:
        return np.concatenate(self.blocks_ns) if self.blocks_ns else np.empty(0, dtype=np.int64)

    def round_samples_ns(self, index: int) -> np.ndarray:
        return np.concatenate([b for b, r in zip(self.blocks_ns, self.block_rounds, strict=True) if r == index])

    def timed_s(self) -> float:
        return float(sum(int(b.sum()) for b in self.blocks_ns)) / 1e9


@dataclass
class SingleStream:
    timings: dict[str, SubjectTiming]
    accuracy: dict[str, harness.AccuracyResult]
    probes: dict[str, Probe]
    rounds: int
    block_queries: int
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    spec: JobSpec
    sandbox: DockerSandbox
    staged: Staged
    doc: ResultDocument
    energy: energy_meters.JobEnergy
    servers: dict[str, Server]
    rng: np.random.Generator  # the job's secret
    stop: Callable[[], str | None] = lambda: None  # a cancel's reason once one was asked

    def check_stop(self, phase: str = "measuring") -> None:
        reason = self.stop()
        if reason:
            raise JobFailure(phase, CANCELLED, reason)


def measure_single_stream(ctx: Context) -> SingleStream:
    settings = ctx.spec.measurement
    result = SingleStream(
        timings={s: SubjectTiming() for s in SUBJECTS}, accuracy={}, probes={}, rounds=0, block_queries=0
    )
    ids = harness.RequestIds(np.random.default_rng(ctx.rng.integers(0, 2**63)))
    queries_done = 0
    seconds_done = 0.0
    while result.rounds < MAX_ROUNDS:
        rounds_left = max(settings.repeats - result.rounds, 1)
        want_queries = math.ceil(schedule.round_share(settings.min_queries, queries_done, rounds_left))
        want_seconds = schedule.round_share(settings.min_duration_s, seconds_done, rounds_left)
        plan = schedule.plan_round(
            ctx.rng,
            index=result.rounds,
            test_count=len(ctx.staged.test_x),
            block_queries=settings.block_queries,
            with_probe=result.rounds == 0,
        )
        result.block_queries = plan.block_queries
        _round(ctx, plan, result, ids, want_queries=want_queries, want_seconds=want_seconds)
        result.rounds += 1
        queries_done = min(sum(result.timings[s].round_queries) for s in (REFERENCE, SUBMISSION))
        seconds_done = min(result.timings[s].timed_s() for s in (REFERENCE, SUBMISSION))
        if result.rounds >= settings.repeats and queries_done >= settings.min_queries:
            if seconds_done >= settings.min_duration_s:
                break
    else:
        result.notes.append(
            f"stopped after {MAX_ROUNDS} rounds with {queries_done} queries and {seconds_done:.3f} s per server "
            f"(asked: {settings.min_queries} queries, {settings.min_duration_s:g} s)"
        )
    return result


def _round(
    ctx: Context,
    plan: schedule.Round,
    result: SingleStream,
    ids: harness.RequestIds,
    *,
    want_queries: int,
    want_seconds: float,
) -> None:
    spec, staged, doc = ctx.spec, ctx.staged, ctx.doc
    num_classes = spec.benchmark.task.num_classes
    x = staged.test_x
    warm = [staged.warmup_x[i : i + 1] for i in range(len(staged.warmup_x))]
    sessions: dict[str, Session] = {}
    with contextlib.ExitStack() as stack:
        try:
            for subject in SUBJECTS:
                sessions[subject] = stack.enter_context(
                    Session.start(spec, ctx.sandbox, staged, ctx.servers[subject], tag=f"r{plan.index}", stop=ctx.stop)
                )
            for session in sessions.values():
                session.connect(ids)
                if plan.index == 0:
                    _describe_server(doc, session, own=spec.submission.own_runtime)
                session.freeze()
            for subject in _shuffled(ctx.rng, SUBJECTS):
                session = sessions[subject]
                session.thaw()
                done = session.call(_warm_up, warm, spec=spec, rng=ctx.rng)
                result.timings[subject].warmup_queries.append(done)
                session.freeze()

            spans: dict[str, list[energy_meters.Span]] = {s: [] for s in SUBJECTS}
            wanted_blocks = schedule.blocks_wanted(queries_wanted=want_queries, block_queries=plan.block_queries)
            k = -1
            for k in range(plan.blocks):
                ctx.check_stop()
                inputs_index = plan.block(k)
                block = [x[i : i + 1] for i in inputs_index]
                for subject in _shuffled(ctx.rng, SUBJECTS):
                    session, timing = sessions[subject], result.timings[subject]
                    session.thaw()
                    bridge = [warm[int(i)] for i in schedule.warmup_indices(ctx.rng, len(warm), BRIDGE_QUERIES)]
                    session.call(harness.untimed, bridge, num_classes=num_classes)
                    with ctx.energy.window(session.cpu_time_s) as span:
                        timed = session.call(harness.time_queries, block, num_classes=num_classes)
                    session.freeze()
                    spans[subject].append(span)
                    timing.blocks_ns.append(timed.ns)
                    timing.block_inputs.append(inputs_index)
                    timing.block_predictions.append(timed.predictions[:, 0])
                    timing.block_rounds.append(plan.index)
                if k + 1 >= wanted_blocks:
                    round_seconds = min(
                        sum(int(b.sum()) for b in result.timings[s].blocks_ns[-(k + 1) :]) / 1e9
                        for s in (REFERENCE, SUBMISSION)
                    )
                    if round_seconds >= want_seconds:
                        break
            blocks_run = k + 1 if plan.blocks else 0

            if plan.index == 0:
                for subject in (REFERENCE, SUBMISSION):
                    session = sessions[subject]
                    session.thaw()
                    if len(plan.probe_fresh):
                        result.probes[subject] = session.call(
                            _probe, x, repeated=int(plan.order[0]), fresh=plan.probe_fresh, rng=ctx.rng, spec=spec
                        )
                    accuracy = session.call(
                        harness.measure_accuracy,
                        x,
                        staged.test_y,
                        batch_size=spec.measurement.accuracy_batch_size,
                        num_classes=num_classes,
                    )
                    result.accuracy[subject] = accuracy
                    doc.figure(subject, "accuracy", accuracy.accuracy, "fraction")
                    session.freeze()
            for subject, session in sessions.items():
                timing = result.timings[subject]
                timing.round_queries.append(blocks_run * plan.block_queries)
                peak = session.peak_memory_bytes()
                if peak is not None:
                    timing.peaks.append(peak)
                total = energy_meters.span_sum(spans[subject])
                if total is not None:
                    timing.round_spans.append(total)
                    ctx.energy.record("serve", subject, total, queries=blocks_run * plan.block_queries)
        except ServerFailed as failed:
            finish_all(list(sessions.values()), doc, failed=failed)
            raise AssertionError("finish_all raises the failure") from failed
        finish_all(list(sessions.values()), doc)
        for subject, session in sessions.items():
            record = session.record_phase(doc)
            if plan.index == 0:
                doc.phases[f"serve_{subject}"] = record
            else:
                doc.provenance.setdefault("serve_repeats", {}).setdefault(subject, []).append(record)


def _shuffled(rng: np.random.Generator, subjects: tuple[str, ...]) -> list[str]:
    return [subjects[i] for i in rng.permutation(len(subjects))]


def _warm_up(client: harness.ServeClient, warm: list[np.ndarray], *, spec: JobSpec, rng: np.random.Generator) -> int:
    """Untimed queries of training inputs until both the count and the duration are reached."""
    settings, num_classes = spec.measurement, spec.benchmark.task.num_classes
    order = schedule.warmup_indices(rng, len(warm), max(settings.warmup_queries, 1))
    done = 0
    start = time.monotonic()
    while done < settings.warmup_queries or time.monotonic() - start < settings.warmup_s:
        batch = warm[int(order[done % len(order)])]
        harness.predictions_from_reply(client.predict(batch, num_classes=num_classes), 1, num_classes)
        done += 1
    return done


def _probe(
    client: harness.ServeClient,
    x: np.ndarray,
    *,
    repeated: int,
    fresh: np.ndarray,
    rng: np.random.Generator,
    spec: JobSpec,
) -> Probe:
    """One test input timed once already, sent again and again, interleaved with test inputs
    nobody in this round has seen: only a server that remembers inputs answers the former
    faster. Every reply is kept as a prediction, checked against the accuracy pass later."""
    indices, kinds = schedule.probe_sequence(rng, repeated, fresh)
    timed = harness.time_queries(client, [x[i : i + 1] for i in indices], num_classes=spec.benchmark.task.num_classes)
    kinds_array = np.asarray(kinds)
    return Probe(
        repeated_index=repeated,
        repeated_ns=timed.ns[kinds_array],
        fresh_indices=np.asarray(indices)[~kinds_array],
        fresh_ns=timed.ns[~kinds_array],
        repeated_predictions=timed.predictions[kinds_array, 0],
        fresh_predictions=timed.predictions[~kinds_array, 0],
    )


def _describe_server(doc: ResultDocument, session: Session, *, own: bool) -> None:
    """The runtime's own words for what it is (name, library versions, device), and its
    footprint figures, from the ready frame of the first round."""
    assert session.client is not None
    info = session.client.ready_info
    server_info = info.get("server")
    doc.provenance.setdefault("channels", {})[session.subject] = session.client.channel
    doc.provenance.setdefault("runtimes", {})[session.subject] = (
        server_info[:200] if isinstance(server_info, str) else None
    )
    if session.subject != NULL:
        footprint_figures(doc, session.subject, info.get("footprint"), own=own and session.subject == SUBMISSION)
