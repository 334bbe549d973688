"""A local stand-in for a runner's /footprint/in of the `digits` benchmark (host only: needs sklearn).

    python examples/dev_fixture.py DEST            # DEST/in/{task.json,train.npz,reference/model.pt}
                                                   # and DEST/test.npz (never mounted into compress)
    FOOTPRINT_IN=DEST/in FOOTPRINT_OUT=DEST/out-identity python examples/identity/compress.py

It trains the benchmark's reference nn.Sequential briefly on a seeded, stratified 70/30 split of
sklearn's load_digits, so that the examples can be developed and tested without the platform.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch(\..*)?")


def digits_reference() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1024, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def write_digits_fixture(dest: Path, *, seed: int = 0, epochs: int = 15, scripted: bool = True) -> dict[str, Any]:
    """Write dest/in (what compress sees) and dest/test.npz; return the task."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=seed, stratify=y)

    model = digits_reference()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for index in torch.randperm(len(yt), generator=generator).split(32):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(xt[index]), yt[index]).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        reference_accuracy = float((model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean())

    (dest / "in" / "reference").mkdir(parents=True, exist_ok=True)
    module = torch.jit.script(model) if scripted else torch.jit.trace(model, xt[:1])
    torch.jit.save(module, str(dest / "in" / "reference" / "model.pt"))
    np.savez(dest / "in" / "train.npz", x=x_train, y=y_train)
    np.savez(dest / "test.npz", x=x_test, y=y_test)
    task = {
        "contract": "footprint.contract/1",
        "benchmark": "digits",
        "metric": "accuracy",
        "input": {"shape": [1, 8, 8], "dtype": "float32"},
        "num_classes": 10,
        "reference_accuracy": round(reference_accuracy, 4),
        "accuracy_floor": round(reference_accuracy - 0.02, 4),
        "threads": 1,
        "seed": seed,
        "limits": {"compress_wall_s": 900, "memory_bytes": 2147483648},
    }
    (dest / "in" / "task.json").write_text(json.dumps(task, indent=2) + "\n")
    return task


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--traced", action="store_true", help="save the reference with torch.jit.trace")
    args = parser.parse_args()
    print(json.dumps(write_digits_fixture(args.dest, seed=args.seed, scripted=not args.traced), indent=2))
