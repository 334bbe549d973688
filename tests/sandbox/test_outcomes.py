"""What `DockerSandbox.run` reports: exit codes, start errors, limits, log tails, meters."""

from __future__ import annotations

import time

import docker
import docker.errors
import pytest

from runners.meters import cgroup
from runners.sandbox.docker import DockerSandbox, readable_start_error
from tests.sandbox.conftest import MakeSpec

pytestmark = pytest.mark.docker

MIB = 1 << 20


def test_it_reports_a_nonzero_exit_code_and_the_log_tail(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    outcome = docker_sandbox.run(make_spec(["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7"]))
    assert outcome.exit_code == 7
    assert "to-stdout" in outcome.log_tail and "to-stderr" in outcome.log_tail
    assert outcome.start_error is None and outcome.killed_reason is None
    assert not (outcome.timed_out or outcome.oom_killed or outcome.pids_limit_hit)


def test_it_explains_a_missing_executable(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    outcome = docker_sandbox.run(make_spec(["compress"]))
    assert outcome.start_error == "the image has no `compress` command on its PATH"
    assert outcome.exit_code is None


def test_it_explains_a_missing_absolute_path(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    outcome = docker_sandbox.run(make_spec(["/opt/nothing/serve"]))
    assert outcome.start_error == "`/opt/nothing/serve` does not exist in the image"


def test_it_explains_a_missing_image(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    outcome = docker_sandbox.run(make_spec(["true"], image="footprint-test/absent:nope"))
    assert outcome.start_error is not None
    assert outcome.start_error.startswith("the image footprint-test/absent:nope is not on this runner")


def test_it_reports_a_memory_hog_as_oom_killed(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    hog = "b = bytearray(b'x') * (512 << 20)"
    outcome = docker_sandbox.run(make_spec(["python3", "-c", hog], memory_bytes=128 * MIB))
    assert outcome.oom_killed
    assert outcome.exit_code == 137
    assert "memory limit" in (outcome.killed_reason or "")
    # The peak sits at the limit: the memory cgroup charged up to it before the kill.
    assert outcome.peak_memory_bytes is not None and outcome.peak_memory_bytes >= 120 * MIB


def test_it_bounds_a_fork_bomb_by_the_pids_limit(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    bomb = (
        "import os, time\n"
        "forked = 0\n"
        "try:\n"
        "    for _ in range(200):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(5)\n"
        "            os._exit(0)\n"
        "        forked += 1\n"
        "except OSError as exc:\n"
        "    print('fork refused after', forked, exc.errno, flush=True)\n"
        "time.sleep(0.6)\n"
    )
    outcome = docker_sandbox.run(make_spec(["python3", "-c", bomb], pids_limit=32))
    assert outcome.pids_limit_hit
    assert "fork refused after" in outcome.log_tail
    forked = int(outcome.log_tail.split("fork refused after")[1].split()[0])
    assert forked < 32
    assert outcome.exit_code == 0  # PID 1 exiting ends its children too


def test_it_kills_a_container_at_its_wall_clock_limit(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    started = time.monotonic()
    outcome = docker_sandbox.run(make_spec(["sleep", "30"], wall_limit_s=1.0))
    elapsed_s = time.monotonic() - started
    assert outcome.timed_out
    assert outcome.exit_code == 137
    assert outcome.killed_reason == "it ran past the wall-clock limit of 1 s"
    assert 1.0 <= outcome.wall_s < 2.0
    assert elapsed_s < 4.0


def test_it_measures_wall_time_from_the_engine(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    outcome = docker_sandbox.run(make_spec(["sleep", "0.5"]))
    assert outcome.exit_code == 0
    # The engine stamps StartedAt once the runtime reports the task running, which can be a
    # moment after the process began: a CI run measured 0.49984 s for this sleep.
    assert 0.49 <= outcome.wall_s < 1.0


def test_it_keeps_only_the_tail_of_a_huge_log(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    chatter = (
        "import sys\n"
        "line = 'é' * 99 + '\\n'\n"  # multi-byte characters: the cut may split one
        "for _ in range(25000):\n"
        "    sys.stdout.write(line)\n"
        "sys.stdout.write('THE-END\\n')\n"
    )
    outcome = docker_sandbox.run(make_spec(["python3", "-c", chatter], log_tail_bytes=4096))
    assert outcome.exit_code == 0
    assert outcome.log_tail.endswith("THE-END\n")
    assert len(outcome.log_tail.encode("utf-8")) <= 4096 + 2 * 3  # a replaced split character may grow
    assert len(outcome.log_tail) > 1000


def test_it_reports_the_peak_memory_after_the_exit(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    allocate = "b = bytearray(b'x') * (200 << 20)"
    outcome = docker_sandbox.run(make_spec(["python3", "-c", allocate], memory_bytes=512 * MIB))
    assert outcome.exit_code == 0
    assert outcome.peak_memory_bytes is not None
    assert 200 * MIB <= outcome.peak_memory_bytes < 400 * MIB


def test_it_reports_the_cpu_time_of_a_busy_loop(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.0:\n    pass\n"
    outcome = docker_sandbox.run(make_spec(["python3", "-c", busy]))
    assert outcome.exit_code == 0
    assert outcome.cpu_s is not None
    assert 1.0 <= outcome.cpu_s < 1.5


def test_it_leaves_no_container_and_no_cgroup_behind(
    docker_sandbox: DockerSandbox, docker_client: docker.DockerClient, make_spec: MakeSpec
) -> None:
    outcome = docker_sandbox.run(make_spec(["true"]))
    assert outcome.exit_code == 0 and outcome.container_id and outcome.cgroup_path
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(outcome.container_id)
    assert outcome.cgroup_path.startswith("footprint-test/c-")
    assert cgroup.cgroup_dirs(outcome.cgroup_path) == []
    assert cgroup.cgroup_dirs(f"{outcome.cgroup_path}/{outcome.container_id}") == []


def test_a_container_that_failed_to_start_is_removed_too(
    docker_sandbox: DockerSandbox, docker_client: docker.DockerClient, make_spec: MakeSpec
) -> None:
    outcome = docker_sandbox.run(make_spec(["compress"]))
    assert outcome.start_error and outcome.container_id and outcome.cgroup_path
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(outcome.container_id)
    assert cgroup.cgroup_dirs(outcome.cgroup_path) == []


@pytest.mark.parametrize(
    ("explanation", "readable"),
    [
        (
            "OCI runtime create failed: container_linux.go:380: starting container process caused: "
            'exec: "compress": executable file not found in $PATH: unknown',
            "the image has no `compress` command on its PATH",
        ),
        (
            "failed to create task for container: failed to create shim task: OCI runtime create failed: runc "
            'create failed: unable to start container process: exec: "serve": executable file not found in '
            "$PATH: unknown",
            "the image has no `serve` command on its PATH",
        ),
        (
            "OCI runtime create failed: container_linux.go:380: starting container process caused: exec: "
            '"/app/compress": permission denied: unknown',
            "`/app/compress` is not executable by the container's user",
        ),
        (
            "OCI runtime create failed: runc create failed: unable to start container process: "
            "exec /usr/local/bin/compress: no such file or directory: unknown",
            "`/usr/local/bin/compress` cannot be executed: its interpreter (the #! line) or a library it "
            "needs is missing",
        ),
        (
            "OCI runtime create failed: container_linux.go:380: starting container process caused: "
            "something new: unknown",
            "something new",
        ),
    ],
)
def test_start_errors_read_as_words(explanation: str, readable: str) -> None:
    assert readable_start_error(explanation) == readable
