"""The shared-memory channel on the host: the SDK's server against ServeClient, no Docker.

What must hold: the same predictions as over the socket, the socket whenever either side
does not take the channel, a server asleep still woken, slow replies and timeouts as on the
socket, and a page nobody can shrink or grow (docs/submission-contract.md).
"""

from __future__ import annotations

import fcntl
import os
import signal
import time

import numpy as np
import pytest

from runners import footprint_sdk as sdk
from runners.harness import HarnessError, PageSize, page_size_for, time_queries
from runners.placement import REPLY_SPIN_NS

from .conftest import NULL_SERVER
from .test_polling import cpu_seconds
from .test_serve_client import raw_server

pytestmark = pytest.mark.skipif(not sdk.channel_supported(), reason="the channel is offered on x86-64 only")

ECHO_SERVER = """
    import footprint_sdk
    footprint_sdk.serve(lambda batch: batch.reshape(len(batch), -1).argmax(axis=1))
"""
# Sleeps the number of milliseconds its input's first value says, then answers its arg-max.
SLEEPY_SERVER = """
    import time, footprint_sdk
    def predict(batch):
        time.sleep(float(batch.flat[0]) / 1000)
        return batch.reshape(len(batch), -1).argmax(axis=1)
    footprint_sdk.serve(predict)
"""
PAGE = page_size_for((4,), "float32", batch_size=64, num_classes=4)


def connect(server, **kwargs):
    """A client that offers the page and polls for replies (the job's placement when apart)."""
    return server.connect(page=PAGE, reply_spin_ns=REPLY_SPIN_NS, **kwargs)


def inputs(count: int, seed: int = 0) -> list[np.ndarray]:
    return list(np.random.default_rng(seed).random((count, 1, 4), dtype=np.float32))


def test_the_sdk_server_takes_the_channel_and_answers_as_over_the_socket(start_server) -> None:
    x = inputs(500)
    over_page = connect(start_server(script=ECHO_SERVER))
    over_socket = start_server(script=ECHO_SERVER).connect(reply_spin_ns=REPLY_SPIN_NS)
    assert (over_page.channel, over_socket.channel) == ("shm/1", "socket")
    batch = np.random.default_rng(1).random((64, 4), dtype=np.float32)
    for client in (over_page, over_socket):
        client.predictions = time_queries(client, x, num_classes=4).predictions
        client.batch = client.predict(batch, num_classes=4)
    np.testing.assert_array_equal(over_page.predictions, over_socket.predictions)
    np.testing.assert_array_equal(over_page.predictions[:, 0], [v.argmax() for v in x])
    np.testing.assert_array_equal(over_page.batch, over_socket.batch)
    for client in (over_page, over_socket):
        client.shutdown()


def test_a_request_larger_than_the_page_travels_on_the_socket(start_server) -> None:
    server = start_server(script=ECHO_SERVER)
    client = connect(server)
    big = np.eye(200, 4, dtype=np.float32)  # 200 inputs: more than the page's 64
    assert len(sdk.encode_array(big)) > PAGE.request_bytes
    assert client.predict(big, num_classes=4).tolist() == [0, 1, 2, 3] + [0] * 196
    # ...and the page goes on afterwards.
    assert time_queries(client, inputs(50), num_classes=4).predictions.shape == (50, 1)
    client.shutdown()
    assert server.wait() == 0


def test_a_server_that_does_not_advertise_the_channel_is_served_on_the_socket(start_server) -> None:
    # A raw server: no "channels" in its ready frame; it answers one request, on the socket.
    server = raw_server(
        start_server, 'rid = read_request(); frame(3, rid, b"\\x03<i8\\x01\\x00\\x00\\x00\\x01" + bytes(8))'
    )
    client = connect(server)
    assert client.channel == "socket"
    assert client.predict(np.zeros((1, 4), np.float32)).tolist() == [0]


