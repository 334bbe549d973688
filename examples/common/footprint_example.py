"""Shared helper of Footprint's example compression methods (torch + numpy only).

Paths come from FOOTPRINT_IN / FOOTPRINT_OUT (defaults: the contract's /footprint/in and
/footprint/out) so that the same compress.py runs on a developer's machine and in the image.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

STARTED_AT = time.monotonic()  # log lines show seconds since the helper was imported

# torch 2.13 deprecates torch.jit and torch.ao.quantization with long multi-line warnings;
# the runner keeps only the last few KiB of a phase's log, and those belong to our own lines.
# (Warnings are attributed to the caller's module, so match the message, not the module.)
warnings.filterwarnings("ignore", message=r".?torch\.(jit|ao\.quantization)", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=r".*quantize_per_tensor.*")


def in_dir() -> Path:
    return Path(os.environ.get("FOOTPRINT_IN", "/footprint/in"))


def out_dir() -> Path:
    return Path(os.environ.get("FOOTPRINT_OUT", "/footprint/out"))


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED_AT:7.2f} s] {message}", flush=True)


def setup(task: dict[str, Any]) -> None:
    """Seeds and threads; must run before the first torch operation (set_num_threads)."""
    torch.set_num_threads(int(task.get("threads") or os.environ.get("FOOTPRINT_THREADS") or 1))
    torch.manual_seed(int(task.get("seed", 0)))
    torch.use_deterministic_algorithms(True)


def read_task() -> dict[str, Any]:
    return json.loads((in_dir() / "task.json").read_text())


def train_validation_split(
    task: dict[str, Any], *, validation_fraction: float = 0.2
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_val, y_val) from train.npz, a seeded split of the training data only."""
    with np.load(in_dir() / "train.npz") as data:
        x, y = torch.from_numpy(data["x"].astype(np.float32)), torch.from_numpy(data["y"].astype(np.int64))
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(int(task.get("seed", 0))))
    n_val = max(1, int(len(y) * validation_fraction))
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


def _hyper(child: Any, names: list[str], positions: dict[str, list[int]]) -> list[Any]:
    """Hyper-parameters of a scripted child (attributes) or a traced one (its graph's constants).

    positions maps the op a traced child calls to where the values sit among its arguments.
    """
    try:
        return [getattr(child, name) for name in names]
    except AttributeError:  # traced: no attributes, only the graph of the one call it made
        for node in child.graph.nodes():
            if node.kind() in positions:
                args = [_constant(value) for value in list(node.inputs())[1:]]
                return [args[i] for i in positions[node.kind()]]
        raise ValueError(f"cannot read the hyper-parameters of {child.original_name} from:\n{child.code}") from None


def _constant(value: torch._C.Value) -> Any:
    if value.node().kind() == "prim::ListConstruct":
        return tuple(_constant(v) for v in value.node().inputs())
    return value.toIValue()  # None where not a constant (the weight): never among `positions`


def _scalar(value: Any) -> Any:  # a traced graph spells MaxPool2d(3) as [3, 3]
    return value[0] if isinstance(value, tuple) and len(set(value)) == 1 else value


def _rebuild(child: Any) -> nn.Module:
    kind, state = child.original_name, child.state_dict()
    if kind == "Conv2d":
        out_channels, in_per_group, kh, kw = state["weight"].shape
        stride, padding, dilation, groups = _hyper(
            child,
            ["stride", "padding", "dilation", "groups"],
            {"aten::_convolution": [2, 3, 4, 7], "aten::conv2d": [2, 3, 4, 5]},
        )
        traced_pad = hasattr(child, "graph") and any(n.kind() == "aten::pad" for n in child.graph.nodes())
        if getattr(child, "padding_mode", "zeros") != "zeros" or traced_pad:
            raise ValueError("Conv2d with a padding_mode other than 'zeros' is not supported")
        module: nn.Module = nn.Conv2d(
            in_per_group * groups, out_channels, (kh, kw), stride, padding, dilation, groups, bias="bias" in state
        )
    elif kind == "Linear":
        module = nn.Linear(state["weight"].shape[1], state["weight"].shape[0], bias="bias" in state)
    elif kind == "MaxPool2d":
        *sizes, ceil = _hyper(
            child, ["kernel_size", "stride", "padding", "dilation", "ceil_mode"], {"aten::max_pool2d": [0, 1, 2, 3, 4]}
        )
        module = nn.MaxPool2d(*(_scalar(v) for v in sizes), ceil_mode=bool(ceil))
    elif kind == "Flatten":
        module = nn.Flatten(*_hyper(child, ["start_dim", "end_dim"], {"aten::flatten": [0, 1]}))
    elif kind == "Dropout":  # inactive in eval mode; p matters only if a method trains with it
        module = nn.Dropout(*_hyper(child, ["p"], {"aten::dropout": [0], "aten::dropout_": [0]}))
    elif kind in ("ReLU", "Identity"):
        module = nn.ReLU() if kind == "ReLU" else nn.Identity()
    else:
        raise ValueError(
            f"layer {kind!r} is not supported by load_reference_eager "
            "(supported: Conv2d, Linear, ReLU, MaxPool2d, Flatten, Dropout, Identity)"
        )
    module.load_state_dict(state)  # strict: a leftover or missing tensor is an error
    return module


