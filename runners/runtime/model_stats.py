"""Footprint figures of a TorchScript model, with the ShrinkBench definitions.

Copied into the runtime image next to `footprint-serve` (site-packages, `import model_stats`);
needs torch. `footprint-serve` calls `model_footprint` once, after loading the model and
before it announces READY, and sends the figures in its READY frame.

What is counted (docs/measurement.md, "Footprint figures"):

- parameters: every parameter of the module, plus the weights of quantized Linear layers
  (kept in packed form, not as parameters: they are unpacked and counted as weight +
  bias), plus any buffer that is used as the weight operand of a counted operation. Other
  buffers (BatchNorm running statistics, masks) are not parameters. A tensor shared by
  several modules counts once. Non-zero: elements != 0 (a quantized weight element is zero
  when it dequantizes to 0).
- FLOPs: one forward pass at batch size 1, traced at the dispatcher (a TorchDispatchMode
  sees every aten op a TorchScript module runs). Counted: convolutions, addmm / mm / bmm /
  baddbmm, and quantized (dynamic and static) Linear. FLOPs = 2 x multiply-accumulates
  (MACs), the convention of torch.utils.flop_counter, whose formulas give the dense count.
  Element-wise ops, pooling and activations are not counted (as in ShrinkBench).
- FLOPs non-zero: each counted op's dense FLOPs times the non-zero fraction of its weight
  operand (an operand that is a parameter, a counted buffer or a packed weight); an op
  whose operands are all activations keeps its dense count.
- artifact: the file's size on disk and its gzip size (level 6, no name or time stamp).

Compression ratio = params_total / params_nonzero; theoretical speed-up =
flops_dense / flops_nonzero (the runner derives both from these counts).
"""

from __future__ import annotations

import gzip
import os
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

aten = torch.ops.aten

# Op packet -> index of the argument that holds the weight (the rest are activations).
_WEIGHT_ARG: dict[Any, int] = {
    aten.convolution: 1,
    aten._convolution: 1,
    aten.addmm: 2,
    aten.mm: 1,
    aten.bmm: 1,
    aten.baddbmm: 2,
}
GZIP_LEVEL = 6


def _storage_key(t: torch.Tensor) -> tuple[int, int, int]:
    # Views (weight.t() inside a Linear) share the storage: match on it, not on identity.
    return (t.untyped_storage().data_ptr(), t.storage_offset(), t.numel())


def _nonzero(t: torch.Tensor) -> int:
    if t.is_quantized:
        t = t.dequantize()
    return int(torch.count_nonzero(t))


def _packed_linear_weights(module: torch.nn.Module) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """(weight, bias) of each packed quantized Linear of a (scripted or eager) module."""
    found: list[tuple[torch.Tensor, torch.Tensor | None]] = []
    seen: set[int] = set()
    for sub in module.modules():
        packed = getattr(sub, "_packed_params", None)
        if packed is None or isinstance(packed, torch.nn.Module):
            continue
        if id(packed) in seen:
            continue
        seen.add(id(packed))
        try:
            weight, bias = torch.ops.quantized.linear_unpack(packed)
        except (RuntimeError, TypeError):
            continue  # not a Linear's packed weight (e.g. a quantized conv): not counted
        found.append((weight, bias))
    return found