def test_a_server_that_declines_the_offer_is_served_on_the_socket(start_server) -> None:
    # It advertises the channel, answers the offer with a refusal, then serves on the socket.
    server = start_server(
        script="""
        import json, footprint_sdk as sdk, numpy as np, os, socket, time
        path = os.environ["FOOTPRINT_SOCKET"]
        listener = socket.socket(socket.AF_UNIX); listener.bind(path); listener.listen(1)
        conn, _ = listener.accept()
        sdk.send_frame(conn, sdk.READY, 0, b'{"contract": "footprint.contract/1", "channels": ["shm/1"]}')
        reader = sdk.FrameReader(conn, max_fds=1)
        kind, _, _ = reader.recv_frame()
        assert kind == sdk.CHANNEL and len(reader.take_fds()) == 1
        sdk.send_frame(conn, sdk.CHANNEL, 0, b'{"channel": "shm/1", "accepted": false, "reason": "no"}')
        kind, rid, _ = reader.recv_frame()
        sdk.send_array(conn, sdk.REPLY, rid, np.array([2]))
        time.sleep(60)
        """
    )
    client = connect(server)
    assert client.channel == "socket"
    assert client.predict(np.zeros((1, 4), np.float32)).tolist() == [2]


def test_no_page_is_offered_when_the_harness_would_sleep_for_replies(start_server) -> None:
    client = start_server(script=ECHO_SERVER).connect(page=PAGE, reply_spin_ns=0)
    assert client.channel == "socket"
    assert client.predict(np.eye(2, 4, dtype=np.float32)).tolist() == [0, 1]
    client.shutdown()


def test_a_server_asleep_after_its_polling_window_is_woken_by_the_next_request(start_server) -> None:
    server = start_server(argv=[str(NULL_SERVER)])
    client = connect(server)
    assert client.channel == "shm/1"
    time_queries(client, inputs(20), num_classes=10)
    time.sleep(0.1)  # past the window: the server sleeps in recv()
    before = cpu_seconds(server.proc.pid)
    time.sleep(1.0)
    assert cpu_seconds(server.proc.pid) - before < 0.2
    started = time.monotonic()
    assert time_queries(client, inputs(3), num_classes=10).predictions.tolist() == [[0], [0], [0]]
    assert time.monotonic() - started < 1.0  # woken by the wake frame, not by a timeout
    client.shutdown()
    assert server.wait() == 0


def test_a_server_stopped_and_continued_between_requests_still_answers(start_server) -> None:
    # As the cgroup freezer does between blocks: stopped wherever it was, polling or asleep.
    server = start_server(argv=[str(NULL_SERVER)])
    client = connect(server)
    for pause_s in (0.0005, 0.002, 0.05):
        time_queries(client, inputs(5), num_classes=10)
        os.kill(server.proc.pid, signal.SIGSTOP)
        time.sleep(pause_s)
        os.kill(server.proc.pid, signal.SIGCONT)
        assert time_queries(client, inputs(5), num_classes=10).predictions.shape == (5, 1)
    client.shutdown()
    assert server.wait() == 0


def test_replies_slower_than_the_polling_window_wake_the_harness(start_server) -> None:
    # 0 ms and 10 ms replies in turn: the slow ones come after the harness stopped polling
    # (it is woken by the server's wake frame), the fast ones leave late wake frames behind.
    client = connect(start_server(script=SLEEPY_SERVER))
    x = [np.array([[ms, 0, 5, 1]], np.float32) for ms in [0, 10, 0, 3, 1.5, 0, 10, 0] * 3]
    started = time.monotonic()
    timed = time_queries(client, x, num_classes=4)
    assert time.monotonic() - started < 5
    assert timed.predictions[:, 0].tolist() == [v.argmax() for v in x]
    assert timed.ns.max() > 10_000_000
    client.shutdown()


