#!/usr/bin/env python3
"""unstructured-prune: 90% global L1 magnitude pruning of conv + linear weights, fine-tuned.

The saved model is dense with zeros: ~10x fewer non-zeros, but dense kernels do the same work,
so expect a measured speed-up of ~1x. That gap is what Footprint's leaderboard shows.
"""

import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import footprint_example as fx
from torch import nn
from torch.nn.utils import prune

SPARSITY = 0.9
EPOCHS = 6
LEARNING_RATE = 1e-3


def main() -> None:
    inputs = fx.begin()
    out = fx.out_dir()
    model = copy.deepcopy(inputs.reference)
    targets = [(m, "weight") for m in model if isinstance(m, (nn.Conv2d, nn.Linear))]
    # One global threshold over all layers: layers with many small weights (the big Linear)
    # lose more than the small first convolution, which a per-layer amount would cripple.
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=SPARSITY)
    fx.log(f"pruned {SPARSITY:.0%}: validation accuracy {fx.accuracy(model, inputs.x_val, inputs.y_val):.4f}")
    # The masks stay applied (forward pre-hooks) while fine-tuning, so pruned weights stay zero.
    fx.fine_tune(
        model, inputs.x_train, inputs.y_train, epochs=EPOCHS, lr=LEARNING_RATE, seed=int(inputs.task.get("seed", 0))
    )
    for module, name in targets:
        prune.remove(module, name)  # bake the zeros into plain weight tensors
    per_layer = {
        f"{i}.weight": round(1 - float(m.weight.count_nonzero()) / m.weight.numel(), 4)
        for i, m in enumerate(model)
        if isinstance(m, (nn.Conv2d, nn.Linear))
    }
    fx.save_torchscript(model, out, inputs.example)
    fx.write_method(
        out,
        inputs,
        model,
        name="unstructured magnitude pruning 90%",
        description="Global unstructured L1 magnitude pruning of all Conv2d and Linear weights to "
        f"{SPARSITY:.0%} sparsity, {EPOCHS} epochs of fine-tuning with the masks kept, zeros baked "
        "into a dense model (high compression, no sparse kernels: expect ~1x speed-up).",
        hyperparameters={
            "sparsity": SPARSITY,
            "criterion": "L1, global",
            "epochs": EPOCHS,
            "learning_rate": LEARNING_RATE,
            "optimizer": "Adam",
            "batch_size": 32,
            "sparsity_per_layer": per_layer,
        },
    )


if __name__ == "__main__":
    main()
