"""The standard runtime server on the host, serving a TorchScript file from FOOTPRINT_MODEL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from runners.harness import HarnessError, measure_accuracy

from .conftest import SERVE_TORCHSCRIPT


class PixelArgmax(torch.nn.Module):
    """Scores a 1x2x2 image by a permutation of its pixels: class k is pixel perm[k]."""

    def __init__(self, perm: list[int]) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 4, bias=False)
        with torch.no_grad():
            self.linear.weight.copy_(torch.eye(4)[perm])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1))


class ReturnsATuple(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x, x


def save_scripted(module: torch.nn.Module, path: Path) -> str:
    torch.jit.script(module).save(str(path))
    return str(path)


def test_it_serves_a_torchscript_model_and_the_harness_scores_it(start_server, short_dir) -> None:
    perm = [2, 0, 3, 1]
    model = save_scripted(PixelArgmax(perm), short_dir / "model.pt")
    rng = np.random.default_rng(1)
    x = rng.random((50, 1, 2, 2), dtype=np.float32)
    pixel = x.reshape(50, -1).argmax(axis=1)
    y = np.array([perm.index(p) for p in pixel])  # class whose weight row picks that pixel
    server = start_server(argv=[str(SERVE_TORCHSCRIPT)], env={"FOOTPRINT_MODEL": model, "FOOTPRINT_THREADS": "2"})
    client = server.connect(ready_timeout_s=60)
    assert client.ready_info["server"].startswith("footprint-serve (torch 2.")
    assert client.ready_info["server"].endswith(", 2 threads)")
    reply = client.predict(x[:3])
    assert reply.dtype == np.float32 and reply.shape == (3, 4)
    result = measure_accuracy(client, x, y, batch_size=16, num_classes=4)
    assert result.accuracy == 1.0
    client.shutdown()
    assert server.wait() == 0


class Cast(torch.nn.Module):
    """PixelArgmax's scores in another dtype, or its class indices as int32."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.inner, self.kind = PixelArgmax([0, 1, 2, 3]), kind

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.inner(x)
        if self.kind == "indices":
            return scores.argmax(1).to(torch.int32)
        return scores.to(torch.float64 if self.kind == "float64" else torch.float16)


@pytest.mark.parametrize(("kind", "wire"), [("float64", np.float32), ("float16", np.float32), ("indices", np.int64)])
def test_outputs_travel_as_float32_scores_or_int64_indices(start_server, short_dir, kind: str, wire) -> None:
    model = save_scripted(Cast(kind), short_dir / "model.pt")
    server = start_server(argv=[str(SERVE_TORCHSCRIPT)], env={"FOOTPRINT_MODEL": model})
    client = server.connect(ready_timeout_s=60)
    x = np.random.default_rng(4).random((6, 1, 2, 2), dtype=np.float32)
    reply = client.predict(x)
    assert reply.dtype == wire
    pixel = x.reshape(6, -1).argmax(axis=1)
    assert list(reply.argmax(axis=1) if reply.ndim == 2 else reply) == list(pixel)
    client.shutdown()
    assert server.wait() == 0


def test_it_reports_a_model_that_does_not_return_one_tensor(start_server, short_dir) -> None:
    model = save_scripted(ReturnsATuple(), short_dir / "model.pt")
    server = start_server(argv=[str(SERVE_TORCHSCRIPT)], env={"FOOTPRINT_MODEL": model})
    client = server.connect(ready_timeout_s=60)
    with pytest.raises(HarnessError) as caught:
        client.predict(np.zeros((1, 4), np.float32))
    assert caught.value.code == "serve_error"
    assert "the model returned tuple; it must return one tensor of scores" in caught.value.reason
    assert server.wait() == 1


@pytest.mark.parametrize("content", [b"PK\x03\x04 not really a zip", None], ids=["not-torchscript", "missing"])
def test_it_exits_3_when_model_pt_is_not_loadable(start_server, short_dir, content: bytes | None) -> None:
    model = short_dir / "model.pt"
    if content is not None:
        model.write_bytes(content)
    server = start_server(argv=[str(SERVE_TORCHSCRIPT)], env={"FOOTPRINT_MODEL": str(model)})
    with pytest.raises(HarnessError) as caught:
        server.connect(ready_timeout_s=60)
    assert caught.value.code == "serve_exited"
    assert server.wait() == 3
    assert f"model.pt is not a loadable TorchScript file: {model}: " in server.stderr()
