"""The `around_timed` hook: only the timed loop runs inside it (an energy meter's window)."""

from __future__ import annotations

import time
from types import TracebackType

import numpy as np
import pytest

from runners import harness
from runners.harness import HarnessError, ServeClient, measure_latency, measure_throughput

from .conftest import NULL_SERVER

FAILING_SERVER = """
    import footprint_sdk, numpy as np
    calls = 0
    def predict(batch):
        global calls
        calls += 1
        if calls > 40:
            raise RuntimeError("worn out")
        return np.zeros(len(batch), dtype=np.int64)
    footprint_sdk.serve(predict)
"""


class Window:
    """Records when it was entered and left, and what it was left with."""

    def __init__(self) -> None:
        self.entered_ns: int | None = None
        self.exited_ns: int | None = None
        self.exc_type: type[BaseException] | None = None

    def __enter__(self) -> Window:
        self.entered_ns = time.perf_counter_ns()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.exited_ns = time.perf_counter_ns()
        self.exc_type = exc_type


class RecordingClient:
    """A ServeClient whose every request is recorded as (start, end) in perf_counter_ns."""

    def __init__(self, client: ServeClient) -> None:
        self.client = client
        self.calls: list[tuple[int, int]] = []
        self.decode_reply = client.decode_reply

    def predict(self, batch: np.ndarray) -> np.ndarray:
        started = time.perf_counter_ns()
        reply = self.client.predict(batch)
        self.calls.append((started, time.perf_counter_ns()))
        return reply

    def exchange(self, payload: bytes) -> tuple[int, bytearray]:
        started = time.perf_counter_ns()
        answer = self.client.exchange(payload)
        self.calls.append((started, time.perf_counter_ns()))
        return answer


def split_calls(calls: list[tuple[int, int]], window: Window) -> tuple[int, int, int]:
    """How many calls ended before the window, lay inside it, started after it."""
    assert window.entered_ns is not None and window.exited_ns is not None
    before = sum(1 for _, end in calls if end < window.entered_ns)
    inside = sum(1 for start, end in calls if window.entered_ns <= start and end <= window.exited_ns)
    after = sum(1 for start, _ in calls if start > window.exited_ns)
    assert before + inside + after == len(calls)  # none straddles an edge
    return before, inside, after


@pytest.fixture
def check_times(monkeypatch) -> list[int]:
    """When the harness checks a reply (predictions_from_reply), in perf_counter_ns."""
    times: list[int] = []
    original = harness.predictions_from_reply

    def recording(*args, **kwargs):
        times.append(time.perf_counter_ns())
        return original(*args, **kwargs)

    monkeypatch.setattr(harness, "predictions_from_reply", recording)
    return times


def test_only_the_timed_queries_of_a_latency_run_happen_inside_the_window(start_server, check_times) -> None:
    client = RecordingClient(start_server(argv=[str(NULL_SERVER)]).connect())
    x = np.zeros((16, 1, 2, 2), np.float32)
    window = Window()
    result = measure_latency(
        client,  # type: ignore[arg-type]
        x,
        warmup_queries=25,
        warmup_s=0.0,
        min_queries=100,
        min_duration_s=0.0,
        seed=0,
        expected_predictions=np.zeros(16, np.int64),
        num_classes=10,
        around_timed=window,
    )
    client.client.shutdown()
    assert split_calls(client.calls, window) == (result.warmup_queries, result.queries, 0)
    assert result.warmup_queries == 25 and result.queries == 100
    assert result.prediction_mismatches == 0
    assert len(check_times) == 100 and min(check_times) > window.exited_ns  # checked after it
    assert window.exc_type is None
    # The window holds the timed queries and little else.
    assert result.duration_s * 1e9 <= window.exited_ns - window.entered_ns


def test_only_the_timed_batches_of_a_throughput_run_happen_inside_the_window(start_server, check_times) -> None:
    client = RecordingClient(start_server(argv=[str(NULL_SERVER)]).connect())
    x = np.zeros((16, 1, 2, 2), np.float32)
    window = Window()
    result = measure_throughput(
        client,  # type: ignore[arg-type]
        x,
        batch_size=4,
        min_duration_s=0.0,
        min_batches=30,
        warmup_batches=3,
        num_classes=10,
        around_timed=window,
    )
    client.client.shutdown()
    assert split_calls(client.calls, window) == (3, result.batches, 0)
    assert result.batches == 30
    assert len(check_times) == 30 and min(check_times) > window.exited_ns
    assert window.exc_type is None


def test_the_window_is_left_when_the_server_fails_inside_it(start_server) -> None:
    client = start_server(script=FAILING_SERVER).connect()
    window = Window()
    with pytest.raises(HarnessError) as caught:
        measure_latency(
            client,
            np.zeros((4, 1, 2, 2), np.float32),
            warmup_queries=10,
            warmup_s=0.0,
            min_queries=100,
            min_duration_s=0.0,
            seed=0,
            around_timed=window,
        )
    assert caught.value.code == "serve_error" and "worn out" in caught.value.reason
    assert window.exited_ns is not None and window.exc_type is HarnessError


def test_without_a_window_the_measurements_are_unchanged(start_server) -> None:
    client = start_server(argv=[str(NULL_SERVER)]).connect()
    x = np.zeros((8, 1, 2, 2), np.float32)
    result = measure_latency(client, x, warmup_queries=5, warmup_s=0.0, min_queries=50, min_duration_s=0.0, seed=0)
    throughput = measure_throughput(client, x, batch_size=2, min_duration_s=0.0, min_batches=10, warmup_batches=1)
    client.shutdown()
    assert (result.warmup_queries, result.queries, throughput.batches) == (5, 50, 10)
