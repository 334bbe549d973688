"""Which GPUs a container may see: the hardware class's, never what its image asks for."""

from __future__ import annotations

import json

import pytest

from runners.sandbox.docker import DockerSandbox
from tests.sandbox.conftest import MakeSpec

pytestmark = pytest.mark.docker


def test_a_gpu_class_requests_its_gpus_by_id_with_compute_and_utility_only(
    docker_sandbox: DockerSandbox, make_spec: MakeSpec
) -> None:
    spec = make_spec(["true"], gpus=2, env={"FOOTPRINT_PHASE": "serve"})
    kwargs = docker_sandbox._create_kwargs(spec, "footprint-test/c-x")
    [request] = kwargs["device_requests"]
    assert request["DeviceIDs"] == ["0", "1"] and request["Capabilities"] == [["gpu"]]
    assert "Count" not in request or request["Count"] in (0, None)
    assert kwargs["environment"] == {
        "FOOTPRINT_PHASE": "serve",
        "NVIDIA_VISIBLE_DEVICES": "0,1",
        "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
    }
    assert spec.env == {"FOOTPRINT_PHASE": "serve"}  # the spec itself is left alone


def test_two_classes_on_one_host_get_the_gpus_their_runners_name(
    docker_sandbox: DockerSandbox, make_spec: MakeSpec
) -> None:
    first = docker_sandbox._create_kwargs(make_spec(["true"], gpus=1, gpu_ids=(0,)), "footprint-test/c-a")
    second = docker_sandbox._create_kwargs(make_spec(["true"], gpus=2, gpu_ids=(2, 3)), "footprint-test/c-b")
    assert first["device_requests"][0]["DeviceIDs"] == ["0"]
    assert second["device_requests"][0]["DeviceIDs"] == ["2", "3"]
    assert second["environment"]["NVIDIA_VISIBLE_DEVICES"] == "2,3"


def test_a_runner_names_its_gpus_or_gets_the_first_of_the_host() -> None:
    from runners.spec import assigned_gpus

    assert assigned_gpus(2, "") == [0, 1]
    assert assigned_gpus(2, "3,1") == [3, 1]
    assert assigned_gpus(0, "5") == []
    for wrong in ("1", "1,1", "a,b", "0,1,2", "-1,0"):
        with pytest.raises(ValueError, match="FOOTPRINT_RUNNER_GPUS"):
            assigned_gpus(2, wrong)


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
