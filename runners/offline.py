"""Offline throughput at the largest batch size method.json declares that works, interleaved.

For a batch size, the submission's and the reference's servers are up at once; each is warmed
up on training inputs, then timed batch by batch, the other frozen, on the same batches of
distinct test inputs (each input at most once per process, so that no batch can have been
answered before). Every reply is reduced to its predictions and checked against the accuracy
pass: a server cannot answer a batch with less work than the batch asks for. A size that
fails for the submission (out of memory, an error, a dead server) is recorded and the next
smaller one tried, in fresh containers; none fails the run: the latency figures stand alone.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from runners import harness, schedule
from runners.meters import energy as energy_meters
from runners.result import CANCELLED, JobFailure, ResultDocument, phase_record
from runners.servers import REFERENCE, SUBMISSION, ServerFailed, Session, finish_all
from runners.single_stream import Context

# Bounds on method.json's batch_sizes: each is tried in fresh containers.
MAX_DECLARED_BATCH_SIZES = 8
MAX_BATCH_SIZE = 65536
WARMUP_BATCHES = 2
OFFLINE_SUBJECTS = (SUBMISSION, REFERENCE)


@dataclass
class Offline:
    batch_size: int | None = None
    samples_per_s: dict[str, float] = field(default_factory=dict)
    mismatches: int = 0
    checked: int = 0
    spans: dict[str, energy_meters.Span] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)


def declared_batch_sizes(doc: ResultDocument) -> list[int]:
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


def measure_offline(ctx: Context, batch_sizes: list[int], expected: np.ndarray) -> Offline | None:
    """Throughput at the first size of `batch_sizes` that works; None when none does."""
    notes: dict[str, Any] = {"batch_sizes_declared": batch_sizes, "attempts": []}
    ctx.doc.provenance["throughput"] = notes
    test_count = len(ctx.staged.test_x)
    for size in batch_sizes:
        if size > test_count:
            notes["attempts"].append(
                {
                    "batch_size": size,
                    "failure": f"larger than the test split ({test_count} inputs): a batch would repeat inputs",
                }
            )
            continue
        attempt: dict[str, Any] = {"batch_size": size}
        notes["attempts"].append(attempt)
        try:
            offline = _measure_size(ctx, size, expected, attempt)
        except JobFailure as failure:
            if failure.code == CANCELLED:
                raise
            attempt["failure"] = failure.reason
            continue
        notes["batch_size"] = size
        attempt.update(
            samples_per_s={s: round(v, 3) for s, v in offline.samples_per_s.items()},
            samples=offline.samples,
            prediction_mismatches=offline.mismatches,
        )
        return offline
    notes["submission"] = "no declared batch size could be served: see attempts"
    return None


def _measure_size(ctx: Context, size: int, expected: np.ndarray, attempt: dict[str, Any]) -> Offline:
    spec, staged, doc = ctx.spec, ctx.staged, ctx.doc
    num_classes = spec.benchmark.task.num_classes
    x = staged.test_x
    # Warm-up batches of training inputs (repeated when the pool is smaller than a batch).
    pool = len(staged.warmup_x)
    warm_pool = np.concatenate([staged.warmup_x] * (2 + size // pool))
    warm = [np.ascontiguousarray(warm_pool[k * pool // WARMUP_BATCHES :][:size]) for k in range(WARMUP_BATCHES)]
    ids = harness.RequestIds(np.random.default_rng(ctx.rng.integers(0, 2**63)))
    offline = Offline(batch_size=size)
    rounds = max(1, spec.measurement.repeats)
    timed_ns = {s: 0 for s in OFFLINE_SUBJECTS}
    samples = {s: 0 for s in OFFLINE_SUBJECTS}
    spans: dict[str, list[energy_meters.Span]] = {s: [] for s in OFFLINE_SUBJECTS}
    phases: dict[str, list[dict]] = {s: [] for s in OFFLINE_SUBJECTS}
    for index in range(rounds):
        sessions: dict[str, Session] = {}
        with contextlib.ExitStack() as stack:
            try:
                for subject in OFFLINE_SUBJECTS:
                    sessions[subject] = stack.enter_context(
                        Session.start(
                            spec,
                            ctx.sandbox,
                            staged,
                            ctx.servers[subject],
                            tag=f"offline-{size}-{index}",
                            stop=ctx.stop,
                        )
                    )
                for session in sessions.values():
                    session.connect(ids)
                    session.freeze()
                for subject in OFFLINE_SUBJECTS:
                    session = sessions[subject]
                    session.thaw()
                    session.call(harness.untimed, warm, num_classes=num_classes)
                    session.freeze()
                for batch_index in schedule.offline_batches(ctx.rng, test_count=len(x), batch_size=size):
                    ctx.check_stop()
                    batch = np.ascontiguousarray(x[batch_index])
                    for k in ctx.rng.permutation(len(OFFLINE_SUBJECTS)):
                        subject = OFFLINE_SUBJECTS[int(k)]
                        session = sessions[subject]
                        session.thaw()
                        with ctx.energy.window(session.cpu_time_s) as span:
                            timed = session.call(harness.time_queries, [batch], num_classes=num_classes)
                        session.freeze()
                        spans[subject].append(span)
                        timed_ns[subject] += int(timed.ns.sum())
                        samples[subject] += size
                        if subject == SUBMISSION:
                            offline.mismatches += int(np.count_nonzero(timed.predictions[0] != expected[batch_index]))
                            offline.checked += size
            except ServerFailed as failed:
                try:
                    finish_all(list(sessions.values()), doc, failed=failed)
                finally:
                    _record(attempt, sessions, phases)
                raise AssertionError("finish_all raises the failure") from failed
            try:
                finish_all(list(sessions.values()), doc)
            finally:
                _record(attempt, sessions, phases)
    offline.samples_per_s = {s: samples[s] / (timed_ns[s] / 1e9) for s in OFFLINE_SUBJECTS if timed_ns[s] > 0}
    offline.samples = samples
    for subject in OFFLINE_SUBJECTS:
        total = energy_meters.span_sum(spans[subject])
        if total is not None:
            offline.spans[subject] = total
            ctx.energy.record("offline", subject, total, samples=samples[subject])
    return offline


def _record(attempt: dict[str, Any], sessions: dict[str, Session], phases: dict[str, list[dict]]) -> None:
    for subject, session in sessions.items():
        if session.outcome is not None:
            phases[subject].append(phase_record(session.outcome))
    attempt["phases"] = phases
