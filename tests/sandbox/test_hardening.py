"""Every hardening property of the sandbox, observed from inside a container."""

from __future__ import annotations

import json
import os

import docker
import pytest

from runners.sandbox.docker import ContainerSpec, DockerSandbox, Mount
from tests.sandbox.conftest import TEST_CPU, MakeSpec

pytestmark = pytest.mark.docker

TMPFS_BYTES = 16 << 20

PROBE = r"""
import errno, json, os, socket

def attempt(action):
    try:
        action()
        return "ok"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc))

def write(path, size):
    def go():
        with open(path, "wb") as f:
            f.write(b"x" * size)
    return go

def connect():
    with socket.create_connection(("192.0.2.1", 80), timeout=2):
        pass

status = {}
for line in open("/proc/self/status"):
    key, _, value = line.partition(":")
    status[key] = value.strip()
mounts = {line.split()[1]: line.split()[3] for line in open("/proc/mounts")}
print(json.dumps({
    "interfaces": sorted(os.listdir("/sys/class/net")),
    "connect": attempt(connect),
    "root_write": attempt(write("/etc/footprint-probe", 1)),
    "tmp_write_small": attempt(write("/tmp/small", 1 << 20)),
    "tmp_write_over_cap": attempt(write("/tmp/big", 2 * TMPFS_BYTES)),
    "tmp_options": mounts.get("/tmp", ""),
    "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
    "cap_eff": status["CapEff"], "cap_bnd": status["CapBnd"],
    "no_new_privs": status["NoNewPrivs"], "seccomp": status["Seccomp"],
    "cpus": sorted(os.sched_getaffinity(0)),
    "cwd": os.getcwd(),
    "env": os.environ.get("FOOTPRINT_PROBE"),
    "in_read": open("/footprint/in/data.txt").read(),
    "in_write": attempt(write("/footprint/in/new.txt", 1)),
    "out_write": attempt(write("/footprint/out/result.txt", 3)),
}))
""".replace("TMPFS_BYTES", str(TMPFS_BYTES))


@pytest.fixture(scope="module")
def probe(base_image: str, docker_sandbox: DockerSandbox, tmp_path_factory: pytest.TempPathFactory) -> dict:
    in_dir = tmp_path_factory.mktemp("in")
    (in_dir / "data.txt").write_text("input")
    in_dir.chmod(0o755)
    out_dir = tmp_path_factory.mktemp("out")
    out_dir.chmod(0o777)  # the container's user (10001) writes there
    outcome = docker_sandbox.run(
        ContainerSpec(
            image=base_image,
            command=["python3", "-c", PROBE],
            mounts=[Mount(str(in_dir), "/footprint/in", True), Mount(str(out_dir), "/footprint/out", False)],
            env={"FOOTPRINT_PROBE": "yes"},
            cpuset=TEST_CPU,
            memory_bytes=256 << 20,
            pids_limit=32,
            tmpfs_bytes=TMPFS_BYTES,
            wall_limit_s=30,
            labels={"org.footprint.test": "1"},
        )
    )
    assert outcome.exit_code == 0, outcome.log_tail
    result = json.loads(outcome.log_tail.strip().splitlines()[-1])
    result["out_file"] = (out_dir / "result.txt").read_text() if (out_dir / "result.txt").exists() else None
    return result


def test_the_container_has_no_network_but_loopback(probe: dict) -> None:
    assert probe["interfaces"] == ["lo"]
    assert probe["connect"] == "ENETUNREACH"


def test_the_root_file_system_is_read_only(probe: dict) -> None:
    assert probe["root_write"] == "EROFS"


def test_tmp_is_writable_and_capped(probe: dict) -> None:
    assert probe["tmp_write_small"] == "ok"
    assert probe["tmp_write_over_cap"] == "ENOSPC"
    assert f"size={TMPFS_BYTES // 1024}k" in probe["tmp_options"]
    assert "nosuid" in probe["tmp_options"] and "nodev" in probe["tmp_options"]


def test_the_process_runs_as_the_unprivileged_user(probe: dict) -> None:
    assert (probe["uid"], probe["gid"]) == (10001, 10001)
    assert probe["groups"] in ([], [10001])


def test_the_process_has_no_capabilities(probe: dict) -> None:
    assert int(probe["cap_eff"], 16) == 0
    assert int(probe["cap_bnd"], 16) == 0


def test_the_process_cannot_gain_privileges(probe: dict) -> None:
    assert probe["no_new_privs"] == "1"


def test_the_default_seccomp_filter_is_on(probe: dict) -> None:
    assert probe["seccomp"] == "2"


def test_the_cpu_set_is_honoured(probe: dict) -> None:
    assert probe["cpus"] == [int(TEST_CPU)]


def test_it_starts_in_tmp_with_the_given_environment(probe: dict) -> None:
    assert probe["cwd"] == "/tmp"
    assert probe["env"] == "yes"


def test_read_only_mounts_are_read_only_and_writable_ones_are_writable(probe: dict) -> None:
    assert probe["in_read"] == "input"
    assert probe["in_write"] == "EROFS"
    assert probe["out_write"] == "ok" and probe["out_file"] == "xxx"


def test_the_container_is_created_with_every_limit(
    docker_sandbox: DockerSandbox, docker_client: docker.DockerClient, make_spec: MakeSpec
) -> None:
    spec = make_spec(
        ["sleep", "30"], memory_bytes=200 << 20, pids_limit=40, labels={"org.footprint.test": "1", "x": "y"}
    )
    with docker_sandbox.start(spec) as running:
        attrs = docker_client.api.inspect_container(running.id)
        running.stop(0)
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Privileged"] is False
    assert host["Memory"] == host["MemorySwap"] == 200 << 20
    assert host["PidsLimit"] == 40
    assert host["CpusetCpus"] == TEST_CPU
    assert host["IpcMode"] == "private"
    assert host["LogConfig"]["Type"] == "json-file"
    assert host["LogConfig"]["Config"]["max-file"] == "2"
    assert int(host["LogConfig"]["Config"]["max-size"]) >= spec.log_tail_bytes
    assert host["AutoRemove"] is False
    assert host["CgroupParent"].startswith("/footprint-test/c-")
    labels = attrs["Config"]["Labels"]
    assert labels["org.footprint.managed"] == "1"
    assert labels["org.footprint.pid"] == str(os.getpid())
    assert labels["x"] == "y"
    assert attrs["Config"]["User"] == "10001:10001"
    assert "DeviceRequests" not in host or not host["DeviceRequests"]


def test_gpus_are_requested_only_when_asked(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    without = docker_sandbox._create_kwargs(make_spec(["true"]), "footprint-test/c-x")
    with_gpu = docker_sandbox._create_kwargs(make_spec(["true"], gpus=1), "footprint-test/c-x")
    assert "device_requests" not in without
    # By id, never by count: two GPU classes on one host each get their own GPUs.
    [request] = with_gpu["device_requests"]
    assert request["DeviceIDs"] == ["0"] and not request["Count"] and request["Capabilities"] == [["gpu"]]
    assert with_gpu["environment"]["NVIDIA_VISIBLE_DEVICES"] == "0"
    chosen = docker_sandbox._create_kwargs(make_spec(["true"], gpus=2, gpu_ids=(2, 3)), "footprint-test/c-x")
    assert chosen["device_requests"][0]["DeviceIDs"] == ["2", "3"]
    assert chosen["environment"]["NVIDIA_VISIBLE_DEVICES"] == "2,3"
    assert without["environment"]["NVIDIA_VISIBLE_DEVICES"] == "void"
