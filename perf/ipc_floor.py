"""What does a query cost before Footprint adds anything? The floor under `null_p50_us`.

    .venv/bin/python perf/ipc_floor.py [--json] [--queries 20000] [--client-cpu 0] [--server-cpu 1]

Three round trips between two processes pinned to two CPUs, each p50 over `--queries`
(after a tenth as many unmeasured):

- `socket_p50_us`: the bare floor: 40 bytes over a Unix socket pair and back, both sides
  busy-polling (`poll(0)`, no yield), no framing, no arrays;
- `sdk_p50_us`: the serve protocol without Docker: the null server's code path
  (footprint_sdk.serve in a child process) against the harness's client (ServeClient,
  time_queries), through the shared-memory channel as a job takes it (the page of a
  digits job; `channel` says which one was used);
- `sdk_socket_p50_us`: the same with requests and replies on the Unix socket (a server
  that does not take the channel);
- the same through the sandbox is perf/harness.py's `null_p50_us`.

`sdk_socket_p50_us - socket_p50_us` is what the protocol's framing and arrays cost on both
sides; `null_p50_us - sdk_p50_us` what the container adds (its cgroup, the bind mounts).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "runners")]

from runners.harness import ServeClient, page_size_for, time_queries  # noqa: E402
from runners.placement import REPLY_SPIN_NS  # noqa: E402

# The page of a digits job (its input, accuracy batch and classes).
DIGITS_PAGE = page_size_for((1, 8, 8), "float32", batch_size=64, num_classes=10)


def _p50_us(ns: list[int] | np.ndarray) -> float:
    ordered = np.sort(np.asarray(ns, dtype=np.int64))
    return round(float(ordered[len(ordered) // 2]) / 1000.0, 2)


def socket_floor(queries: int, client_cpu: int, server_cpu: int) -> float:
    ours, theirs = socket.socketpair()
    warm = queries // 10
    pid = os.fork()
    if pid == 0:  # the echo side
        ours.close()
        os.sched_setaffinity(0, {server_cpu})
        poller = select.poll()
        poller.register(theirs.fileno(), select.POLLIN)
        while True:
            while not poller.poll(0):
                pass
            data = theirs.recv(64)
            if not data:
                os._exit(0)
            theirs.send(data)
    theirs.close()
    os.sched_setaffinity(0, {client_cpu})
    poller = select.poll()
    poller.register(ours.fileno(), select.POLLIN)
    clock, message, times = time.perf_counter_ns, b"x" * 40, []
    for _ in range(warm + queries):
        t0 = clock()
        ours.send(message)
        while not poller.poll(0):
            pass
        ours.recv(64)
        times.append(clock() - t0)
    ours.close()
    os.waitpid(pid, 0)
    return _p50_us(times[warm:])


_NULL_SERVER = """
import os, sys
import numpy as np
os.sched_setaffinity(0, {%d})
sys.path.insert(0, %r)
import footprint_sdk
reply = np.zeros(1, dtype=np.int64)
footprint_sdk.serve(lambda batch: reply, socket_path=%r, info="ipc-floor")
"""


def sdk_floor(queries: int, client_cpu: int, server_cpu: int, *, channel: bool) -> tuple[float, str]:
    """The null server's p50 without Docker, and the channel its requests took."""
    import subprocess

    with tempfile.TemporaryDirectory(prefix="footprint-ipc-") as folder:
        path = os.path.join(folder, "serve.sock")
        code = _NULL_SERVER % (server_cpu, str(REPO / "runners"), path)
        server = subprocess.Popen([sys.executable, "-c", code], env={"PATH": os.environ.get("PATH", "/usr/bin")})
        try:
            os.sched_setaffinity(0, {client_cpu})
            client = ServeClient.connect(
                path,
                ready_timeout_s=30.0,
                is_alive=lambda: server.poll() is None,
                reply_spin_ns=REPLY_SPIN_NS if client_cpu != server_cpu else 0,
                page=DIGITS_PAGE if channel else None,
            )
            with client:
                inputs = [np.zeros((1, 1, 8, 8), dtype=np.float32) for _ in range(queries // 10 + queries)]
                timed = time_queries(client, inputs, num_classes=10)
                used = client.channel
                client.shutdown()
        finally:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return _p50_us(timed.ns[queries // 10 :]), used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--client-cpu", type=int, default=0)
    parser.add_argument("--server-cpu", type=int, default=1)
    args = parser.parse_args()
    sdk_p50_us, channel = sdk_floor(args.queries, args.client_cpu, args.server_cpu, channel=True)
    figures = {
        "queries": args.queries,
        "socket_p50_us": socket_floor(args.queries, args.client_cpu, args.server_cpu),
        "sdk_p50_us": sdk_p50_us,
        "channel": channel,
        "sdk_socket_p50_us": sdk_floor(args.queries, args.client_cpu, args.server_cpu, channel=False)[0],
    }
    figures["framing_us"] = round(figures["sdk_socket_p50_us"] - figures["socket_p50_us"], 2)
    if args.json:
        print(json.dumps(figures))
    else:
        for name, value in figures.items():
            print(f"{name:>16}: {value}")


if __name__ == "__main__":
    main()
