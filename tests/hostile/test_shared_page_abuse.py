"""Servers that abuse the shared-memory channel, in real containers: each run fails with what
it did, and the runner survives it (docs/submission-contract.md, "The shared-memory channel")."""

from __future__ import annotations

import pytest

from runners import footprint_sdk as sdk
from tests.fixtures.servers import RAW_CHANNEL_SERVER

pytestmark = [
    pytest.mark.docker,
    pytest.mark.hostile,
    pytest.mark.skipif(not sdk.channel_supported(), reason="the channel is offered on x86-64 only"),
]

# Tries to shrink and to grow the page it was passed, and to seal it against the runner's
# writes; then reports what each attempt got in an error frame. Had one worked, the runner
# would have been killed by SIGBUS reading the page (or its writes refused), not failed cleanly.
RESIZE = """
report = []
size = os.fstat(fd).st_size
for name, attempt in [
    ("shrink", lambda: os.ftruncate(fd, 0)),
    ("grow", lambda: os.ftruncate(fd, size * 4)),
    ("fallocate", lambda: os.posix_fallocate(fd, 0, size * 4)),
    ("seal", lambda: __import__("fcntl").fcntl(fd, __import__("fcntl").F_ADD_SEALS, 8)),
]:
    try:
        attempt()
        report.append(f"{name}: done")
    except OSError as exc:
        report.append(f"{name}: {type(exc).__name__}")
report.append(f"size {os.fstat(fd).st_size - size:+d}")
"""

CASES = {
    # a reply in the page before any request was sent (planted before it took the channel)
    "reply_ahead": ("answer(0xFEED)", "next_request()", "serve_reply_before_request", "reply slot changed"),
    # a reply whose length word says 1 TiB
    "absurd_length": (
        "",
        "rid, _, _ = next_request()\nwords[sdk.PAGE_REPLY_LENGTH] = 2**40\nwords[sdk.PAGE_REPLY_ID] = rid",
        "serve_protocol_error",
        "a reply of 1099511627776 payload bytes in the shared page, more than the",
    ),
    # random bytes over the whole page, id words included
    "garbage_page": (
        "",
        "next_request()\npage._view[:] = os.urandom(len(page._view))",
        "serve_protocol_error",
        "the shared page's reply slot names request",
    ),
    # its own id and a plausible length, over random bytes
    "garbage_reply": (
        "",
        "rid, _, _ = next_request()\npage._view[page._reply_data : page._reply_data + 40] = os.urandom(40)\n"
        "words[sdk.PAGE_REPLY_LENGTH] = 40\nwords[sdk.PAGE_REPLY_ID] = rid",
        "serve_protocol_error",
        "is malformed",
    ),
    # wake frames nobody asked for, after an honest reply
    "wake_flood": (
        "",
        "rid, _, _ = next_request()\nanswer(rid)\nfor k in range(100):\n    sdk.send_frame(conn, sdk.WAKE, 12345 + k)",
        "serve_reply_before_request",
        "bytes from the server were waiting before request",
    ),
    "resize": (
        RESIZE,
        "rid, _, _ = next_request()\nsdk.send_frame(conn, sdk.ERROR, rid, ', '.join(report).encode())",
        "serve_error",
        "shrink: PermissionError, grow: PermissionError, fallocate: PermissionError, seal: PermissionError, size +0",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_server_that_abuses_the_shared_page_fails_the_run_saying_how(hostile, run, case):
    prelude, then, code, words = CASES[case]
    spec = hostile(serve=RAW_CHANNEL_SERVER % (prelude, then), limits={"request_timeout_s": 3, "serve_ready_s": 20})
    document, _ = run(spec)
    assert document["status"] == "failed", case
    failure = document["failure"]
    assert (failure["phase"], failure["code"]) == ("measuring", code), failure
    assert failure["reason"].startswith("the submission's server: ")
    assert words in failure["reason"], failure["reason"]
    # Every server of the job took the channel: what failed was the page, not a fallback.
    assert document["provenance"]["channels"] == {"null": "shm/1", "reference": "shm/1", "submission": "shm/1"}
