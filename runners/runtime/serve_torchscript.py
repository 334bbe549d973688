#!/usr/bin/env python3
"""Footprint's standard runtime: serves /footprint/out/model.pt (TorchScript) on CPU.

Installed in the runtime image as `footprint-serve`, next to `footprint_sdk` in
site-packages. It replies with the model's scores as float32; the harness takes the
arg-max. It warms nothing up itself: the harness warms every server the same way.
"""

from __future__ import annotations

import json
import os
import sys
import time

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
    footprint = _footprint(model, path)

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
        footprint_sdk.serve(predict, info=version, footprint=footprint)
    return 0


def _footprint(model: object, path: str) -> dict[str, int] | None:
    """The model's footprint figures (model_stats), or None with the reason on stderr.

    FLOPs need one input: the runner passes the task's input shape and dtype in
    FOOTPRINT_INPUT_SHAPE (JSON list) and FOOTPRINT_INPUT_DTYPE; without them only the
    parameter counts and the artifact sizes are reported. A model the counting pass cannot
    run is served all the same: serving it is what decides the run.
    """
    try:
        import footprint_model_stats as model_stats  # the runtime image: in site-packages
    except ImportError:
        import model_stats  # the repository: next to this file

    started = time.perf_counter()
    try:
        raw_shape = os.environ.get("FOOTPRINT_INPUT_SHAPE")
        if raw_shape:
            shape = json.loads(raw_shape)
            example = model_stats.example_input(shape, os.environ.get("FOOTPRINT_INPUT_DTYPE", "float32"))
            figures = model_stats.model_footprint(model, example, path)
        else:
            figures = model_stats.parameter_counts(model)
            figures.update(model_stats.artifact_sizes(path))
    except Exception as exc:  # the model's own forward may raise anything; serving decides
        print(f"footprint figures not computed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return None
    print(f"footprint figures in {time.perf_counter() - started:.3f} s: {figures}", file=sys.stderr, flush=True)
    return figures


if __name__ == "__main__":
    sys.exit(main())
