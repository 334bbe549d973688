"""Accuracy over a whole split and timed queries, measured through real servers."""

from __future__ import annotations

import numpy as np
import pytest

from runners.harness import HarnessError, measure_accuracy, time_queries, untimed
from runners.stats import latency_percentile_us

from .conftest import NULL_SERVER

# Scores are the inputs themselves: the predicted class is the hottest of four pixels.
ARGMAX_SERVER = """
    import footprint_sdk
    footprint_sdk.serve(lambda batch: batch.reshape(len(batch), -1))
"""


def toy_split(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 2, 2), dtype=np.float32)
    return x, x.reshape(n, -1).argmax(axis=1)


def test_it_measures_accuracy_over_every_sample_in_uneven_batches(start_server) -> None:
    x, y = toy_split(103)
    y_wrong = y.copy()
    y_wrong[::4] = (y_wrong[::4] + 1) % 4  # 26 of 103 labels the server cannot match
    client = start_server(script=ARGMAX_SERVER).connect()
    result = measure_accuracy(client, x, y_wrong, batch_size=10, num_classes=4)
    assert result.predictions.tolist() == y.tolist()
    assert result.accuracy == pytest.approx(77 / 103)
    client.shutdown()


def test_it_fails_the_accuracy_run_on_a_reply_of_the_wrong_shape(start_server) -> None:
    x, y = toy_split(8)
    client = start_server(script=ARGMAX_SERVER).connect()
    with pytest.raises(HarnessError) as caught:
        measure_accuracy(client, x, y, batch_size=4, num_classes=10)  # the server gives 4 scores
    assert caught.value.code == "serve_bad_reply"
    assert "scores of shape [4, 10]" in caught.value.reason and "got shape [4, 4]" in caught.value.reason


def test_it_times_every_query_of_the_null_server(start_server) -> None:
    x, _ = toy_split(16)
    client = start_server(argv=[str(NULL_SERVER)]).connect()
    untimed(client, [x[i : i + 1] for i in range(4)], num_classes=4)
    timed = time_queries(client, [x[i : i + 1] for i in range(16)], num_classes=4)
    client.shutdown()
    assert timed.ns.shape == (16,) and timed.predictions.shape == (16, 1)
    assert (timed.ns > 0).all()
    assert timed.predictions[:, 0].tolist() == [0] * 16  # the null server answers class 0


def test_timed_replies_are_reduced_to_their_predictions(start_server) -> None:
    x, y = toy_split(37)
    client = start_server(script=ARGMAX_SERVER).connect()
    accuracy = measure_accuracy(client, x, y, batch_size=8, num_classes=4)
    order = np.random.default_rng(5).permutation(37)
    timed = time_queries(client, [x[i : i + 1] for i in order], num_classes=4)
    client.shutdown()
    assert timed.predictions.dtype == np.int64
    assert timed.predictions[:, 0].tolist() == accuracy.predictions[order].tolist()


def test_it_times_whole_batches_for_offline_throughput(start_server) -> None:
    x, y = toy_split(40)
    client = start_server(script=ARGMAX_SERVER).connect()
    batches = [x[k * 10 : (k + 1) * 10] for k in range(4)]
    timed = time_queries(client, batches, num_classes=4)
    client.shutdown()
    assert timed.predictions.shape == (4, 10)
    assert timed.predictions.reshape(-1).tolist() == y.tolist()


def test_a_batch_answered_with_fewer_answers_than_inputs_fails(start_server) -> None:
    lazy = """
    import numpy as np, footprint_sdk
    footprint_sdk.serve(lambda batch: np.zeros(1, dtype=np.int64))
"""
    x, _ = toy_split(8)
    client = start_server(script=lazy).connect()
    with pytest.raises(HarnessError) as caught:
        time_queries(client, [x[:4], x[4:]], num_classes=4)
    client.close()
    assert caught.value.code == "serve_bad_reply"


def test_it_takes_percentiles_by_the_loadgen_rule() -> None:
    sorted_us = np.arange(1, 101, dtype=np.float64)
    assert latency_percentile_us(sorted_us, 50) == 51  # index floor(100 * 0.5)
    assert latency_percentile_us(sorted_us, 99) == 100
    assert latency_percentile_us(np.arange(7.0), 10) == 0  # index floor(0.7), no interpolation
    assert latency_percentile_us(np.array([42.0]), 99) == 42
