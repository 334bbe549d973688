"""Both sides poll while they wait, within a bound: what must hold whatever the placement."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from runners import footprint_sdk as sdk
from runners.harness import time_queries
from runners.placement import REPLY_SPIN_NS, reply_spin_for, server_cpus

from .conftest import NULL_SERVER

SLOW_SERVER = """
    import time, footprint_sdk
    def predict(batch):
        time.sleep(0.5)
        return batch.reshape(len(batch), -1)
    footprint_sdk.serve(predict)
"""


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    yield a, b
    a.close()
    b.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_it_sees_data_that_is_already_there_without_polling_further(pair) -> None:
    a, b = pair
    a.sendall(b"x")
    started = time.perf_counter()
    assert sdk.poll_readable(sdk.readable_poller(b), 10_000_000_000)
    assert time.perf_counter() - started < 1.0


def test_it_gives_up_after_the_polling_window(pair) -> None:
    _, b = pair
    started = time.perf_counter_ns()
    assert not sdk.poll_readable(sdk.readable_poller(b), 20_000_000)
    elapsed = time.perf_counter_ns() - started
    assert 20_000_000 <= elapsed < 2_000_000_000


def test_it_sees_data_that_arrives_while_it_polls(pair) -> None:
    a, b = pair
    sender = threading.Timer(0.05, a.sendall, args=(b"x",))
    sender.start()
    started = time.perf_counter()
    try:
        assert sdk.poll_readable(sdk.readable_poller(b), 10_000_000_000)
    finally:
        sender.join()
    assert 0.04 < time.perf_counter() - started < 5.0


def test_it_sees_a_closed_peer_as_readable(pair) -> None:
    a, b = pair
    a.close()
    assert sdk.poll_readable(sdk.readable_poller(b), 10_000_000_000)
    assert b.recv(1) == b""


def test_an_idle_server_sleeps_once_its_polling_window_has_passed(start_server) -> None:
    server = start_server(argv=[str(NULL_SERVER)])
    client = server.connect()
    client.predict(np.zeros((1, 4), np.float32))
    time.sleep(0.1)  # past the window: from here on the server must be asleep in recv()
    before = cpu_seconds(server.proc.pid)
    time.sleep(1.0)
    assert cpu_seconds(server.proc.pid) - before < 0.2
    # Asleep, it still answers the next request.
    assert client.predict(np.zeros((2, 4), np.float32)).tolist() == [0, 0]
    client.shutdown()
    assert server.wait() == 0


def test_the_harness_waits_for_a_slow_reply_asleep(start_server) -> None:
    client = start_server(script=SLOW_SERVER).connect()
    assert REPLY_SPIN_NS < 100_000_000  # the check below needs a window well under the 0.5 s
    started = time.thread_time()
    reply = client.predict(np.ones((1, 3), np.float32))
    assert time.thread_time() - started < 0.2
    assert reply.tolist() == [[1.0, 1.0, 1.0]]
    client.shutdown()


def test_polling_sides_that_share_one_cpu_do_not_wait_out_their_windows(start_server) -> None:
    # Without yielding, each side would poll its whole window (2 ms) before the other ran.
    cpu = max(os.sched_getaffinity(0))
    server = start_server(argv=[str(NULL_SERVER)])
    os.sched_setaffinity(server.proc.pid, {cpu})
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        client = server.connect(reply_spin_ns=REPLY_SPIN_NS)  # the harness would not poll here by itself
        x = np.zeros((1, 1, 2, 2), np.float32)
        time_queries(client, [x] * 20, num_classes=10)
        timed = time_queries(client, [x] * 200, num_classes=10)
        client.shutdown()
    finally:
        os.sched_setaffinity(0, previous)
    assert float(np.median(timed.ns)) / 1000 < 1000


@pytest.fixture
def pinned() -> Iterator:
    """pinned(cpus): pin this thread; its affinity is restored at teardown."""
    original = os.sched_getaffinity(0)
    yield lambda cpus: os.sched_setaffinity(0, cpus)
    os.sched_setaffinity(0, original)


def test_the_harness_reads_the_servers_cpus_from_the_socket(start_server) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    server = start_server(argv=[str(NULL_SERVER)])
    os.sched_setaffinity(server.proc.pid, {cpus[-1]})
    client = server.connect()
    assert server_cpus(client._sock) == {cpus[-1]}
    client.shutdown()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_the_harness_polls_for_replies_only_when_the_server_runs_on_other_cpus(start_server, pinned) -> None:
    first, last = min(os.sched_getaffinity(0)), max(os.sched_getaffinity(0))
    server = start_server(argv=[str(NULL_SERVER)])
    os.sched_setaffinity(server.proc.pid, {last})
    pinned({first})
    apart = server.connect()
    assert apart.reply_spin_ns == REPLY_SPIN_NS
    apart.close()
    server = start_server(argv=[str(NULL_SERVER)])
    os.sched_setaffinity(server.proc.pid, {last})
    pinned({first, last})  # may run where the server does: sharing
    shared = server.connect()
    assert shared.reply_spin_ns == 0
    assert shared.predict(np.zeros((1, 4), np.float32)).tolist() == [0]
    shared.close()
    server = start_server(argv=[str(NULL_SERVER)])
    explicit = server.connect(reply_spin_ns=12345)
    assert explicit.reply_spin_ns == 12345
    explicit.close()


def test_the_harness_sleeps_when_it_cannot_tell_where_the_server_runs(pair) -> None:
    a, _ = pair
    a.close()  # a closed socket has no peer to ask
    assert server_cpus(a) is None and reply_spin_for(a) == 0