def test_wake_frames_that_race_the_next_request_are_not_taken_for_replies_ahead(start_server) -> None:
    # Replies of 1 to 2 ms: read from the page while the harness still polls, each followed
    # by its wake frame, which may land while the harness checks that the socket is quiet.
    client = connect(start_server(script=SLEEPY_SERVER))
    x = [np.array([[1 + (k % 8) / 8, 0, 5, 1]], np.float32) for k in range(300)]
    timed = time_queries(client, x, num_classes=4)
    assert timed.predictions[:, 0].tolist() == [2] * 300
    client.shutdown()


def test_a_request_the_server_never_answers_times_out_as_on_the_socket(start_server) -> None:
    client = connect(start_server(script=SLEEPY_SERVER), request_timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(HarnessError) as caught:
        client.exchange(sdk.encode_array(np.array([[5000, 0, 0, 0]], np.float32)), 41, max_reply_bytes=1024)
    assert caught.value.code == "serve_timeout"
    assert caught.value.reason == "the server did not answer request 41 within 0.3 s"
    assert 0.25 < time.monotonic() - started < 5


def test_an_error_in_predict_reaches_the_harness_as_on_the_socket(start_server) -> None:
    server = start_server(
        script="""
        import footprint_sdk
        def predict(batch):
            raise ValueError("weights.bin is missing")
        footprint_sdk.serve(predict)
        """
    )
    client = connect(server)
    assert client.channel == "shm/1"
    with pytest.raises(HarnessError) as caught:
        client.predict(np.zeros((1, 4), np.float32))
    assert caught.value.code == "serve_error"
    assert caught.value.reason == "the server reported an error: predict failed: ValueError: weights.bin is missing"
    assert server.wait() == 1


def test_a_reply_too_large_for_its_batch_is_refused_as_on_the_socket(start_server) -> None:
    # Too large for the page's reply slot, so it goes on the socket, where its header is refused.
    server = start_server(
        script="""
        import numpy as np, footprint_sdk
        footprint_sdk.serve(lambda batch: np.zeros((len(batch), 100_000)))
        """
    )
    client = connect(server)
    with pytest.raises(HarnessError) as caught:
        client.predict(np.zeros((1, 4), np.float32), num_classes=4)
    assert caught.value.code == "serve_protocol_error"
    assert "more than the" in caught.value.reason and "it can need here" in caught.value.reason


def test_the_page_cannot_be_shrunk_grown_or_resealed() -> None:
    page, fd = sdk.SharedPage.create(PAGE.request_bytes, PAGE.reply_bytes)
    try:
        size = os.fstat(fd).st_size
        assert size == sdk.page_bytes(PAGE.request_bytes, PAGE.reply_bytes)
        for change in (lambda: os.ftruncate(fd, 0), lambda: os.ftruncate(fd, size * 2)):
            with pytest.raises(PermissionError):
                change()
        with pytest.raises(PermissionError):
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE)
        assert fcntl.fcntl(fd, fcntl.F_GET_SEALS) & sdk.PAGE_SEALS == sdk.PAGE_SEALS
    finally:
        os.close(fd)
        page.close()


def test_a_reply_length_beyond_the_bound_is_refused_before_anything_is_copied() -> None:
    page, fd = sdk.SharedPage.create(1024, 256)
    os.close(fd)
    try:
        page.words[sdk.PAGE_REPLY_LENGTH] = 2**62
        with pytest.raises(sdk.ProtocolError, match="more than the 256 it can need here"):
            page.take_reply(10_000)
        page.words[sdk.PAGE_REPLY_LENGTH] = 200
        with pytest.raises(sdk.ProtocolError, match="more than the 100 it can need here"):
            page.take_reply(100)
        assert len(page.take_reply(256)) == 200
    finally:
        page.close()


def test_page_sizes_fit_an_accuracy_batch_or_else_one_input() -> None:
    assert page_size_for((1, 8, 8), "float32", batch_size=64, num_classes=10) == PageSize(64 + 64 * 256, 16384)
    one = page_size_for((3, 224, 224), "float32", batch_size=64, num_classes=1000)
    assert one == PageSize(64 + 3 * 224 * 224 * 4, 16384)
    assert page_size_for((4096, 4096), "float64", batch_size=1, num_classes=10) is None
