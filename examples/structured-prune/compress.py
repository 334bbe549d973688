#!/usr/bin/env python3
"""structured-prune: remove whole conv output channels by L1 norm, rebuild smaller layers, fine-tune.

Unlike unstructured pruning, the saved model is physically smaller (fewer channels, a narrower
Linear), so dense kernels do less work and the measured speed-up is real.

The widths come from a small search run inside compress (so Footprint meters it): each
candidate is pruned and briefly fine-tuned, scored on held-out training data, and the
smallest one within ACCURACY_TOLERANCE of the best candidate wins (a short fine-tune does
not reach the reference, so the best trial is the yardstick); every trial goes to
method.json's trial log.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import footprint_example as fx
import torch
from torch import nn

# Candidate keep fractions, largest model first: (conv1, conv2) of (32, 64) channels.
CANDIDATES = [
    {"conv1": 0.75, "conv2": 0.5},
    {"conv1": 0.5, "conv2": 0.5},
    {"conv1": 0.5, "conv2": 0.25},
    {"conv1": 0.25, "conv2": 0.25},
    {"conv1": 0.25, "conv2": 0.125},
]
SEARCH_EPOCHS = 3
# Validation accuracy a candidate may lose against the best trial and still be chosen.
ACCURACY_TOLERANCE = 0.005
EPOCHS = 15
LEARNING_RATE = 1e-3


def strongest_channels(conv: nn.Conv2d, keep: int) -> torch.Tensor:
    """Indices (sorted) of the `keep` output channels with the largest L1 weight norm."""
    norms = conv.weight.detach().abs().sum(dim=(1, 2, 3))
    return norms.topk(keep).indices.sort().values


def conv_subset(conv: nn.Conv2d, out_index: torch.Tensor, in_index: torch.Tensor) -> nn.Conv2d:
    smaller = nn.Conv2d(
        len(in_index),
        len(out_index),
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        bias=conv.bias is not None,
    )
    with torch.no_grad():
        smaller.weight.copy_(conv.weight[out_index][:, in_index])
        if conv.bias is not None:
            smaller.bias.copy_(conv.bias[out_index])
    return smaller


def prune_channels(reference: nn.Sequential, keep_fraction: dict[str, float]) -> nn.Sequential:
    """Rebuild the digits reference (conv, relu, conv, relu, pool, flatten, fc, relu, fc) smaller."""
    kinds = [type(m).__name__ for m in reference]
    expected = ["Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear"]
    if kinds != expected:
        raise ValueError(f"this example prunes the digits reference {expected}, not {kinds}")
    conv1, conv2, fc1 = reference[0], reference[2], reference[6]
    keep1 = strongest_channels(conv1, round(conv1.out_channels * keep_fraction["conv1"]))
    keep2 = strongest_channels(conv2, round(conv2.out_channels * keep_fraction["conv2"]))
    # Flatten lays conv2's channels out as contiguous blocks of H*W features: keep whole blocks.
    spatial = fc1.in_features // conv2.out_channels
    features = (keep2[:, None] * spatial + torch.arange(spatial)).flatten()
    smaller_fc1 = nn.Linear(len(features), fc1.out_features)
    with torch.no_grad():
        smaller_fc1.weight.copy_(fc1.weight[:, features])
        smaller_fc1.bias.copy_(fc1.bias)
    fc2 = nn.Linear(reference[8].in_features, reference[8].out_features)
    fc2.load_state_dict(reference[8].state_dict())
    return nn.Sequential(
        conv_subset(conv1, keep1, torch.arange(conv1.in_channels)),
        nn.ReLU(),
        conv_subset(conv2, keep2, keep1),
        nn.ReLU(),
        nn.MaxPool2d(reference[4].kernel_size, reference[4].stride, reference[4].padding),
        nn.Flatten(),
        smaller_fc1,
        nn.ReLU(),
        fc2,
    )


def search(inputs: fx.Inputs, seed: int) -> tuple[dict[str, float], list[dict]]:
    """Score every candidate after a short fine-tune; the smallest within tolerance of the best wins."""
    trials = []
    for keep in CANDIDATES:
        started = time.perf_counter()
        model = prune_channels(inputs.reference, keep)
        fx.fine_tune(model, inputs.x_train, inputs.y_train, epochs=SEARCH_EPOCHS, lr=LEARNING_RATE, seed=seed)
        score = fx.accuracy(model, inputs.x_val, inputs.y_val)
        trials.append(
            {
                "config": {"keep_fraction": keep, "epochs": SEARCH_EPOCHS},
                "score": round(score, 6),
                "duration_s": round(time.perf_counter() - started, 3),
                "failed": False,
            }
        )
        fx.log(f"trial {keep}: validation accuracy {score:.4f}")
    floor = max(trial["score"] for trial in trials) - ACCURACY_TOLERANCE
    # Candidates shrink: the last one within tolerance is the smallest.
    chosen = [keep for keep, trial in zip(CANDIDATES, trials, strict=True) if trial["score"] >= floor][-1]
    fx.log(f"chosen {chosen}: the smallest candidate scoring at least {floor:.4f}")
    return chosen, trials


def main() -> None:
    inputs = fx.begin()
    out = fx.out_dir()
    seed = int(inputs.task.get("seed", 0))
    keep_fraction, trials = search(inputs, seed)
    model = prune_channels(inputs.reference, keep_fraction)
    fx.log(
        f"channels {model[0].out_channels}/{inputs.reference[0].out_channels} and "
        f"{model[2].out_channels}/{inputs.reference[2].out_channels}: "
        f"validation accuracy before fine-tuning {fx.accuracy(model, inputs.x_val, inputs.y_val):.4f}"
    )
    fx.fine_tune(model, inputs.x_train, inputs.y_train, epochs=EPOCHS, lr=LEARNING_RATE, seed=seed)
    fx.save_torchscript(model, out, inputs.example)
    fx.write_method(
        out,
        inputs,
        model,
        name="structured channel pruning",
        description="Removes the conv output channels with the smallest L1 weight norm "
        f"(conv1 keeps {model[0].out_channels} of {inputs.reference[0].out_channels}, conv2 keeps "
        f"{model[2].out_channels} of {inputs.reference[2].out_channels}), rebuilds smaller Conv2d and "
        f"Linear layers and fine-tunes {EPOCHS} epochs: a smaller dense model, a real speed-up. "
        f"The widths are the smallest of {len(CANDIDATES)} candidates within {ACCURACY_TOLERANCE:.1%} "
        f"validation accuracy of the best one after {SEARCH_EPOCHS} epochs (trial log in method.json).",
        trials=trials,
        hyperparameters={
            "keep_fraction": keep_fraction,
            "candidates": CANDIDATES,
            "criterion": "L1 norm of output channel",
            "channels": [model[0].out_channels, model[2].out_channels],
            "epochs": EPOCHS,
            "learning_rate": LEARNING_RATE,
            "optimizer": "Adam",
            "batch_size": 32,
        },
    )


if __name__ == "__main__":
    main()
