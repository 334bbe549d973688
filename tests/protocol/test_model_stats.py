"""The standard runtime's footprint figures (runners/runtime/model_stats.py) on small models."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "runners" / "runtime"))
import model_stats  # noqa: E402  (copied into the runtime image as footprint_model_stats)

# conv 1->4, 3x3, pad 1 on 8x8: 2*4*1*9*64 = 4608 FLOPs; linear 256->10: 2*256*10 = 5120.
CONV_FLOPS, LINEAR_FLOPS = 2 * 4 * 1 * 9 * 64, 2 * 256 * 10
PARAMS = 4 * 9 + 4 + 256 * 10 + 10


def small_net() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(256, 10)
    )


def scripted(module: torch.nn.Module, path: Path) -> torch.jit.ScriptModule:
    torch.jit.script(module).save(str(path))
    return torch.jit.load(str(path))


def test_it_counts_a_dense_torchscript_model_with_the_standard_formulas(tmp_path: Path) -> None:
    model = scripted(small_net(), tmp_path / "model.pt")
    figures = model_stats.model_footprint(model, torch.zeros(1, 1, 8, 8), str(tmp_path / "model.pt"))
    raw = (tmp_path / "model.pt").read_bytes()
    assert figures == {
        "params_total": PARAMS,
        "params_nonzero": PARAMS,
        "flops_dense": CONV_FLOPS + LINEAR_FLOPS,
        "flops_nonzero": CONV_FLOPS + LINEAR_FLOPS,
        "artifact_bytes": len(raw),
        "artifact_gzip_bytes": len(gzip.compress(raw, compresslevel=6, mtime=0)),
    }


def test_it_scales_each_layers_flops_by_its_weights_nonzero_fraction(tmp_path: Path) -> None:
    net = small_net()
    with torch.no_grad():
        net[3].weight[:, 64:] = 0  # 3/4 of the Linear's weights are zero
    model = scripted(net, tmp_path / "model.pt")
    figures = model_stats.model_footprint(model, torch.zeros(1, 1, 8, 8))
    assert figures["params_total"] == PARAMS
    assert figures["params_nonzero"] == PARAMS - 192 * 10
    assert figures["flops_dense"] == CONV_FLOPS + LINEAR_FLOPS
    assert figures["flops_nonzero"] == CONV_FLOPS + LINEAR_FLOPS // 4


def test_it_counts_a_dynamically_quantized_linear_from_its_packed_weight(tmp_path: Path) -> None:
    net = small_net()
    with torch.no_grad():
        net[3].weight[:5] = 0  # half the output rows are zero
    quantized = torch.ao.quantization.quantize_dynamic(net, {torch.nn.Linear}, dtype=torch.qint8)
    # int8 rounding zeroes a few more small weights than the 5 rows: count them as quantized.
    zeros = int((quantized[3].weight().dequantize() == 0).sum())
    assert zeros >= 5 * 256
    model = scripted(quantized, tmp_path / "model.pt")
    figures = model_stats.model_footprint(model, torch.zeros(1, 1, 8, 8))
    assert figures["params_total"] == PARAMS
    assert figures["params_nonzero"] == PARAMS - zeros
    assert figures["flops_dense"] == CONV_FLOPS + LINEAR_FLOPS
    assert figures["flops_nonzero"] == CONV_FLOPS + round(LINEAR_FLOPS * (1 - zeros / 2560))
    assert model_stats.parameter_counts(model) == {"params_total": PARAMS, "params_nonzero": PARAMS - zeros}


class BufferWeight(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("weight", torch.tensor([[1.0, 0.0], [0.0, 0.0], [2.0, 3.0]]))
        self.register_buffer("unused", torch.ones(7))  # not a weight of any op: not counted

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.mm(x, self.weight.t())


def test_it_counts_a_buffer_only_when_an_operation_uses_it_as_a_weight(tmp_path: Path) -> None:
    model = scripted(BufferWeight(), tmp_path / "model.pt")
    figures = model_stats.model_footprint(model, torch.zeros(1, 2))
    assert figures == {"params_total": 6, "params_nonzero": 3, "flops_dense": 12, "flops_nonzero": 6}


def test_it_counts_under_inference_mode_too(tmp_path: Path) -> None:
    # footprint-serve may call it from anywhere; inference mode hides the decomposed ops.
    model = scripted(small_net(), tmp_path / "model.pt")
    with torch.inference_mode():
        figures = model_stats.model_footprint(model, torch.zeros(1, 1, 8, 8))
    assert figures["flops_dense"] == CONV_FLOPS + LINEAR_FLOPS


def test_it_does_not_import_dynamo_into_the_serving_process() -> None:
    # torch._dynamo costs ~1.5 s and tens of MiB: it would show in the serve peak memory.
    import subprocess

    folder = str(Path(model_stats.__file__).parent)
    code = (
        f"import sys, torch; sys.path.insert(0, {folder!r}); import model_stats; "
        "m = torch.jit.script(torch.nn.Linear(3, 2)); model_stats.model_footprint(m, torch.zeros(1, 3)); "
        "print('torch._dynamo' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_its_example_input_is_a_batch_of_one(dtype: str) -> None:
    example = model_stats.example_input([1, 8, 8], dtype)
    assert example.shape == (1, 1, 8, 8) and str(example.dtype) == f"torch.{dtype}"
