"""Freezing a container: it runs no instruction until thawed, and is still removed at once."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.docker

SPIN = ["python3", "-c", "while True: pass"]


def cpu_over(running, seconds: float) -> float:
    start = running.cpu_time_s()
    time.sleep(seconds)
    return running.cpu_time_s() - start


def test_a_frozen_container_uses_no_cpu_until_it_is_thawed(docker_sandbox, make_spec):
    with docker_sandbox.start(make_spec(SPIN)) as running:
        time.sleep(0.5)
        assert cpu_over(running, 0.5) > 0.3  # a spinning process: most of a core
        running.freeze()
        assert running.frozen
        assert cpu_over(running, 1.0) < 0.02
        running.thaw()
        assert not running.frozen
        assert cpu_over(running, 0.5) > 0.3


def test_a_frozen_container_is_killed_and_removed_without_waiting(docker_sandbox, make_spec, docker_client):
    running = docker_sandbox.start(make_spec(SPIN))
    container_id = running.id
    running.freeze()
    started = time.monotonic()
    outcome = running.stop(0.0)
    assert time.monotonic() - started < 15
    assert outcome.exit_code is not None
    assert docker_client.containers.list(all=True, filters={"id": container_id}) == []


def test_a_runner_thaws_what_a_dead_predecessor_froze_before_reaping_it(docker_sandbox, make_spec, docker_client):
    running = docker_sandbox.start(make_spec(SPIN, labels={"org.footprint.test": "1", "org.footprint.reap-me": "1"}))
    running.freeze()
    started = time.monotonic()
    assert docker_sandbox.reap_orphans(label="org.footprint.reap-me=1") == 1
    assert time.monotonic() - started < 15
    running.stop(0.0)
