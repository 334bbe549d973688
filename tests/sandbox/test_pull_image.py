"""`DockerSandbox.pull_image`: a submission named by a registry reference pinned by digest."""

from __future__ import annotations

import docker.errors
import pytest

from runners.sandbox.docker import SandboxError
from tests.api.test_registry_reference import push_image

pytestmark = [pytest.mark.docker, pytest.mark.django_db]


def _remove(client, image_id: str) -> None:
    try:
        client.images.remove(image_id, force=True)
    except docker.errors.ImageNotFound:
        pass


def test_it_pulls_a_reference_pinned_by_digest_and_sets_no_tag(registry, docker_sandbox, docker_client):
    pushed = push_image(registry, "lab/pulled")
    reference = f"{registry}/lab/pulled@{pushed['manifest']}"
    try:
        assert docker_sandbox.pull_image(reference, pushed["config"]) == pushed["config"]
        image = docker_client.images.get(pushed["config"])
        assert image.tags == []
        assert docker_sandbox.pull_image(reference, pushed["config"]) == pushed["config"]  # present: no pull
    finally:
        _remove(docker_client, pushed["config"])


def test_a_pull_that_gives_another_image_than_recorded_is_refused_and_removed(
    registry,
    docker_sandbox,
    docker_client,
):
    pushed = push_image(registry, "lab/other")
    reference = f"{registry}/lab/other@{pushed['manifest']}"
    try:
        with pytest.raises(SandboxError) as refused:
            docker_sandbox.pull_image(reference, "sha256:" + "0" * 64)
        assert refused.value.code == "image_id_mismatch"
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(pushed["config"])
    finally:
        _remove(docker_client, pushed["config"])
