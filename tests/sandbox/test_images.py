"""runners.images: content-hash builds, the offline base check, and the runtime image itself."""

from __future__ import annotations

import uuid
from pathlib import Path

import docker
import docker.errors
import pytest

from runners import images
from runners.images import (
    CONTEXT_HASH_LABEL,
    DEFAULT_WHEELS_DIR,
    ImageBuildError,
    build_image,
    build_runtime_image,
    context_sha256,
    from_images,
)
from runners.sandbox.docker import DockerSandbox
from tests.sandbox.conftest import MakeSpec

RUNTIME_DOCKERFILE = Path(images.__file__).resolve().parents[1] / "docker" / "runtime" / "Dockerfile"


# -- without an engine ------------------------------------------------------------------


def test_from_images_expands_build_args_and_skips_stages_and_scratch() -> None:
    text = (
        "ARG BASE_IMAGE=python:3.11-slim-bookworm\n"
        "ARG TOOLS\n"
        "FROM ${BASE_IMAGE} AS build\n"
        "FROM $TOOLS AS tools\n"
        "FROM scratch\n"
        "FROM build\n"
        "COPY --from=tools /x /x\n"
    )
    assert from_images(text, {}) == ["python:3.11-slim-bookworm"]
    assert from_images(text, {"BASE_IMAGE": "footprint/base:bookworm", "TOOLS": "busybox:1"}) == [
        "footprint/base:bookworm",
        "busybox:1",
    ]


def test_the_runtime_dockerfile_starts_from_the_base_image_argument() -> None:
    assert from_images(RUNTIME_DOCKERFILE.read_text(), {}) == ["python:3.11-slim-bookworm"]
    assert from_images(RUNTIME_DOCKERFILE.read_text(), {"BASE_IMAGE": "footprint/base:bookworm"}) == [
        "footprint/base:bookworm"
    ]


def test_the_context_hash_follows_contents_modes_arguments_and_bases(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    script = tmp_path / "bin" / "compress"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)

    def digest(**overrides: object) -> str:
        fields: dict = {"dockerfile": "Dockerfile", "buildargs": {}, "labels": {}, "base_ids": {"x": "sha256:1"}}
        fields.update(overrides)
        return context_sha256(tmp_path, **fields)

    first = digest()
    assert digest() == first
    script.chmod(0o755)
    assert digest() != first
    after_mode = digest()
    script.write_text("#!/bin/sh\nexit 1\n")
    assert digest() != after_mode
    after_content = digest()
    assert digest(buildargs={"A": "1"}) != after_content
    assert digest(labels={"l": "1"}) != after_content
    assert digest(base_ids={"x": "sha256:2"}) != after_content


def test_the_runtime_builder_needs_the_wheels(tmp_path: Path) -> None:
    class NoEngine:
        class images:  # noqa: N801 - stands in for client.images
            @staticmethod
            def get(name: str) -> object:
                return object()

    with pytest.raises(ImageBuildError, match=r"no wheel for torch==2\.13\.0, numpy in .*pip download"):
        build_runtime_image(tag="t", base_image="b", wheels_dir=tmp_path, client=NoEngine())  # type: ignore[arg-type]


# -- with an engine ---------------------------------------------------------------------


