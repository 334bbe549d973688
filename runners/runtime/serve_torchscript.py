#!/usr/bin/env python3
"""Footprint's standard runtime: serves /footprint/out/model.pt (TorchScript) on CPU.

Installed in the runtime image as `footprint-serve`, next to `footprint_sdk` in
site-packages. It replies with the model's scores as float32; the harness takes the
arg-max. It warms nothing up itself: the harness warms every server the same way.
"""

from __future__ import annotations

import os
import sys

import footprint_sdk
import numpy as np

DEFAULT_MODEL = "/footprint/out/model.pt"
EXIT_MODEL_NOT_LOADABLE = 3


def main() -> int:
    import torch

    # Thread counts only take effect before the first operation runs.
    torch.set_num_threads(footprint_sdk.threads())
    torch.set_num_interop_threads(1)

    path = os.environ.get("FOOTPRINT_MODEL", DEFAULT_MODEL)
    try:
        model = torch.jit.load(path, map_location="cpu")
    except Exception as exc:  # torch raises RuntimeError, ValueError, OSError... by case
        print(f"model.pt is not a loadable TorchScript file: {path}: {exc}", file=sys.stderr)
        return EXIT_MODEL_NOT_LOADABLE
    model.eval()

    def predict(batch: np.ndarray) -> np.ndarray:
        out = model(torch.from_numpy(batch))
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"the model returned {type(out).__name__}; it must return one tensor of scores")
        # Integer outputs are class indices already; scores travel as float32.
        return (out.to(torch.int64) if not out.is_floating_point() else out.to(torch.float32)).numpy()

    version = f"footprint-serve (torch {torch.__version__}, {torch.get_num_threads()} threads)"
    # inference_mode is thread-local: entering it once here covers every request and saves
    # entering it per query on the latency path.
    with torch.inference_mode():
        footprint_sdk.serve(predict, info=version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
