"""Container specs for the sandbox tests: the small base image, tight limits, test labels."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from runners.sandbox.docker import ContainerSpec

# The last CPU this process may use: a real CPU set on any machine, "1" on the 2-CPU ones.
TEST_CPU = str(max(os.sched_getaffinity(0)))

MakeSpec = Callable[..., ContainerSpec]


@pytest.fixture
def make_spec(base_image: str) -> MakeSpec:
    """make_spec(command, **overrides): a ContainerSpec on the base image (python3, no torch)."""

    def make(command: list[str], **overrides: object) -> ContainerSpec:
        fields: dict = {
            "image": base_image,
            "command": command,
            "labels": {"org.footprint.test": "1"},
            "cpuset": TEST_CPU,
            "memory_bytes": 256 << 20,
            "pids_limit": 32,
            "tmpfs_bytes": 16 << 20,
            "wall_limit_s": 30.0,
            "log_tail_bytes": 4096,
        }
        fields.update(overrides)
        return ContainerSpec(**fields)

    return make


from tests.api.test_registry_reference import registry  # noqa: E402, F401  (a docker-registry of the test's own)
