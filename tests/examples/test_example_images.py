"""The example images: built FROM the runtime image, `compress` runs in the runner's sandbox
(read-only root, user 10001, no network) and writes what the same script writes on the host."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import docker.errors
import numpy as np
import pytest
import torch

from runners.images import build_image
from runners.sandbox.docker import ContainerSpec, DockerSandbox, Mount
from tests.examples.conftest import EXAMPLE_NAMES, EXAMPLES_DIR, Compressed
from tests.fixtures.docker import SESSION, TEST_LABELS, container_test_labels

pytestmark = pytest.mark.docker

TEST_CPU = str(max(os.sched_getaffinity(0)))


@pytest.fixture(scope="module")
def example_image(docker_client: docker.DockerClient, runtime_image: str) -> Iterator[Callable[[str], str]]:
    """example_image(name) -> tag, built once per module from examples/<name>/Dockerfile."""
    tags: dict[str, str] = {}

    def get(name: str) -> str:
        if name not in tags:
            tag = f"footprint-test/example-{name}:{SESSION}"
            build_image(
                EXAMPLES_DIR,
                tag=tag,
                dockerfile=f"{name}/Dockerfile",
                buildargs={"BASE_IMAGE": runtime_image},
                labels=TEST_LABELS,
                client=docker_client,
            )
            tags[name] = tag
        return tags[name]

    yield get
    for tag in tags.values():
        try:
            docker_client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_compress_runs_in_the_sandbox_and_matches_the_host_run(
    name: str,
    example_image: Callable[[str], str],
    docker_sandbox: DockerSandbox,
    digits_fixture: Path,
    compressed: Callable[[str], Compressed],
    tmp_path: Path,
) -> None:
    image = example_image(name)
    assert docker_sandbox.client.images.get(image).labels["org.footprint.example"] == name
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)  # written by user 10001 in the container
    outcome = docker_sandbox.run(ContainerSpec(
        image=image, command=["compress"],
        mounts=[Mount(str(digits_fixture / "in"), "/footprint/in", True), Mount(str(out), "/footprint/out", False)],
        env={"FOOTPRINT_THREADS": "1", "OMP_NUM_THREADS": "1"}, cpuset=TEST_CPU,
        labels=container_test_labels(), wall_limit_s=300.0, memory_bytes=2 << 30,
    ))  # fmt: skip
    assert outcome.exit_code == 0, outcome.start_error or outcome.log_tail
    assert "method.json: validation accuracy" in outcome.log_tail
    assert "Warning" not in outcome.log_tail  # torch's deprecation noise must not eat the log tail
    assert sorted(p.name for p in out.iterdir()) == ["method.json", "model.pt"]

    x = torch.from_numpy(np.load(digits_fixture / "test.npz")["x"])
    with torch.no_grad():
        in_container = torch.jit.load(str(out / "model.pt"), map_location="cpu")(x)
        on_host = torch.jit.load(str(compressed(name).out / "model.pt"), map_location="cpu")(x)
    # Same seed, same torch, same data: the container trains the same model as the host.
    assert torch.equal(in_container.argmax(1), on_host.argmax(1))
    assert torch.allclose(in_container, on_host, atol=1e-4)
