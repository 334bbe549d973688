"""Accuracy over a whole split and single-stream latency, measured through real servers."""

from __future__ import annotations

import numpy as np
import pytest

from runners.harness import HarnessError, latency_percentile_us, measure_accuracy, measure_latency

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


def test_it_measures_single_stream_latency_of_the_null_server(start_server) -> None:
    x, _ = toy_split(16)
    client = start_server(argv=[str(NULL_SERVER)]).connect()
    result = measure_latency(client, x, warmup_queries=20, warmup_s=0.05, min_queries=200, min_duration_s=0.1, seed=3)
    client.shutdown()
    assert result.warmup_queries >= 20
    assert result.queries >= 200
    assert result.duration_s >= 0.1
    assert len(result.samples_us) == result.queries
    assert 0 < min(result.samples_us)
    assert result.p50_us <= result.p90_us <= result.p99_us <= max(result.samples_us)
    assert min(result.samples_us) <= result.mean_us <= max(result.samples_us)
    assert result.prediction_mismatches is None


def test_it_stops_after_the_minimum_query_count_when_the_duration_is_reached(start_server) -> None:
    x, _ = toy_split(4)
    client = start_server(argv=[str(NULL_SERVER)]).connect()
    result = measure_latency(client, x, warmup_queries=3, warmup_s=0, min_queries=7, min_duration_s=0, seed=0)
    assert (result.warmup_queries, result.queries) == (3, 7)


def test_it_checks_timed_replies_against_the_accuracy_run(start_server) -> None:
    x, y = toy_split(37)
    client = start_server(script=ARGMAX_SERVER).connect()
    accuracy = measure_accuracy(client, x, y, batch_size=8, num_classes=4)
    kwargs = dict(warmup_queries=11, warmup_s=0, min_queries=100, min_duration_s=0, seed=5, num_classes=4)
    same = measure_latency(client, x, expected_predictions=accuracy.predictions, **kwargs)
    assert same.prediction_mismatches == 0
    shifted = measure_latency(client, x, expected_predictions=(accuracy.predictions + 1) % 4, **kwargs)
    assert shifted.prediction_mismatches == shifted.queries


def test_it_takes_percentiles_by_the_loadgen_rule() -> None:
    sorted_us = np.arange(1, 101, dtype=np.float64)
    assert latency_percentile_us(sorted_us, 50) == 51  # index floor(100 * 0.5)
    assert latency_percentile_us(sorted_us, 99) == 100
    assert latency_percentile_us(np.arange(7.0), 10) == 0  # index floor(0.7), no interpolation
    assert latency_percentile_us(np.array([42.0]), 99) == 42
