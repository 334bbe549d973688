"""`DockerSandbox.start`: a server's container, its handle, its watchdog and its removal."""

from __future__ import annotations

import time

import docker
import docker.errors
import pytest

from runners.meters import cgroup
from runners.sandbox.docker import DockerSandbox
from tests.sandbox.conftest import MakeSpec

pytestmark = pytest.mark.docker

MIB = 1 << 20


def _until(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_a_started_container_is_measured_while_it_runs_and_after_it_exits(
    docker_sandbox: DockerSandbox, make_spec: MakeSpec
) -> None:
    server = "import time\nb = bytearray(b'x') * (64 << 20)\nprint('ready', flush=True)\ntime.sleep(1.5)\n"
    with docker_sandbox.start(make_spec(["python3", "-c", server])) as running:
        assert running.is_alive()
        assert _until(lambda: (running.peak_memory_bytes() or 0) >= 64 * MIB, 5.0)
        assert running.is_alive()
        assert _until(lambda: not running.is_alive(), 10.0)
        outcome = running.stop(1.0)
    assert outcome.exit_code == 0
    assert outcome.killed_reason is None and not outcome.timed_out
    assert outcome.peak_memory_bytes is not None and outcome.peak_memory_bytes >= 64 * MIB
    assert "ready" in outcome.log_tail
    assert running.stop(1.0) is outcome  # idempotent


def test_stop_kills_a_server_that_does_not_exit_within_the_grace(
    docker_sandbox: DockerSandbox, make_spec: MakeSpec
) -> None:
    with docker_sandbox.start(make_spec(["sleep", "30"])) as running:
        started = time.monotonic()
        outcome = running.stop(0.5)
        elapsed_s = time.monotonic() - started
    assert outcome.exit_code == 137
    assert outcome.killed_reason == "it did not exit within 0.5 s of the shutdown request"
    assert not outcome.timed_out
    assert 0.5 <= elapsed_s < 3.0


def test_the_watchdog_kills_a_server_at_its_wall_clock_limit(
    docker_sandbox: DockerSandbox, make_spec: MakeSpec
) -> None:
    with docker_sandbox.start(make_spec(["sleep", "30"], wall_limit_s=1.0)) as running:
        assert running.is_alive()
        assert _until(lambda: not running.is_alive(), 3.0)
        outcome = running.stop(5.0)
    assert outcome.timed_out
    assert outcome.exit_code == 137
    assert outcome.killed_reason == "it ran past the wall-clock limit of 1 s"
    assert 1.0 <= outcome.wall_s < 2.0


def test_leaving_the_context_removes_the_container_even_on_an_error(
    docker_sandbox: DockerSandbox, docker_client: docker.DockerClient, make_spec: MakeSpec
) -> None:
    with pytest.raises(RuntimeError, match="harness broke"):
        with docker_sandbox.start(make_spec(["sleep", "30"])) as running:
            container_id = running.id
            assert container_id is not None
            raise RuntimeError("harness broke")
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(container_id)
    assert not running.is_alive()


def test_a_server_that_cannot_start_is_not_alive_and_says_why(
    docker_sandbox: DockerSandbox, make_spec: MakeSpec
) -> None:
    with docker_sandbox.start(make_spec(["serve"])) as running:
        assert not running.is_alive()
        assert running.peak_memory_bytes() is None
        outcome = running.stop(1.0)
    assert outcome.start_error == "the image has no `serve` command on its PATH"
    assert outcome.exit_code is None


def test_a_caller_owned_cgroup_parent_is_kept_for_the_caller(
    docker_sandbox: DockerSandbox, make_spec: MakeSpec
) -> None:
    parent = f"footprint-test/job-{time.monotonic_ns()}"
    try:
        first = docker_sandbox.run(
            make_spec(["python3", "-c", "b = bytearray(b'x') * (40 << 20)"], cgroup_parent=parent)
        )
        second = docker_sandbox.run(make_spec(["true"], cgroup_parent=parent))
        assert first.cgroup_path == second.cgroup_path == parent
        # The parent's high-water mark covers both containers: the caller's to aggregate.
        assert second.peak_memory_bytes is not None and second.peak_memory_bytes >= 40 * MIB
        assert cgroup.cgroup_dirs(parent) != []
    finally:
        assert cgroup.remove_cgroup(parent)
    assert cgroup.cgroup_dirs(parent) == []
