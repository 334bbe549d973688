"""`DockerSandbox.ensure_image`: load a submission's `docker save` tarball, check its id."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import docker
import docker.errors
import pytest

from runners.sandbox.docker import DockerSandbox, SandboxError
from tests.fixtures.docker import BuildTestImage

pytestmark = pytest.mark.docker


def _save(client: docker.DockerClient, image_ref: str, path: Path) -> str:
    """`docker save` by id, as a submitter's untagged tarball; returns the image id."""
    image = client.images.get(image_ref)
    with path.open("wb") as f:
        for chunk in image.save(named=False):
            f.write(chunk)
    return image.id


def _tiny_image(build_test_image: BuildTestImage, marker: str) -> str:
    return build_test_image("FROM scratch\nCOPY marker.txt /marker.txt\n", {"marker.txt": marker})


def _remove(client: docker.DockerClient, image_id: str) -> None:
    try:
        client.images.remove(image_id, force=True)
    except docker.errors.ImageNotFound:
        pass


def test_it_loads_an_absent_image_from_its_tarball(
    docker_sandbox: DockerSandbox, docker_client: docker.DockerClient, build_test_image: BuildTestImage, tmp_path: Path
) -> None:
    tag = _tiny_image(build_test_image, "load me")
    tarball = tmp_path / "method.tar"
    image_id = _save(docker_client, tag, tarball)
    _remove(docker_client, image_id)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(image_id)
    try:
        assert docker_sandbox.ensure_image(image_id, tarball, scratch_dir=tmp_path) == image_id
        assert docker_client.images.get(image_id).labels["org.footprint.test"] == "1"
    finally:
        _remove(docker_client, image_id)


def test_it_does_not_read_the_tarball_of_a_present_image(
    docker_sandbox: DockerSandbox, docker_client: docker.DockerClient, base_image: str, tmp_path: Path
) -> None:
    image_id = docker_client.images.get(base_image).id
    assert docker_sandbox.ensure_image(image_id, tmp_path / "not-there.tar", scratch_dir=tmp_path) == image_id
    assert (
        docker_sandbox.ensure_image(image_id.removeprefix("sha256:"), tmp_path / "not-there.tar", scratch_dir=tmp_path)
        == image_id
    )


def test_it_rejects_a_tarball_that_holds_another_image(
    docker_sandbox: DockerSandbox, docker_client: docker.DockerClient, build_test_image: BuildTestImage, tmp_path: Path
) -> None:
    tag = _tiny_image(build_test_image, "another")
    tarball = tmp_path / "other.tar"
    loaded_id = _save(docker_client, tag, tarball)
    expected = "sha256:" + "0" * 64
    # The tarball holds the test image itself: the fixture removes it at the end.
    with pytest.raises(SandboxError) as caught:
        docker_sandbox.ensure_image(expected, tarball, scratch_dir=tmp_path)
    assert caught.value.code == "image_id_mismatch"
    assert caught.value.reason == f"the tarball loaded as {loaded_id}, expected {expected}"


def test_it_rejects_a_tarball_that_is_not_an_image(docker_sandbox: DockerSandbox, tmp_path: Path) -> None:
    tarball = tmp_path / "notes.tar"
    with tarfile.open(tarball, "w") as tar:
        data = b"these are not image layers\n"
        info = tarfile.TarInfo("notes.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(SandboxError) as caught:
        docker_sandbox.ensure_image("sha256:" + "1" * 64, tarball, scratch_dir=tmp_path)
    assert caught.value.code == "image_load_failed"
    assert caught.value.reason.startswith(
        "docker could not load the tarball: the file is not a `docker save` tarball (it has neither "
        "manifest.json nor repositories) ("
    )


def test_it_rejects_a_file_that_is_not_a_tarball(docker_sandbox: DockerSandbox, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"\x00\x01 not a tar at all" * 100)
    with pytest.raises(SandboxError) as caught:
        docker_sandbox.ensure_image("sha256:" + "2" * 64, garbage, scratch_dir=tmp_path)
    # Refused while its copy without names is made: docker load never sees it.
    assert caught.value.code == "image_refused"
    assert caught.value.reason.startswith("the tarball is damaged or truncated (")


def test_a_missing_tarball_raises_file_not_found(docker_sandbox: DockerSandbox, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        docker_sandbox.ensure_image("sha256:" + "3" * 64, tmp_path / "missing.tar", scratch_dir=tmp_path)
