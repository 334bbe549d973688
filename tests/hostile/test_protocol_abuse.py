"""Servers that break the wire protocol, in real containers: each run fails with what it did."""

from __future__ import annotations

import pytest

from tests.fixtures.servers import RAW_SERVER_START

pytestmark = [pytest.mark.docker, pytest.mark.hostile]

# A raw server: listens, sends the ready frame, then does what `then` says with `conn`.
RAW = (
    RAW_SERVER_START
    + """
def answer(rid, n=1):
    sdk.send_array(conn, sdk.REPLY, rid, __import__("numpy").full(n, 3, dtype="int64"))
def request():
    kind, rid, payload = reader.recv_frame()
    return rid, sdk.decode_array(payload)
%s
time.sleep(60)
"""
)

CASES = {
    # bytes that are no frame at all
    "garbage": ("rid, _ = request()\nconn.sendall(b'\\xde\\xad\\xbe\\xef' * 64)", "serve_protocol_error"),
    # a length field that says more than it sends, then silence
    "short_frame": ("rid, _ = request()\nconn.sendall(struct.pack('>IBQ', 1000, 3, rid) + b'x')", "serve_timeout"),
    # never answers the first request
    "silence": ("request()", "serve_timeout"),
    # answers each request twice
    "duplicate": (
        "while True:\n    rid, batch = request()\n    answer(rid, len(batch)); answer(rid, len(batch))",
        "serve_reply_before_request",
    ),
    # answers with the id of the previous request
    "out_of_order": (
        "last = 0\nwhile True:\n    rid, batch = request()\n    answer(last or rid, len(batch)); last = rid",
        "serve_protocol_error",
    ),
    # a reply frame of another type
    "wrong_type": ("rid, _ = request()\nsdk.send_frame(conn, sdk.READY, rid, b'{}')", "serve_protocol_error"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_server_that_breaks_the_protocol_fails_the_run_saying_how(hostile, run, case):
    then, code = CASES[case]
    spec = hostile(serve=RAW % then, limits={"request_timeout_s": 3, "serve_ready_s": 20})
    document, _ = run(spec)
    assert document["status"] == "failed", case
    assert (document["failure"]["phase"], document["failure"]["code"]) == ("measuring", code), document["failure"]
    assert document["failure"]["reason"].startswith("the submission's server: ")
