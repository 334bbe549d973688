#!/usr/bin/env python3
"""distill: knowledge distillation of the reference into a ~33x smaller student CNN."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import footprint_example as fx
import torch
from torch import nn
from torch.nn import functional as F

TEMPERATURE = 4.0
ALPHA = 0.9  # weight of the soft (teacher) loss; 1 - ALPHA on the true labels
EPOCHS = 40
LEARNING_RATE = 3e-3


def student(num_classes: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, 32),
        nn.ReLU(),
        nn.Linear(32, num_classes),
    )


def main() -> None:
    inputs = fx.begin()
    out = fx.out_dir()
    with torch.no_grad():  # the teacher is fixed: its soft targets are computed once
        soft_targets = F.softmax(inputs.reference(inputs.x_train) / TEMPERATURE, dim=1)

    def kd_loss(logits: torch.Tensor, index: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        # Hinton et al. 2015: KL to the teacher's softened outputs, scaled by T^2 so that its
        # gradients keep their size whatever the temperature, plus cross-entropy on the labels.
        soft = (
            F.kl_div(F.log_softmax(logits / TEMPERATURE, dim=1), soft_targets[index], reduction="batchmean")
            * TEMPERATURE**2
        )
        return ALPHA * soft + (1 - ALPHA) * F.cross_entropy(logits, labels)

    model = student(int(inputs.task.get("num_classes", 10)))
    fx.fine_tune(
        model,
        inputs.x_train,
        inputs.y_train,
        epochs=EPOCHS,
        lr=LEARNING_RATE,
        seed=int(inputs.task.get("seed", 0)),
        loss_fn=kd_loss,
    )
    fx.save_torchscript(model, out, inputs.example)
    fx.write_method(
        out,
        inputs,
        model,
        name="knowledge distillation",
        description="A small student (Conv2d 1->8, max-pool, Linear 128->32->10) trained from scratch "
        f"on the reference's softened outputs (T={TEMPERATURE:g}, alpha={ALPHA:g}) plus the labels.",
        hyperparameters={
            "temperature": TEMPERATURE,
            "alpha": ALPHA,
            "epochs": EPOCHS,
            "learning_rate": LEARNING_RATE,
            "optimizer": "Adam",
            "batch_size": 32,
            "student": str(model),
        },
    )


if __name__ == "__main__":
    main()
