"""FrameReader: the buffered receiver of the serve loop and the harness (one recv per frame)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from runners import footprint_sdk as sdk


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.settimeout(10)  # a reader waiting for bytes that never come fails instead of hanging
    b.settimeout(10)
    yield a, b
    a.close()
    b.close()


def frame(frame_type: int, request_id: int, payload: bytes) -> bytes:
    return struct.pack(">IBQ", 9 + len(payload), frame_type, request_id) + payload


class CountingSocket:
    """A socket whose recv_into calls are counted."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.recvs = 0

    def fileno(self) -> int:
        return self.sock.fileno()

    def recv_into(self, *args) -> int:
        self.recvs += 1
        return self.sock.recv_into(*args)


def test_it_receives_a_small_frame_with_one_recv(pair) -> None:
    a, b = pair
    counting = CountingSocket(b)
    reader = sdk.FrameReader(counting)  # type: ignore[arg-type]
    sdk.send_array(a, sdk.REQUEST, 5, np.arange(64, dtype=np.float32).reshape(1, 1, 8, 8))
    frame_type, request_id, payload = reader.recv_frame()
    assert (frame_type, request_id, counting.recvs) == (sdk.REQUEST, 5, 1)
    np.testing.assert_array_equal(sdk.decode_array(payload).ravel(), np.arange(64, dtype=np.float32))


def test_it_returns_frames_that_came_in_one_read_one_at_a_time(pair) -> None:
    a, b = pair
    reader = sdk.FrameReader(b)
    a.sendall(frame(sdk.REQUEST, 1, b"one") + frame(sdk.REQUEST, 2, b"") + frame(sdk.SHUTDOWN, 0, b""))
    # The second and third frames are buffered: no poll may wait for the socket.
    started = time.monotonic()
    assert reader.recv_frame(spin_ns=1_000_000_000) == (sdk.REQUEST, 1, bytearray(b"one"))
    assert reader.recv_frame(spin_ns=1_000_000_000) == (sdk.REQUEST, 2, bytearray())
    assert reader.recv_frame(spin_ns=1_000_000_000) == (sdk.SHUTDOWN, 0, bytearray())
    assert time.monotonic() - started < 0.5


def test_its_payloads_are_fresh_writable_copies(pair) -> None:
    a, b = pair
    reader = sdk.FrameReader(b)
    a.sendall(frame(sdk.REPLY, 1, b"first") + frame(sdk.REPLY, 2, b"other"))
    first = reader.recv_frame()[2]
    second = reader.recv_frame()[2]
    first[0:1] = b"F"
    assert (first, second) == (bytearray(b"First"), bytearray(b"other"))


def test_it_joins_a_frame_split_across_reads(pair) -> None:
    a, b = pair
    reader = sdk.FrameReader(b)
    data = frame(sdk.REPLY, 9, b"0123456789") + frame(sdk.REPLY, 10, b"ab")
    pieces = [data[:5], data[5:16], data[16:24], data[24:]]  # inside the header, the payload, the next header

    def send() -> None:
        for piece in pieces:
            a.sendall(piece)
            time.sleep(0.02)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert reader.recv_frame() == (sdk.REPLY, 9, bytearray(b"0123456789"))
        assert reader.recv_frame() == (sdk.REPLY, 10, bytearray(b"ab"))
    finally:
        sender.join()


def test_it_receives_a_payload_larger_than_its_buffer(pair) -> None:
    a, b = pair
    reader = sdk.FrameReader(b, buffer_bytes=4096)
    big = np.random.default_rng(0).random((64, 3, 64, 64)).astype(np.float32)  # 3 MiB
    sender = threading.Thread(target=lambda: (sdk.send_array(a, sdk.REQUEST, 3, big), a.sendall(frame(4, 4, b"e"))))
    sender.start()
    try:
        frame_type, request_id, payload = reader.recv_frame()
        assert reader.recv_frame() == (sdk.ERROR, 4, bytearray(b"e"))
    finally:
        sender.join()
    assert (frame_type, request_id) == (sdk.REQUEST, 3)
    np.testing.assert_array_equal(sdk.decode_array(payload), big)


def test_it_polls_then_waits_for_a_frame_that_comes_late(pair) -> None:
    a, b = pair
    reader = sdk.FrameReader(b)
    sender = threading.Timer(0.1, a.sendall, args=(frame(sdk.REPLY, 1, b"late"),))
    sender.start()
    try:
        assert reader.recv_frame(spin_ns=10_000_000) == (sdk.REPLY, 1, bytearray(b"late"))
    finally:
        sender.join()


def test_it_reports_a_close_between_frames_as_end_of_file(pair) -> None:
    a, b = pair
    reader = sdk.FrameReader(b)
    a.sendall(frame(sdk.REPLY, 1, b"x"))
    a.close()
    assert reader.recv_frame(spin_ns=1_000_000) == (sdk.REPLY, 1, bytearray(b"x"))
    with pytest.raises(EOFError):
        reader.recv_frame(spin_ns=1_000_000)


def test_it_reports_a_close_inside_the_header(pair) -> None:
    a, b = pair
    reader = sdk.FrameReader(b)
    a.sendall(frame(sdk.REPLY, 1, b"x")[:6])
    a.close()
    with pytest.raises(ConnectionError, match="closed after 6 of 13 bytes of a frame's header"):
        reader.recv_frame()


def test_it_reports_a_close_inside_the_payload(pair) -> None:
    a, b = pair
    reader = sdk.FrameReader(b)
    a.sendall(frame(sdk.REPLY, 1, b"0123456789")[:18])
    a.close()
    with pytest.raises(ConnectionError, match="closed after 5 of 10 bytes of a frame's payload"):
        reader.recv_frame()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (struct.pack(">IBQ", 3, sdk.REQUEST, 1), "frame of 3 bytes is shorter than its header"),
        (struct.pack(">IBQ", sdk.MAX_FRAME_BYTES + 1, sdk.REPLY, 1), "exceeds the limit of 67108864 bytes"),
        (struct.pack(">IBQ", 9, 9, 1), "unknown frame type 9"),
    ],
)
def test_it_rejects_a_malformed_header_as_recv_frame_does(pair, header: bytes, message: str) -> None:
    a, b = pair
    a.sendall(header)
    with pytest.raises(sdk.ProtocolError, match=message):
        sdk.FrameReader(b).recv_frame()
