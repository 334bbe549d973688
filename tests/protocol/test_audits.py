"""The caching probe's sequence through real servers (plain processes), and the audits' verdicts."""

from __future__ import annotations

import numpy as np

from runners import audits, schedule
from runners.harness import time_queries

CACHING_SERVER = """
    import time, numpy as np, footprint_sdk
    seen = {}
    def predict(batch):
        key = batch.tobytes()
        if key not in seen:
            time.sleep(0.002)
            seen[key] = np.zeros(len(batch), dtype=np.int64)
        return seen[key]
    footprint_sdk.serve(predict)
"""

COMPUTING_SERVER = """
    import time, numpy as np, footprint_sdk
    def predict(batch):
        until = time.perf_counter() + 0.0003
        while time.perf_counter() < until:
            pass
        return np.zeros(len(batch), dtype=np.int64)
    footprint_sdk.serve(predict)
"""


def inputs(n: int) -> np.ndarray:
    return np.random.default_rng(0).random((n, 1, 2, 2), dtype=np.float32)


def probe(client, x: np.ndarray, *, repeated: int, fresh: np.ndarray) -> tuple[float, np.ndarray]:
    indices, kinds = schedule.probe_sequence(np.random.default_rng(1), repeated, fresh)
    timed = time_queries(client, [x[i : i + 1] for i in indices], num_classes=10)
    kinds_array = np.asarray(kinds)
    ratio = float(np.median(timed.ns[kinds_array])) / float(np.median(timed.ns[~kinds_array]))
    return ratio, timed.predictions[:, 0]


def test_the_probe_sees_a_server_that_remembers_inputs(start_server) -> None:
    x = inputs(40)
    client = start_server(script=CACHING_SERVER).connect()
    time_queries(client, [x[0:1]], num_classes=10)  # the repeated input was timed once before
    ratio, _ = probe(client, x, repeated=0, fresh=np.arange(1, 33))
    client.shutdown()
    assert ratio < 0.5
    assert audits.caching_audit(ratio, repeated_p50_us=1.0, fresh_p50_us=2000.0).failed


def test_the_probe_clears_a_server_that_computes_every_reply(start_server) -> None:
    # ~300 us of work per reply, like a small model: scheduler noise of a few tens of
    # microseconds (a loaded CI machine) must not read as a cache.
    x = inputs(80)
    client = start_server(script=COMPUTING_SERVER).connect()
    time_queries(client, [x[0:1]], num_classes=10)
    ratio, predictions = probe(client, x, repeated=0, fresh=np.arange(1, 65))
    client.shutdown()
    assert 0.5 < ratio < 2.0
    assert not audits.caching_audit(ratio, repeated_p50_us=300.0, fresh_p50_us=300.0).failed
    assert predictions.tolist() == [0] * 128


def test_a_mismatch_rate_above_the_tolerance_fails_its_audit_and_says_so() -> None:
    failed = audits.predictions_audit(audits.TIMED_PREDICTIONS, what="timed replies", mismatches=90, checked=100)
    assert failed.failed and failed.value == 0.9 and failed.figure == "prediction_mismatch_rate"
    assert "90 of 100 timed replies (90 %) differ" in failed.sentence
    near_tie = audits.predictions_audit(audits.TIMED_PREDICTIONS, what="timed replies", mismatches=1, checked=2000)
    assert near_tie.verdict == "passed"
    # One flipped near-tie among the probe's 128 replies is 0.78 %, over the rate, and
    # honest: a server flipping at 0.1 % shows it 12 % of the time. Three it shows 0.03 %.
    probe = audits.predictions_audit(audits.PROBE_PREDICTIONS, what="caching-probe replies", mismatches=1, checked=128)
    assert probe.verdict == "passed" and "at most 2 of 128 may" in probe.sentence
    dodged = audits.predictions_audit(audits.PROBE_PREDICTIONS, what="caching-probe replies", mismatches=3, checked=128)
    assert dodged.failed and "3 of 128 caching-probe replies" in dodged.sentence
    assert audits.predictions_audit(audits.TIMED_PREDICTIONS, what="timed replies", mismatches=6, checked=1024).failed
    unchecked = audits.predictions_audit(audits.OFFLINE_PREDICTIONS, what="offline replies", mismatches=0, checked=0)
    assert unchecked.verdict == "not_run"


def test_failed_audits_carry_the_flags_older_readers_know() -> None:
    found = [
        audits.predictions_audit(audits.TIMED_PREDICTIONS, what="timed replies", mismatches=5, checked=10),
        audits.caching_audit(0.3, repeated_p50_us=3.0, fresh_p50_us=10.0),
        audits.predictions_audit(audits.OFFLINE_PREDICTIONS, what="offline replies", mismatches=9, checked=10),
    ]
    assert audits.flags_of(found) == ["cache_suspected", "predictions_differ"]


def test_mismatches_are_counted_against_the_same_inputs_accuracy_predictions() -> None:
    expected = np.array([0, 1, 2, 3, 4])
    assert audits.count_mismatches(np.array([3, 1, 4]), np.array([3, 1, 2]), expected) == 1
