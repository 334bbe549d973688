"""A compress that looks around: the network, the host, the secrets. Nothing is reachable."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.hostile]

# Tries everything and reports what worked as one JSON line; exits 0 so the report is kept.
PROBE = r"""#!/usr/bin/env python3
import ctypes, json, os, socket
found = {}
def attempt(name, fn):
    try:
        found[name] = ["ok", str(fn())[:200]]
    except Exception as exc:
        found[name] = ["refused", f"{type(exc).__name__}: {exc}"[:200]]
def dns():
    return socket.getaddrinfo("deb.debian.org", 80)
def public():
    s = socket.create_connection(("1.1.1.1", 53), timeout=2); s.close(); return "connected"
def platform():
    s = socket.create_connection(("172.17.0.1", 5432), timeout=2); s.close(); return "connected"
def loopback_host_port():
    s = socket.create_connection(("127.0.0.1", 5432), timeout=2); s.close(); return "connected"
def docker_socket():
    s = socket.socket(socket.AF_UNIX); s.connect("/var/run/docker.sock"); return "connected"
def write_root():
    open("/etc/owned", "w").write("x"); return "written"
def mount():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return "mounted"
def ptrace():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(16, 1, None, None) != 0:  # PTRACE_ATTACH to pid 1
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return "attached"
def test_split():
    return [n for n in os.listdir("/footprint/in")]
attempt("dns", dns)
attempt("public_address", public)
attempt("docker_bridge_gateway", platform)
attempt("loopback_platform_port", loopback_host_port)
attempt("docker_socket", docker_socket)
attempt("write_root_fs", write_root)
attempt("mount", mount)
attempt("ptrace", ptrace)
attempt("inputs", test_split)
found["processes"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
found["uid"] = os.getuid()
found["environment"] = sorted(os.environ)
found["ld_preload"] = os.environ.get("LD_PRELOAD")
found["secret_from_image"] = os.environ.get("FOOTPRINT_TEST_IMAGE_SECRET")
found["capabilities"] = [l for l in open("/proc/self/status") if l.startswith("CapEff")]
print("PROBE " + json.dumps(found), flush=True)
import shutil, footprint_sdk
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("probe")
"""


def test_the_sandbox_gives_a_compress_nothing_to_reach(hostile, run):
    spec = hostile(
        compress=PROBE,
        # The image tries to preload a library and to pass a value through its environment.
        dockerfile="ENV LD_PRELOAD=/tmp/evil.so FOOTPRINT_TEST_IMAGE_SECRET=from-the-image\n",
    )
    document, _ = run(spec)
    assert document["status"] == "succeeded", document["failure"]
    line = next(line for line in document["phases"]["compress"]["log_tail"].splitlines() if line.startswith("PROBE "))
    found = json.loads(line.removeprefix("PROBE "))
    for name in (
        "dns",
        "public_address",
        "docker_bridge_gateway",
        "loopback_platform_port",
        "docker_socket",
        "write_root_fs",
        "mount",
        "ptrace",
    ):
        assert found[name][0] == "refused", (name, found[name])
    # Only the training split, the reference and task.json: the test split is not there.
    assert sorted(found["inputs"][1].strip("[]").replace("'", "").split(", ")) == [
        "reference",
        "task.json",
        "train.npz",
    ]
    assert len(found["processes"]) <= 3  # its own pid namespace: no host process is visible
    assert found["uid"] == 10001
    assert found["ld_preload"] == "" and found["secret_from_image"] == ""
    assert found["capabilities"][0].split()[1] == "0000000000000000"
    assert not any(name.startswith(("DATABASE", "CELERY", "DJANGO", "AWS")) for name in found["environment"])
