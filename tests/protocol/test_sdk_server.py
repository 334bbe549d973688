"""footprint_sdk.serve() seen from a raw client: ready, replies, errors, exit statuses."""

from __future__ import annotations

import json
import os
import socket
import stat
import time

import numpy as np
import pytest

from runners import footprint_sdk as sdk

ECHO_SERVER = """
    import numpy as np, footprint_sdk
    footprint_sdk.serve(lambda batch: batch.reshape(len(batch), -1).argmax(axis=1), info="echo 1.0")
"""


def raw_connect(server, timeout_s: float = 20.0) -> socket.socket:
    deadline = time.monotonic() + timeout_s
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    while True:
        try:
            sock.connect(server.socket_path)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            assert server.is_alive(), server.stderr()
            assert time.monotonic() < deadline, "the server never listened"
            time.sleep(0.01)


def test_it_sends_a_ready_frame_with_the_contract_and_server_info(start_server) -> None:
    server = start_server(script=ECHO_SERVER)
    with raw_connect(server) as sock:
        frame_type, request_id, payload = sdk.recv_frame(sock)
    assert (frame_type, request_id) == (sdk.READY, 0)
    channels = {"channels": ["shm/1"]} if sdk.channel_supported() else {}
    assert json.loads(payload) == {"contract": "footprint.contract/1", "server": "echo 1.0", **channels}


def test_it_answers_requests_with_the_same_request_id(start_server) -> None:
    server = start_server(script=ECHO_SERVER)
    with raw_connect(server) as sock:
        sdk.recv_frame(sock)
        batch = np.eye(4, dtype=np.float32)[[2, 0, 3]]
        sdk.send_array(sock, sdk.REQUEST, 41, batch)
        frame_type, request_id, payload = sdk.recv_frame(sock)
        assert (frame_type, request_id) == (sdk.REPLY, 41)
        np.testing.assert_array_equal(sdk.decode_array(payload), [2, 0, 3])
        sdk.send_frame(sock, sdk.SHUTDOWN, 0)
    assert server.wait() == 0


def test_it_exits_zero_when_the_harness_closes_the_connection(start_server) -> None:
    server = start_server(script=ECHO_SERVER)
    with raw_connect(server) as sock:
        sdk.recv_frame(sock)
    assert server.wait() == 0


def test_it_replaces_a_stale_socket_file(start_server, short_dir) -> None:
    stale = short_dir / "serve0.sock"  # the path start_server gives its first server
    stale.write_text("left over")
    server = start_server(script=ECHO_SERVER)
    assert server.socket_path == str(stale)
    with raw_connect(server) as sock:
        assert sdk.recv_frame(sock)[0] == sdk.READY


def test_it_lets_another_user_connect_to_the_socket(start_server) -> None:
    server = start_server(script=ECHO_SERVER)
    with raw_connect(server) as sock:
        sdk.recv_frame(sock)
        assert stat.S_IMODE(os.stat(server.socket_path).st_mode) == 0o666


def test_it_reports_an_exception_in_predict_and_exits_with_status_1(start_server) -> None:
    server = start_server(
        script="""
        import footprint_sdk
        def predict(batch):
            raise ValueError("weights.bin is missing")
        footprint_sdk.serve(predict)
        """
    )
    with raw_connect(server) as sock:
        sdk.recv_frame(sock)
        sdk.send_array(sock, sdk.REQUEST, 5, np.zeros((1, 2), np.float32))
        frame_type, request_id, payload = sdk.recv_frame(sock)
    assert (frame_type, request_id) == (sdk.ERROR, 5)
    assert payload.decode() == "predict failed: ValueError: weights.bin is missing"
    assert server.wait() == 1
    assert "Traceback" in server.stderr()


def test_it_reports_a_reply_whose_dtype_cannot_be_sent(start_server) -> None:
    server = start_server(
        script="""
        import numpy as np, footprint_sdk
        footprint_sdk.serve(lambda batch: np.ones(len(batch), dtype=bool))
        """
    )
    with raw_connect(server) as sock:
        sdk.recv_frame(sock)
        sdk.send_array(sock, sdk.REQUEST, 1, np.zeros((3, 2), np.float32))
        frame_type, _, payload = sdk.recv_frame(sock)
    assert frame_type == sdk.ERROR
    assert "cannot be sent" in payload.decode() and "'|b1'" in payload.decode()
    assert server.wait() == 1


def test_it_reports_a_malformed_request_and_exits_with_status_1(start_server) -> None:
    server = start_server(script=ECHO_SERVER)
    with raw_connect(server) as sock:
        sdk.recv_frame(sock)
        sdk.send_frame(sock, sdk.REQUEST, 9, b"\x03<c8\x01\x00\x00\x00\x01" + bytes(8))
        frame_type, request_id, payload = sdk.recv_frame(sock)
    assert (frame_type, request_id) == (sdk.ERROR, 9)
    assert "malformed request: unknown dtype '<c8'" in payload.decode()
    assert server.wait() == 1


@pytest.mark.parametrize("frame_type", [sdk.READY, sdk.REPLY, sdk.ERROR])
def test_it_refuses_frames_a_harness_does_not_send(start_server, frame_type: int) -> None:
    server = start_server(script=ECHO_SERVER)
    with raw_connect(server) as sock:
        sdk.recv_frame(sock)
        sdk.send_frame(sock, frame_type, 3, b"{}")
        received_type, _, payload = sdk.recv_frame(sock)
    assert received_type == sdk.ERROR
    assert "expected a request" in payload.decode()
    assert server.wait() == 1


def test_it_reports_a_malformed_frame_header(start_server) -> None:
    server = start_server(script=ECHO_SERVER)
    with raw_connect(server) as sock:
        sdk.recv_frame(sock)
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        received_type, _, payload = sdk.recv_frame(sock)
    assert received_type == sdk.ERROR
    assert "malformed frame: frame length" in payload.decode()
    assert server.wait() == 1