def load_reference_eager(path: Path | str) -> nn.Sequential:
    """Rebuild an eager nn.Sequential from a scripted or traced nn.Sequential, weights included.

    Supports Conv2d (zeros padding), Linear, ReLU, MaxPool2d, Flatten, Dropout, Identity as
    direct children; anything else raises ValueError naming the layer.
    """
    try:
        scripted = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError) as exc:
        raise ValueError(f"{path} is not a TorchScript file that torch {torch.__version__} can load: {exc}") from exc
    if scripted.original_name != "Sequential":
        raise ValueError(f"the reference is a {scripted.original_name}, not an nn.Sequential")
    model = nn.Sequential(*[_rebuild(child) for _, child in scripted.named_children()])
    return model.eval()


@dataclass
class Inputs:
    task: dict[str, Any]
    reference: nn.Sequential
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    reference_validation_accuracy: float

    @property
    def example(self) -> torch.Tensor:  # one query, batch 1, as the harness sends it
        return self.x_val[:1]


def begin() -> Inputs:
    """Task, deterministic setup, reference (eager) and the train/validation split."""
    task = read_task()
    setup(task)
    reference = load_reference_eager(in_dir() / "reference" / "model.pt")
    x_train, y_train, x_val, y_val = train_validation_split(task)
    inputs = Inputs(task, reference, x_train, y_train, x_val, y_val, accuracy(reference, x_val, y_val))
    log(
        f"task {task.get('benchmark')}: {len(y_train)} training, {len(y_val)} validation samples; "
        f"reference validation accuracy {inputs.reference_validation_accuracy:.4f}"
    )
    return inputs


def accuracy(model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean())


def fine_tune(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    seed: int,
    batch_size: int = 32,
    loss_fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> nn.Module:
    """Adam on (x, y); loss_fn(logits, batch_index, y_batch) defaults to cross-entropy."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for epoch in range(epochs):
        total = 0.0
        for index in torch.randperm(len(y), generator=generator).split(batch_size):
            logits = model(x[index])
            loss = loss_fn(logits, index, y[index]) if loss_fn else nn.functional.cross_entropy(logits, y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(index)
        log(f"epoch {epoch + 1}/{epochs}: loss {total / len(y):.4f}")
    return model.eval()


def parameter_counts(model: nn.Module) -> dict[str, int]:
    """Weights and biases, dense and non-zero; quantized modules expose them as methods."""
    total = nonzero = 0
    for module in model.modules():
        for name in ("weight", "bias"):
            tensor = getattr(module, name, None)
            tensor = tensor() if callable(tensor) and not isinstance(tensor, torch.Tensor) else tensor
            if isinstance(tensor, torch.Tensor):
                tensor = tensor.dequantize() if tensor.is_quantized else tensor
                total += tensor.numel()
                nonzero += int(torch.count_nonzero(tensor))
    return {"total": total, "nonzero": nonzero}


def save_torchscript(model: nn.Module, out: Path, example: torch.Tensor) -> Path:
    """Trace to out/model.pt, reload it and check it answers like the eager model."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "model.pt"
    with torch.no_grad():
        torch.jit.save(torch.jit.trace(model.eval(), example), str(path))
        loaded = torch.jit.load(str(path), map_location="cpu")
        if not torch.allclose(loaded(example), model(example), atol=1e-5):
            raise RuntimeError("the saved TorchScript model does not answer like the eager model")
    log(f"saved {path} ({path.stat().st_size} bytes)")
    return path


def write_method(
    out: Path,
    inputs: Inputs,
    model: nn.Module,
    *,
    name: str,
    description: str,
    hyperparameters: dict[str, Any],
    trials: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """method.json: what was done, validation accuracy (held-out training data) and parameter counts.

    `trials`: the trial log of a search run inside compress (contract: config, score,
    duration_s, failed), which Footprint plots against trials and energy.
    """
    method = {
        "name": name,
        "description": description,
        "hyperparameters": hyperparameters,
        "search": None,  # no off-platform search: every trial of these examples runs inside compress
        **({"trials": trials} if trials is not None else {}),
        # Held out from the training split by train_validation_split; the reference was trained
        # on all of it, so its figure here is optimistic. The runner's test accuracy is the real one.
        "validation": {
            "accuracy": accuracy(model, inputs.x_val, inputs.y_val),
            "reference_accuracy": inputs.reference_validation_accuracy,
            "samples": len(inputs.y_val),
        },
        "parameters": parameter_counts(model),
        "reference_parameters": parameter_counts(inputs.reference),
    }
    (out / "method.json").write_text(json.dumps(method, indent=2) + "\n")
    log(f"method.json: validation accuracy {method['validation']['accuracy']:.4f}, parameters {method['parameters']}")
    return method
