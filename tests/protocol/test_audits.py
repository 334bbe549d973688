"""The caching probe and offline throughput, through real servers (plain processes)."""

from __future__ import annotations

import numpy as np
import pytest

from runners.harness import HarnessError, measure_throughput, probe_caching

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

BATCH_COUNTING_SERVER = """
    import numpy as np, footprint_sdk
    footprint_sdk.serve(lambda batch: np.full(len(batch), len(batch), dtype=np.int64))
"""


def inputs(n: int) -> np.ndarray:
    return np.random.default_rng(0).random((n, 1, 2, 2), dtype=np.float32)


def test_the_probe_sees_a_server_that_remembers_inputs(start_server) -> None:
    x = inputs(8)
    client = start_server(script=CACHING_SERVER).connect()
    for i in range(len(x)):  # as the timed run would: every test input is already known
        client.predict(x[i : i + 1])
    probe = probe_caching(client, x, queries=16)
    client.shutdown()
    assert probe.queries == 16
    assert probe.fresh_p50_us > 1500  # nudged inputs are new to the cache
    assert probe.ratio < 0.5 and probe.cache_suspected


def test_the_probe_clears_a_server_that_computes_every_reply(start_server) -> None:
    # ~300 us of work per reply, like a small model: scheduler noise of a few tens of
    # microseconds (a loaded CI machine) must not read as a cache.
    client = start_server(script=COMPUTING_SERVER).connect()
    probe = probe_caching(client, inputs(8), queries=64)
    client.shutdown()
    assert 0.5 < probe.ratio < 2.0
    assert not probe.cache_suspected


def test_throughput_sends_full_batches_until_both_minimums_are_met(start_server) -> None:
    client = start_server(script=BATCH_COUNTING_SERVER).connect()
    result = measure_throughput(client, inputs(10), batch_size=25, min_duration_s=0.05, min_batches=8)
    reply = client.predict(inputs(10)[:3])
    client.shutdown()
    assert result.batch_size == 25
    assert result.batches >= 8 and result.duration_s >= 0.05
    assert result.samples_per_s == result.batches * 25 / result.duration_s
    assert reply.tolist() == [3, 3, 3]


def test_throughput_refuses_a_reply_with_fewer_answers_than_inputs(start_server) -> None:
    lazy = """
    import numpy as np, footprint_sdk
    footprint_sdk.serve(lambda batch: np.zeros(1, dtype=np.int64))
"""
    client = start_server(script=lazy).connect()
    with pytest.raises(HarnessError) as caught:
        measure_throughput(client, inputs(10), batch_size=4, min_duration_s=0.0, min_batches=4, num_classes=10)
    client.shutdown()
    assert caught.value.code == "serve_bad_reply"
