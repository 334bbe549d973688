"""Which GPUs a container may see: the hardware class's, never what its image asks for."""

from __future__ import annotations

import json

import pytest

from runners.sandbox.docker import DockerSandbox
from tests.sandbox.conftest import MakeSpec

pytestmark = pytest.mark.docker


def test_a_gpu_class_requests_its_count_with_compute_and_utility_only(
    docker_sandbox: DockerSandbox, make_spec: MakeSpec
) -> None:
    spec = make_spec(["true"], gpus=2, env={"FOOTPRINT_PHASE": "serve"})
    kwargs = docker_sandbox._create_kwargs(spec, "footprint-test/c-x")
    [request] = kwargs["device_requests"]
    assert request["Count"] == 2 and request["Capabilities"] == [["gpu"]]
    assert kwargs["environment"] == {
        "FOOTPRINT_PHASE": "serve",
        "NVIDIA_VISIBLE_DEVICES": "0,1",
        "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
    }
    assert spec.env == {"FOOTPRINT_PHASE": "serve"}  # the spec itself is left alone


def test_a_cpu_class_container_is_told_to_see_no_gpu(docker_sandbox: DockerSandbox, make_spec: MakeSpec) -> None:
    kwargs = docker_sandbox._create_kwargs(make_spec(["true"], env={"A": "1"}), "footprint-test/c-x")
    assert "device_requests" not in kwargs
    assert kwargs["environment"] == {"A": "1", "NVIDIA_VISIBLE_DEVICES": "void"}


def test_an_image_asking_for_every_gpu_is_overridden(
    docker_sandbox: DockerSandbox, make_spec: MakeSpec, build_test_image, base_image: str
) -> None:
    # On a host whose default runtime is nvidia, this ENV alone would hand out every GPU.
    image = build_test_image("ENV NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=all\n", base=base_image)
    script = "import json, os; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith('NVIDIA_')}))"
    outcome = docker_sandbox.run(make_spec(["python3", "-c", script], image=image))
    assert outcome.exit_code == 0, outcome.log_tail
    seen = json.loads(outcome.log_tail.strip().splitlines()[-1])
    # The driver-capabilities ENV stays but is inert: with "void" the toolkit injects nothing.
    assert seen["NVIDIA_VISIBLE_DEVICES"] == "void"
