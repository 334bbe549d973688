#!/usr/bin/env python3
"""int8-dynamic: torch.ao dynamic quantization of the Linear layers (qint8 weights), no training."""

import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import footprint_example as fx
import torch
from torch import nn


def main() -> None:
    inputs = fx.begin()
    out = fx.out_dir()
    # Weights are stored as int8 with one scale per tensor; activations are quantized on the
    # fly at every call. The convolutions stay float32: dynamic quantization has no Conv2d.
    model = torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(inputs.reference), {nn.Linear}, dtype=torch.qint8
    ).eval()
    fx.save_torchscript(model, out, inputs.example)
    fx.write_method(
        out,
        inputs,
        model,
        name="int8 dynamic quantization",
        description="torch.ao.quantization.quantize_dynamic of the Linear layers to qint8 "
        "(per-tensor weights, activations quantized at run time); convolutions stay float32.",
        hyperparameters={"dtype": "qint8", "layers": ["Linear"], "engine": torch.backends.quantized.engine},
    )


if __name__ == "__main__":
    main()
