"""`DockerSandbox.reap_orphans`: what a dead runner left behind goes at the next start-up."""

from __future__ import annotations

import uuid

import docker
import docker.errors
import pytest

from runners.meters import cgroup
from runners.sandbox.docker import RUNNER_LABEL, DockerSandbox
from tests.fixtures.docker import container_test_labels

pytestmark = pytest.mark.docker


def test_it_removes_running_and_stopped_containers_with_the_label(
    docker_client: docker.DockerClient, base_image: str
) -> None:
    # A label of this test's own: the default one would also reap other sessions' containers.
    label = f"org.footprint.reap-test-{uuid.uuid4().hex[:8]}"
    labels = {**container_test_labels(), label: "1"}
    running = docker_client.containers.run(base_image, ["sleep", "30"], labels=labels, detach=True, network_mode="none")
    created = docker_client.containers.create(base_image, ["true"], labels=labels, network_mode="none")
    bystander = docker_client.containers.create(
        base_image, ["true"], labels=container_test_labels(), network_mode="none"
    )
    try:
        assert DockerSandbox(docker_client, cgroup_root="footprint-test").reap_orphans(label=label) == 2
        for container in (running, created):
            with pytest.raises(docker.errors.NotFound):
                docker_client.containers.get(container.id)
        docker_client.containers.get(bystander.id)
    finally:
        for container in (running, created, bystander):
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass


def test_a_runner_reaps_its_own_and_unclaimed_containers_never_another_runners(
    docker_client: docker.DockerClient, base_image: str
) -> None:
    # Two runners of one class on one host (a second runner joining on the same machine):
    # a job starting on one must not remove the job the other is measuring.
    label = f"org.footprint.reap-test-{uuid.uuid4().hex[:8]}"
    labels = {**container_test_labels(), label: "1"}
    created = {
        owner: docker_client.containers.create(
            base_image, ["true"], labels={**labels, **({RUNNER_LABEL: owner} if owner else {})}, network_mode="none"
        )
        for owner in ("runner-a", "runner-b", "")
    }
    try:
        assert DockerSandbox(docker_client, cgroup_root="footprint-test", runner="runner-a").reap_orphans(label) == 2
        for owner in ("runner-a", ""):  # its own, and one no runner claimed (an older runner's)
            with pytest.raises(docker.errors.NotFound):
                docker_client.containers.get(created[owner].id)
        docker_client.containers.get(created["runner-b"].id)
    finally:
        for container in created.values():
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass


def test_it_removes_the_empty_cgroup_parents_of_a_dead_runner(
    docker_client: docker.DockerClient, base_image: str
) -> None:
    root = f"footprint-reap-test-{uuid.uuid4().hex[:8]}"
    parent = f"{root}/c-{uuid.uuid4().hex[:16]}"
    # What a runner killed between start and clean-up leaves: a removed container, its parent cgroup.
    docker_client.containers.run(
        base_image,
        ["true"],
        labels=container_test_labels(),
        cgroup_parent=f"/{parent}",
        network_mode="none",
        remove=True,
    )
    try:
        assert cgroup.cgroup_dirs(parent) != []
        label = f"org.footprint.reap-test-{uuid.uuid4().hex[:8]}"  # matches no container
        assert DockerSandbox(docker_client, cgroup_root=root).reap_orphans(label=label) == 0
        assert cgroup.cgroup_dirs(parent) == []
    finally:
        cgroup.remove_cgroup(root)
    assert cgroup.cgroup_dirs(root) == []
