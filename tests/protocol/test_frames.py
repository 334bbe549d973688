"""Frames of the contract: uint32 length, uint8 type, uint64 request id, payload."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from runners import footprint_sdk as sdk


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.settimeout(10)
    b.settimeout(10)
    yield a, b
    a.close()
    b.close()


@pytest.mark.parametrize("frame_type", [sdk.READY, sdk.REQUEST, sdk.REPLY, sdk.ERROR, sdk.SHUTDOWN])
def test_it_round_trips_a_frame_of_every_type(pair, frame_type: int) -> None:
    a, b = pair
    sdk.send_frame(a, frame_type, 2**64 - 1, b"payload")
    assert sdk.recv_frame(b) == (frame_type, 2**64 - 1, bytearray(b"payload"))


def test_it_writes_the_documented_header(pair) -> None:
    a, b = pair
    sdk.send_frame(a, sdk.REQUEST, 7, b"xy")
    assert b.recv(100) == b"\x00\x00\x00\x0b" + b"\x02" + b"\x00" * 7 + b"\x07" + b"xy"


def test_it_round_trips_an_empty_payload(pair) -> None:
    a, b = pair
    sdk.send_frame(a, sdk.SHUTDOWN, 0)
    assert sdk.recv_frame(b) == (sdk.SHUTDOWN, 0, bytearray())


def test_it_round_trips_a_payload_larger_than_the_socket_buffer(pair) -> None:
    a, b = pair
    big = np.random.default_rng(0).random((64, 3, 64, 64)).astype(np.float32)  # 3 MiB
    sender = threading.Thread(target=sdk.send_array, args=(a, sdk.REQUEST, 3, big))
    sender.start()
    frame_type, request_id, payload = sdk.recv_frame(b)
    sender.join()
    assert (frame_type, request_id) == (sdk.REQUEST, 3)
    np.testing.assert_array_equal(sdk.decode_array(payload), big)


def test_it_rejects_a_frame_shorter_than_its_header(pair) -> None:
    a, b = pair
    a.sendall(struct.pack(">IBQ", 3, sdk.REQUEST, 1))
    with pytest.raises(sdk.ProtocolError, match="frame of 3 bytes is shorter than its header"):
        sdk.recv_frame(b)


def test_it_rejects_a_frame_longer_than_64_mib(pair) -> None:
    a, b = pair
    a.sendall(struct.pack(">IBQ", sdk.MAX_FRAME_BYTES + 1, sdk.REPLY, 1))
    with pytest.raises(sdk.ProtocolError, match="exceeds the limit of 67108864 bytes"):
        sdk.recv_frame(b)


def test_it_rejects_an_unknown_frame_type(pair) -> None:
    a, b = pair
    a.sendall(struct.pack(">IBQ", 9, 9, 1))
    with pytest.raises(sdk.ProtocolError, match="unknown frame type 9"):
        sdk.recv_frame(b)


def test_it_reports_a_close_between_frames_as_end_of_file(pair) -> None:
    a, b = pair
    a.close()
    with pytest.raises(EOFError):
        sdk.recv_frame(b)


def test_it_reports_a_close_inside_the_header_as_a_connection_error(pair) -> None:
    a, b = pair
    a.sendall(b"\x00\x00\x00\x0b\x02")
    a.close()
    with pytest.raises(ConnectionError, match="after 5 of 13 bytes of a frame's header"):
        sdk.recv_frame(b)


def test_it_reports_a_close_inside_the_payload_as_a_connection_error(pair) -> None:
    a, b = pair
    a.sendall(struct.pack(">IBQ", 9 + 10, sdk.REPLY, 1) + b"abc")
    a.close()
    with pytest.raises(ConnectionError, match="after 3 of 10 bytes of a frame's payload"):
        sdk.recv_frame(b)


def test_it_refuses_to_send_a_payload_over_the_frame_limit(pair) -> None:
    a, _ = pair
    with pytest.raises(sdk.ProtocolError, match="exceeds the frame limit"):
        sdk.send_frame(a, sdk.REPLY, 1, bytes(sdk.MAX_FRAME_BYTES))