class _FlopCounter(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # The default wraps __torch_dispatch__ in torch._dynamo.disable, whose first call
        # imports torch._dynamo: ~1.5 s and tens of MiB in the serving process, which would
        # show in its peak memory. Nothing here is compiled, so there is nothing to skip.
        return False

    def __init__(self, weights: dict[tuple[int, int, int], float]) -> None:
        super().__init__()
        self.weights = weights  # storage key -> non-zero fraction, parameters only
        self.buffer_weights: dict[tuple[int, int, int], torch.Tensor] = {}
        self.buffers: dict[tuple[int, int, int], torch.Tensor] = {}
        self.dense = 0
        self.nonzero = 0.0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func.overloadpacket
        if packet in _WEIGHT_ARG and packet in flop_registry:
            flops = int(flop_registry[packet](*args, **kwargs, out_val=out))
            fraction = self._fraction(args[_WEIGHT_ARG[packet]])
            self.dense += flops
            self.nonzero += flops * fraction
        elif packet in (torch.ops.quantized.linear_dynamic, torch.ops.quantized.linear):
            x = args[0]
            weight, _ = torch.ops.quantized.linear_unpack(args[1])
            rows = x.numel() // x.shape[-1]
            flops = 2 * rows * weight.shape[0] * weight.shape[1]
            self.dense += flops
            self.nonzero += flops * (_nonzero(weight) / max(weight.numel(), 1))
        return out

    def _fraction(self, w: Any) -> float:
        if not isinstance(w, torch.Tensor) or w.numel() == 0:
            return 1.0
        key = _storage_key(w)
        if key in self.weights:
            return self.weights[key]
        if key in self.buffers:
            self.buffer_weights[key] = self.buffers[key]
            return _nonzero(w) / w.numel()
        return 1.0  # an activation: ShrinkBench scales by weight sparsity only


def _parameters(module: torch.nn.Module) -> dict[tuple[int, int, int], torch.Tensor]:
    tensors: dict[tuple[int, int, int], torch.Tensor] = {}
    for _, p in module.named_parameters():
        tensors.setdefault(_storage_key(p), p.detach())
    return tensors


def _counts(module: torch.nn.Module, tensors: dict[tuple[int, int, int], torch.Tensor]) -> dict[str, int]:
    total = sum(t.numel() for t in tensors.values())
    nonzero = sum(_nonzero(t) for t in tensors.values())
    for weight, bias in _packed_linear_weights(module):
        for t in (weight, bias):
            if t is not None:
                total += t.numel()
                nonzero += _nonzero(t)
    return {"params_total": int(total), "params_nonzero": int(nonzero)}


def parameter_counts(module: torch.nn.Module) -> dict[str, int]:
    """params_total and params_nonzero without running the model (buffers are not counted:
    only a forward pass shows which of them are weights)."""
    return _counts(module, _parameters(module))


def model_footprint(module: torch.nn.Module, example: torch.Tensor, artifact_path: str | None = None) -> dict[str, int]:
    """Footprint figures of `module` run once on `example` (a batch of one input).

    Returns params_total, params_nonzero, flops_dense, flops_nonzero and, with
    `artifact_path`, artifact_bytes and artifact_gzip_bytes; all integers.
    """
    tensors = _parameters(module)
    fractions = {key: (_nonzero(t) / t.numel() if t.numel() else 1.0) for key, t in tensors.items()}
    counter = _FlopCounter(fractions)
    counter.buffers = {
        key: b.detach()
        for _, b in module.named_buffers()
        if b.is_floating_point() and b.numel() > 0 and (key := _storage_key(b)) not in tensors
    }
    # Outside inference mode: under it the dispatcher hands composite ops (conv2d, linear)
    # to the mode undecomposed, and their FLOP formulas live on the ops they decompose to.
    with torch.inference_mode(False), torch.no_grad(), counter:
        module(example)

    tensors.update(counter.buffer_weights)
    figures = _counts(module, tensors)
    figures["flops_dense"] = int(counter.dense)
    figures["flops_nonzero"] = int(round(counter.nonzero))
    if artifact_path is not None:
        figures.update(artifact_sizes(artifact_path))
    return figures


def artifact_sizes(path: str) -> dict[str, int]:
    """The file's size on disk and gzip-compressed (what a download would cost)."""
    with open(path, "rb") as f:
        raw = f.read()
    compressed = gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)
    return {"artifact_bytes": os.path.getsize(path), "artifact_gzip_bytes": len(compressed)}


def example_input(shape: list[int], dtype: str) -> torch.Tensor:
    """A batch of one input of the task's shape (zeros: FLOP counts do not depend on values)."""
    return torch.zeros((1, *shape), dtype=getattr(torch, dtype))