@pytest.mark.docker
def test_build_image_skips_an_unchanged_context_and_rebuilds_a_changed_one(
    docker_client: docker.DockerClient, base_image: str, tmp_path: Path
) -> None:
    tag = f"footprint-test/build:{uuid.uuid4().hex[:8]}"
    (tmp_path / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY a.txt /a.txt\n")
    (tmp_path / "a.txt").write_text("one")
    labels = {"org.footprint.test": "1"}
    args = {"BASE_IMAGE": base_image}
    try:
        first = build_image(tmp_path, tag=tag, buildargs=args, labels=labels, client=docker_client)
        created = docker_client.images.get(first).attrs["Created"]
        assert build_image(tmp_path, tag=tag, buildargs=args, labels=labels, client=docker_client) == first
        assert docker_client.images.get(tag).attrs["Created"] == created
        assert docker_client.images.get(tag).labels[CONTEXT_HASH_LABEL]

        (tmp_path / "a.txt").write_text("two")
        second = build_image(tmp_path, tag=tag, buildargs=args, labels=labels, client=docker_client)
        assert second != first
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(first)  # the replaced, now untagged image is gone
    finally:
        try:
            docker_client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass


@pytest.mark.docker
def test_build_image_refuses_a_base_image_that_is_not_on_the_host(
    docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM footprint-test/absent:nope\n")
    with pytest.raises(ImageBuildError, match=r"footprint-test/absent:nope \(named in FROM\) is not on this host"):
        build_image(tmp_path, tag="footprint-test/never:1", client=docker_client)


@pytest.mark.docker
def test_a_failing_build_reports_the_tail_of_its_log(
    docker_client: docker.DockerClient, base_image: str, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo the-step-that-fails && exit 3\n")
    with pytest.raises(ImageBuildError) as caught:
        build_image(
            tmp_path,
            tag=f"footprint-test/failing:{uuid.uuid4().hex[:8]}",
            buildargs={"BASE_IMAGE": base_image},
            labels={"org.footprint.test": "1"},
            client=docker_client,
        )
    assert "returned a non-zero code: 3" in caught.value.reason
    assert "the-step-that-fails" in caught.value.reason


@pytest.mark.docker
def test_the_runtime_builder_says_how_to_build_a_missing_base_image(docker_client: docker.DockerClient) -> None:
    with pytest.raises(
        ImageBuildError, match=r"footprint-test/absent:nope is not on this host: build it with docker/base/build\.sh"
    ):
        build_runtime_image(
            tag="footprint-test/never:1",
            base_image="footprint-test/absent:nope",
            wheels_dir=DEFAULT_WHEELS_DIR,
            client=docker_client,
        )


@pytest.mark.docker
def test_the_command_line_fails_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code = images.main(["runtime", "--tag", "footprint-test/never:1", "--base-image", "footprint-test/absent:nope"])
    assert code == 1
    assert "error: the base image footprint-test/absent:nope is not on this host" in capsys.readouterr().err


@pytest.mark.docker
def test_the_runtime_image_serves_torch_and_the_sdk_to_the_sandbox_user(
    runtime_image: str, docker_client: docker.DockerClient, docker_sandbox: DockerSandbox, make_spec: MakeSpec
) -> None:
    labels = docker_client.images.get(runtime_image).labels
    assert labels["org.footprint.runtime"] == "1"
    assert labels["org.footprint.runtime.version"] == "1"
    assert labels["org.footprint.test"] == "1"
    assert labels[CONTEXT_HASH_LABEL]
    check = (
        "import os, shutil, torch, numpy, footprint_sdk\n"
        "print(torch.__version__, numpy.__version__, os.getuid())\n"
        "print(shutil.which('footprint-serve'), shutil.which('footprint-null-serve'))\n"
        "print(footprint_sdk.__file__)\n"
        "print(os.environ['HOME'], os.environ.get('PYTHONDONTWRITEBYTECODE'))\n"
        "print(torch.jit.script(torch.nn.Linear(3, 2))(torch.ones(1, 3)).shape)\n"
    )
    outcome = docker_sandbox.run(
        make_spec(
            ["python", "-c", check],
            image=runtime_image,
            memory_bytes=1 << 30,
            env={"OMP_NUM_THREADS": "1", "HOME": "/tmp"},
        )
    )
    assert outcome.exit_code == 0, outcome.log_tail
    lines = outcome.log_tail.splitlines()
    assert lines[0].startswith("2.13.0") and lines[0].endswith(" 10001")
    assert lines[1] == "/usr/local/bin/footprint-serve /usr/local/bin/footprint-null-serve"
    assert lines[2].startswith("/opt/footprint/lib/python3") and lines[2].endswith("/site-packages/footprint_sdk.py")
    # The runner's environment reaches the container; the image's own variables (but PATH) do not.
    assert lines[3] == "/tmp "
    assert lines[4] == "torch.Size([1, 2])"


@pytest.mark.docker
def test_the_runtime_image_carries_no_wheel_layer(runtime_image: str, docker_client: docker.DockerClient) -> None:
    # Every submission tarball starts with these layers: the wheels stay in the build stage.
    history = docker_client.images.get(runtime_image).history()
    steps = [entry.get("CreatedBy", "") for entry in history]
    assert any("COPY dir:" in step for step in steps)  # the venv, copied from the build stage
    assert not [step for step in steps if "/tmp/wheels" in step]
