"""Where the harness runs while it measures: CPU sets, pinning, and whether to poll.

docs/measurement.md, "Placement".
"""

from __future__ import annotations

import os
import socket
import struct

# While a request is out, the harness polls for the reply this long before it sleeps in
# recv() (footprint_sdk.poll_readable): waking a sleeping CPU costs tens of microseconds on
# a virtual machine, as much as a small model. Replies slower than this are waited for
# asleep, where that wake-up is a small part of the latency. Only when the server runs on
# other CPUs (reply_spin_for).
REPLY_SPIN_NS = 2_000_000

PLACEMENT_APART = "harness on one CPU outside the container's cpuset; both sides poll while they wait"
PLACEMENT_SHARED = "harness on the container's CPUs (the runner has no other); the harness sleeps while it waits"


def parse_cpuset(text: str) -> set[int]:
    """CPUs of a cpuset string such as "0-1,3" (the syntax of docker --cpuset-cpus)."""
    cpus: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                low, high = (int(v) for v in part.split("-", 1))
                if low > high or low < 0:
                    raise ValueError
                cpus.update(range(low, high + 1))
            else:
                cpu = int(part)
                if cpu < 0:
                    raise ValueError
                cpus.add(cpu)
        except ValueError:
            raise ValueError(f"invalid cpuset {text!r}: expected e.g. '1' or '0-1,3'") from None
    return cpus


def harness_cpus(container_cpus: set[int], allowed: set[int]) -> tuple[set[int], str]:
    """The CPUs the harness pins itself to while it measures a container, and the policy.

    One CPU outside the container's cpuset when the runner may use one (the lowest, so
    that every run of a hardware class is placed alike): the harness's work between queries
    then neither delays the server nor evicts the model from its CPU's caches, and since
    both sides poll while they wait (footprint_sdk.SERVE_SPIN_NS, REPLY_SPIN_NS) neither
    pays a sleeping CPU's wake-up. Without such a CPU, the container's CPUs (those of
    `allowed`, so that pinning cannot fail); the harness then sleeps while it waits
    (reply_spin_for), as a poller would take the CPU from the model.
    """
    if not container_cpus:
        raise ValueError("the container's cpuset is empty")
    outside = sorted(allowed - container_cpus)
    if outside:
        return {outside[0]}, PLACEMENT_APART
    return (container_cpus & allowed) or set(allowed), PLACEMENT_SHARED


def pin_current_process(cpus: set[int]) -> set[int]:
    """Pin the calling thread (and threads it starts later) to `cpus`; return the old set."""
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    return previous


def server_cpus(sock: socket.socket) -> set[int] | None:
    """The CPUs the process at the other end of a Unix socket may run on; None if unknown.

    The peer's pid comes from SO_PEERCRED (in this process's pid namespace: a container's
    server is visible from the runner); None when the peer is not visible (pid 0) or gone.
    """
    try:
        pid, _, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        return os.sched_getaffinity(pid) if pid > 0 else None
    except OSError:
        return None


def reply_spin_for(sock: socket.socket) -> int:
    """REPLY_SPIN_NS when the server runs on other CPUs than this thread, else 0.

    Polling only pays when the two sides run at the same time. Sharing a CPU, a polling
    harness competes with the server for it (a yield does not hand the CPU over across
    cgroups, as between the runner and a container), so it sleeps instead. When the
    server's CPUs cannot be read, it sleeps too: the cost of sleeping is known.
    """
    peer = server_cpus(sock)
    if peer is None or peer & os.sched_getaffinity(0):
        return 0
    return REPLY_SPIN_NS
