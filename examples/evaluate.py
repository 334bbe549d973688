"""Check example outputs on the host against a dev_fixture.py folder (a developer's tool).

    python examples/evaluate.py FIXTURE OUT [OUT ...]

For each OUT (what a compress wrote): test accuracy, size on disk, parameters (from method.json),
and in-process batch-1 latency on 1 thread (torch.utils.benchmark) next to the reference's,
measured in this same process. The runner's figures (socket harness, fresh processes,
percentiles) are the ones that count; these are for development.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils import benchmark

warnings.filterwarnings("ignore", message=r".?torch\.(jit|ao\.quantization)", category=DeprecationWarning)


def latency_median_us(model: torch.jit.ScriptModule, example: torch.Tensor, *, min_run_time_s: float) -> float:
    with torch.no_grad():
        for _ in range(50):  # the profiling executor specialises during the first calls
            model(example)
        timer = benchmark.Timer(stmt="model(example)", globals={"model": model, "example": example}, num_threads=1)
        return timer.blocked_autorange(min_run_time=min_run_time_s).median * 1e6


def evaluate(fixture: Path, out: Path, *, min_run_time_s: float = 0.3, rounds_n: int = 7) -> dict[str, Any]:
    torch.set_num_threads(1)
    with np.load(fixture / "test.npz") as data:
        x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])
    reference = torch.jit.load(str(fixture / "in" / "reference" / "model.pt"), map_location="cpu").eval()
    model = torch.jit.load(str(out / "model.pt"), map_location="cpu").eval()
    method = json.loads((out / "method.json").read_text())
    with torch.no_grad():
        accuracy = float((model(x).argmax(1) == y).float().mean())
        reference_accuracy = float((reference(x).argmax(1) == y).float().mean())
    example = x[:1]
    # Alternate the two models over rounds so that a noisy neighbour hits both alike, and keep
    # each one's fastest round median: on a shared machine, interference only ever adds time.
    rounds = [
        (latency_median_us(model, example, min_run_time_s=min_run_time_s),
         latency_median_us(reference, example, min_run_time_s=min_run_time_s))
        for _ in range(rounds_n)
    ]  # fmt: skip
    latency_us = min(r[0] for r in rounds)
    reference_latency_us = min(r[1] for r in rounds)
    return {
        "name": method["name"],
        "accuracy": round(accuracy, 4),
        "reference_accuracy": round(reference_accuracy, 4),
        "model_bytes": (out / "model.pt").stat().st_size,
        "reference_model_bytes": (fixture / "in" / "reference" / "model.pt").stat().st_size,
        "parameters": method.get("parameters"),
        "latency_best_median_us": round(latency_us, 1),
        "reference_latency_best_median_us": round(reference_latency_us, 1),
        "speedup": round(reference_latency_us / latency_us, 3),
    }


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    for out_dir in sys.argv[2:]:
        print(json.dumps(evaluate(Path(sys.argv[1]), Path(out_dir))), flush=True)
