"""ServeClient against real server processes: readiness and every way a server can fail."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from runners.footprint_sdk import encode_array
from runners.harness import HarnessError, ServeClient, reply_limit_bytes, time_queries

from .conftest import NULL_SERVER

# A raw server: READY as the SDK sends it, then whatever `then` does with the connection.
RAW_SERVER = """
    import json, os, socket, struct, time
    path = os.environ["FOOTPRINT_SOCKET"]
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    conn, _ = listener.accept()
    def frame(t, rid, payload):
        conn.sendall(struct.pack(">IBQ", 9 + len(payload), t, rid) + payload)
    def read_request():
        length, t, rid = struct.unpack(">IBQ", conn.recv(13, socket.MSG_WAITALL))
        conn.recv(length - 9, socket.MSG_WAITALL)
        return rid
    frame(1, 0, json.dumps({{"contract": "footprint.contract/1", "server": "raw"}}).encode())
    {then}
    time.sleep(60)
"""

ONE_BATCH = np.zeros((1, 4), np.float32)


def raw_server(start_server, then: str):
    return start_server(script=RAW_SERVER.format(then=then))


def test_it_connects_to_the_null_server_and_gets_replies(start_server) -> None:
    server = start_server(argv=[str(NULL_SERVER)])
    client = server.connect()
    assert client.ready_info["contract"] == "footprint.contract/1"
    assert client.ready_info["server"] == "footprint-null-serve"
    reply = client.predict(np.zeros((3, 1, 8, 8), np.float32))
    assert reply.dtype == np.int64 and reply.tolist() == [0, 0, 0]
    client.shutdown()
    assert server.wait() == 0


def test_it_times_out_a_server_that_never_listens(start_server) -> None:
    server = start_server(script="import time; time.sleep(60)")
    started = time.monotonic()
    with pytest.raises(HarnessError) as caught:
        server.connect(ready_timeout_s=0.5)
    assert caught.value.code == "serve_not_ready"
    assert "within 0.5 s" in caught.value.reason
    assert time.monotonic() - started < 5


def test_it_times_out_a_server_that_accepts_but_sends_no_ready_frame(start_server) -> None:
    server = start_server(
        script="""
        import os, socket, time
        s = socket.socket(socket.AF_UNIX); s.bind(os.environ["FOOTPRINT_SOCKET"]); s.listen(1)
        conn, _ = s.accept(); time.sleep(60)
        """
    )
    with pytest.raises(HarnessError) as caught:
        server.connect(ready_timeout_s=3)
    assert caught.value.code == "serve_not_ready"
    assert "sent no ready frame" in caught.value.reason


def test_it_fails_at_once_when_the_server_exits_before_it_is_ready(start_server) -> None:
    server = start_server(script="import sys; sys.exit(2)")
    started = time.monotonic()
    with pytest.raises(HarnessError) as caught:
        server.connect(ready_timeout_s=60)
    assert caught.value.code == "serve_exited"
    assert caught.value.reason == "the server exited before it became ready"
    assert time.monotonic() - started < 20


def test_it_rejects_garbage_instead_of_a_ready_frame(start_server) -> None:
    server = start_server(
        script="""
        import os, socket, time
        s = socket.socket(socket.AF_UNIX); s.bind(os.environ["FOOTPRINT_SOCKET"]); s.listen(1)
        conn, _ = s.accept(); conn.sendall(b"hello, I am a web server\\r\\n"); time.sleep(60)
        """
    )
    with pytest.raises(HarnessError) as caught:
        server.connect()
    assert caught.value.code == "serve_protocol_error"
    assert "instead of a ready frame: frame length" in caught.value.reason


def test_it_rejects_a_ready_frame_of_another_contract(start_server) -> None:
    server = start_server(
        script="""
        import os, footprint_sdk as sdk
        sdk.CONTRACT = "footprint.contract/99"
        sdk.serve(lambda b: b)
        """
    )
    with pytest.raises(HarnessError) as caught:
        server.connect()
    assert caught.value.code == "serve_protocol_error"
    assert "'footprint.contract/99'" in caught.value.reason


def test_it_rejects_a_ready_frame_that_is_not_json(start_server) -> None:
    server = start_server(
        script="""
        import os, socket, struct, time
        s = socket.socket(socket.AF_UNIX); s.bind(os.environ["FOOTPRINT_SOCKET"]); s.listen(1)
        conn, _ = s.accept(); conn.sendall(struct.pack(">IBQ", 9 + 3, 1, 0) + b"hi!"); time.sleep(60)
        """
    )
    with pytest.raises(HarnessError) as caught:
        server.connect()
    assert caught.value.code == "serve_protocol_error"
    assert "not UTF-8 JSON" in caught.value.reason


def test_it_rejects_garbage_bytes_as_a_reply(start_server) -> None:
    server = raw_server(start_server, 'read_request(); conn.sendall(b"\\xde\\xad\\xbe\\xef" * 8)')
    client = server.connect()
    with pytest.raises(HarnessError) as caught:
        client.predict(ONE_BATCH)
    assert caught.value.code == "serve_protocol_error"
    assert "frame length 3735928559 exceeds" in caught.value.reason


def test_it_rejects_a_reply_to_another_request(start_server) -> None:
    server = raw_server(start_server, 'rid = read_request(); frame(3, rid + 1, b"\\x03<i8\\x01\\x00\\x00\\x00\\x00")')
    client = server.connect()
    with pytest.raises(HarnessError) as caught:
        client.predict(ONE_BATCH)
    assert caught.value.code == "serve_protocol_error"
    asked, got = map(
        int,
        re.fullmatch(
            r"expected a reply to request (\d+), got a reply frame for request (\d+)", caught.value.reason
        ).groups(),
    )
    assert got == asked + 1


def test_it_rejects_a_reply_with_a_malformed_array(start_server) -> None:
    server = raw_server(start_server, 'rid = read_request(); frame(3, rid, b"\\x03<c8\\x00" + bytes(8))')
    client = server.connect()
    with pytest.raises(HarnessError) as caught:
        client.predict(ONE_BATCH)
    assert caught.value.code == "serve_protocol_error"
    assert "malformed: unknown dtype '<c8'" in caught.value.reason


def test_it_reports_the_servers_error_text_and_refuses_further_requests(start_server) -> None:
    server = start_server(
        script="""
        import footprint_sdk
        def predict(batch):
            raise RuntimeError("CUDA is not available in this container")
        footprint_sdk.serve(predict)
        """
    )
    client = server.connect()
    with pytest.raises(HarnessError) as caught:
        client.predict(ONE_BATCH)
    assert caught.value.code == "serve_error"
    assert caught.value.reason == (
        "the server reported an error: predict failed: RuntimeError: CUDA is not available in this container"
    )
    with pytest.raises(HarnessError) as again:
        client.predict(ONE_BATCH)
    assert again.value is caught.value
    assert server.wait() == 1


def test_it_reports_a_server_that_closes_mid_request(start_server) -> None:
    server = raw_server(start_server, "read_request(); conn.close(); raise SystemExit(0)")
    client = server.connect()
    with pytest.raises(HarnessError) as caught:
        client.predict(ONE_BATCH)
    assert caught.value.code == "serve_closed"


def test_it_times_out_a_request_the_server_never_answers(start_server) -> None:
    server = raw_server(start_server, "read_request()")
    client = server.connect(request_timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(HarnessError) as caught:
        client.predict(ONE_BATCH)
    assert caught.value.code == "serve_timeout"
    assert "within 0.3 s" in caught.value.reason
    assert 0.25 < time.monotonic() - started < 5


def test_it_connects_through_a_socket_path_longer_than_af_unix_allows(start_server, short_dir: Path) -> None:
    deep = short_dir / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    socket_path = str(deep / "serve.sock")
    with pytest.raises(OSError):
        socket.socket(socket.AF_UNIX).connect(socket_path)  # the limit this test is about
    server = start_server(
        script="""
        import os, footprint_sdk
        os.chdir(os.path.dirname(os.environ["REAL_SOCKET"]))  # bind() has the same limit
        footprint_sdk.serve(lambda b: b.reshape(len(b), -1).argmax(axis=1), socket_path="serve.sock")
        """,
        env={"REAL_SOCKET": socket_path},
    )
    client = ServeClient.connect(socket_path, ready_timeout_s=30, is_alive=server.is_alive)
    assert client.predict(np.eye(3, dtype=np.float32)).tolist() == [0, 1, 2]
    client.shutdown()
    assert server.wait() == 0


# The latency path (exchange, then decode_reply outside the clock) fails as predict() does.


def test_a_malformed_reply_array_fails_a_latency_run(start_server) -> None:
    server = raw_server(
        start_server,
        'rid = read_request(); frame(3, rid, b"\\x03<i8\\x01\\x00\\x00\\x00\\x01" + bytes(8))\n'
        '    rid = read_request(); frame(3, rid, b"\\x03<c8\\x00" + bytes(8))',
    )
    client = server.connect()
    with pytest.raises(HarnessError) as caught:
        time_queries(client, [ONE_BATCH] * 5, num_classes=4)
    assert caught.value.code == "serve_protocol_error"
    assert re.match(r"the reply to request \d+ is malformed: unknown dtype '<c8'", caught.value.reason)
    with pytest.raises(HarnessError) as again:
        time_queries(client, [ONE_BATCH], num_classes=4)
    assert again.value is caught.value


def test_an_exchange_reports_the_servers_error_text(start_server) -> None:
    server = raw_server(start_server, 'rid = read_request(); frame(4, rid, b"out of memory")')
    client = server.connect()
    with pytest.raises(HarnessError) as caught:
        client.exchange(encode_array(ONE_BATCH), 77, max_reply_bytes=reply_limit_bytes(1, 4))
    assert caught.value.code == "serve_error"
    assert caught.value.reason == "the server reported an error: out of memory"


def test_an_exchange_times_out_as_a_request_does(start_server) -> None:
    server = raw_server(start_server, "read_request()")
    client = server.connect(request_timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(HarnessError) as caught:
        client.exchange(encode_array(ONE_BATCH), 5, max_reply_bytes=reply_limit_bytes(1, 4))
    assert caught.value.code == "serve_timeout"
    assert "did not answer request 5 within 0.3 s" in caught.value.reason
    assert 0.25 < time.monotonic() - started < 5


# What a server may not do to the runner (docs/measurement.md, "What the server cannot know").


def test_request_ids_are_unpredictable(start_server) -> None:
    server = start_server(argv=[str(NULL_SERVER)])
    client = server.connect()
    ids = [client.next_request_id() for _ in range(1000)]
    client.shutdown()
    assert len(set(ids)) == 1000
    assert sum(1 for a, b in zip(ids, ids[1:], strict=False) if b == a + 1) == 0
    assert all(0 < i < 2**64 for i in ids)


def test_a_reply_sent_before_its_request_fails_the_run(start_server) -> None:
    # After each reply it sends one more, for the request it guesses comes next.
    server = raw_server(
        start_server,
        "while True:\n"
        '        rid = read_request(); frame(3, rid, b"\\x03<i8\\x01\\x00\\x00\\x00\\x01" + bytes(8))\n'
        '        frame(3, rid + 1, b"\\x03<i8\\x01\\x00\\x00\\x00\\x01" + bytes(8))\n'
        "        time.sleep(0.01)",
    )
    client = server.connect()
    with pytest.raises(HarnessError) as caught:
        time_queries(client, [ONE_BATCH] * 3, num_classes=4)
    assert caught.value.code == "serve_reply_before_request"
    assert "bytes from the server were waiting before request" in caught.value.reason


def test_bytes_after_the_ready_frame_and_before_any_request_fail(start_server) -> None:
    server = raw_server(start_server, 'frame(3, 1, b"\\x03<i8\\x01\\x00\\x00\\x00\\x01" + bytes(8))')
    with pytest.raises(HarnessError) as caught:
        # Seen at once when it came with the ready frame, else before the first request.
        client = server.connect()
        time.sleep(0.3)
        time_queries(client, [ONE_BATCH], num_classes=4)
    assert caught.value.code == "serve_reply_before_request"


def test_a_reply_frame_larger_than_its_batch_can_need_is_refused_from_its_header(start_server) -> None:
    # The header announces 64 MiB; the runner must not wait for it, nor set memory aside.
    server = raw_server(
        start_server,
        'rid = read_request(); conn.sendall(struct.pack(">IBQ", 64 * 1024 * 1024, 3, rid) + b"\\x03<f8")',
    )
    client = server.connect()
    started = time.monotonic()
    with pytest.raises(HarnessError) as caught:
        time_queries(client, [ONE_BATCH], num_classes=4)
    assert time.monotonic() - started < 2
    assert caught.value.code == "serve_protocol_error"
    assert f"more than the {reply_limit_bytes(1, 4)} it can need" in caught.value.reason


def test_a_symbolic_link_at_the_socket_path_is_never_followed(start_server, short_dir: Path) -> None:
    target = socket.socket(socket.AF_UNIX)
    target.bind(str(short_dir / "host-service.sock"))  # a socket of the host's, say dockerd's
    target.listen(1)
    link = short_dir / "serve.sock"
    link.symlink_to(short_dir / "host-service.sock")
    with pytest.raises(HarnessError) as caught:
        ServeClient.connect(str(link), ready_timeout_s=2)
    target.close()
    assert caught.value.code == "serve_socket_unsafe"
    assert "symbolic link" in caught.value.reason


def test_a_socket_of_another_user_is_refused(start_server) -> None:
    server = start_server(argv=[str(NULL_SERVER)])
    with pytest.raises(HarnessError) as caught:
        ServeClient.connect(server.socket_path, ready_timeout_s=5, is_alive=server.is_alive, expected_uid=4242)
    assert caught.value.code == "serve_socket_unsafe"
    assert "not to the container's user (4242)" in caught.value.reason


def test_a_server_that_listens_but_never_accepts_times_out(short_dir: Path) -> None:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(short_dir / "serve.sock"))
    listener.listen(0)
    held = []
    for _ in range(4):  # fill the backlog as a hostile server would keep it full
        s = socket.socket(socket.AF_UNIX)
        s.setblocking(False)
        try:
            s.connect(str(short_dir / "serve.sock"))
        except BlockingIOError:
            pass
        held.append(s)
    started = time.monotonic()
    with pytest.raises(HarnessError) as caught:
        ServeClient.connect(str(short_dir / "serve.sock"), ready_timeout_s=1.0)
    assert caught.value.code == "serve_not_ready"
    assert time.monotonic() - started < 5
    listener.close()
    for s in held:
        s.close()
