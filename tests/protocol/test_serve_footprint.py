"""Footprint figures in the READY frame: computed by footprint-serve, declared through the SDK."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from runners import footprint_sdk as sdk

from .conftest import SERVE_TORCHSCRIPT
from .test_sdk_server import raw_connect


def save_model(path: Path) -> str:
    torch.manual_seed(0)
    linear = torch.nn.Linear(4, 3)
    with torch.no_grad():
        linear.weight[0] = 0  # 4 of 12 weights are zero
    net = torch.nn.Sequential(torch.nn.Flatten(), linear)
    torch.jit.script(net).save(str(path))
    return str(path)


def test_footprint_serve_reports_its_models_figures_before_ready(start_server, short_dir) -> None:
    model = save_model(short_dir / "model.pt")
    server = start_server(
        argv=[str(SERVE_TORCHSCRIPT)],
        env={"FOOTPRINT_MODEL": model, "FOOTPRINT_INPUT_SHAPE": "[1, 2, 2]", "FOOTPRINT_INPUT_DTYPE": "float32"},
    )
    client = server.connect(ready_timeout_s=60)
    footprint = client.ready_info["footprint"]
    assert footprint["params_total"] == 15 and footprint["params_nonzero"] == 11
    assert footprint["flops_dense"] == 2 * 4 * 3
    assert footprint["flops_nonzero"] == 16  # the zero row's multiply-adds are not counted
    assert footprint["artifact_bytes"] == Path(model).stat().st_size
    assert 0 < footprint["artifact_gzip_bytes"] <= footprint["artifact_bytes"] + 64
    client.shutdown()
    assert server.wait() == 0


def test_footprint_serve_without_an_input_shape_reports_counts_and_sizes_only(start_server, short_dir) -> None:
    model = save_model(short_dir / "model.pt")
    server = start_server(argv=[str(SERVE_TORCHSCRIPT)], env={"FOOTPRINT_MODEL": model})
    client = server.connect(ready_timeout_s=60)
    assert set(client.ready_info["footprint"]) == {
        "params_total",
        "params_nonzero",
        "artifact_bytes",
        "artifact_gzip_bytes",
    }
    client.shutdown()
    assert server.wait() == 0


def test_footprint_serve_still_serves_a_model_its_counting_pass_cannot_run(start_server, short_dir) -> None:
    model = save_model(short_dir / "model.pt")
    server = start_server(argv=[str(SERVE_TORCHSCRIPT)], env={"FOOTPRINT_MODEL": model, "FOOTPRINT_INPUT_SHAPE": "[7]"})
    client = server.connect(ready_timeout_s=60)
    assert "footprint" not in client.ready_info
    client.shutdown()
    assert server.wait() == 0
    assert "footprint figures not computed: RuntimeError" in server.stderr()


def test_the_sdk_sends_declared_figures_in_the_ready_frame(start_server) -> None:
    server = start_server(
        script="""
        import footprint_sdk
        footprint_sdk.serve(lambda b: b[:, 0], info="own", footprint={"params_total": 10, "params_nonzero": 4})
        """
    )
    with raw_connect(server) as sock:
        frame_type, _, payload = sdk.recv_frame(sock)
    assert frame_type == sdk.READY
    assert json.loads(payload)["footprint"] == {"params_total": 10, "params_nonzero": 4}


@pytest.mark.parametrize("footprint", [{"flops_dense": float("nan")}, [1, 2]], ids=["nan", "not-a-dict"])
def test_the_sdk_refuses_figures_it_cannot_send_before_listening(footprint) -> None:
    with pytest.raises((TypeError, ValueError)):
        sdk.serve(lambda b: b, socket_path="/nonexistent/never-bound.sock", footprint=footprint)
