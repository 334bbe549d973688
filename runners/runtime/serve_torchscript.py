#!/usr/bin/env python3
"""Footprint's standard runtime: serves /footprint/out/model.pt (TorchScript) on CPU or CUDA.

Installed in the runtime image as `footprint-serve`, next to `footprint_sdk` in
site-packages. It replies with the model's scores as float32; the harness takes the
arg-max. It warms nothing up itself: the harness warms every server the same way.

Environment (set by the runner):
  FOOTPRINT_MODEL        the TorchScript file (default /footprint/out/model.pt)
  FOOTPRINT_THREADS      intra-op threads (footprint_sdk.threads())
  FOOTPRINT_DEVICE       "cpu" (default), "cuda" or "cuda:<n>": where the model runs. On
                         CUDA every reply waits for the GPU (torch.cuda.synchronize), so the
                         harness's timed round trip covers the kernels' execution.
  FOOTPRINT_STATS_FILE   optional: after the harness shut the server down, a small JSON
                         object is written there ({"device", and the torch allocator's peaks
                         on CUDA or the thread count on CPU}); the runner reads it as
                         untrusted data (runners.meters.runtime_stats).

Exit status: 0 after a shutdown; 1 when a request failed (footprint_sdk); 3 when
model.pt is not a loadable TorchScript file; 4 when FOOTPRINT_DEVICE names a device this
container cannot use (CUDA asked for, but torch has no CUDA or sees no GPU; or an
unknown value).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from typing import Any

import footprint_sdk
import numpy as np

DEFAULT_MODEL = "/footprint/out/model.pt"
EXIT_MODEL_NOT_LOADABLE = 3
EXIT_DEVICE_UNAVAILABLE = 4
_DEVICE = re.compile(r"cpu|cuda(?::\d{1,3})?")


def main() -> int:
    import torch

    # Thread counts only take effect before the first operation runs.
    torch.set_num_threads(footprint_sdk.threads())
    torch.set_num_interop_threads(1)

    device, problem = _device(torch, os.environ.get("FOOTPRINT_DEVICE", "cpu"))
    if device is None:
        print(problem, file=sys.stderr, flush=True)
        return EXIT_DEVICE_UNAVAILABLE
    cuda = device.type == "cuda"

    path = os.environ.get("FOOTPRINT_MODEL", DEFAULT_MODEL)
    try:
        model = torch.jit.load(path, map_location=device)
    except Exception as exc:  # torch raises RuntimeError, ValueError, OSError... by case
        print(f"model.pt is not a loadable TorchScript file: {path}: {exc}", file=sys.stderr)
        return EXIT_MODEL_NOT_LOADABLE
    model.eval()
    footprint = _footprint(model, path, device)
    if cuda:
        # The allocator's peaks then cover the model's weights and serving, not the
        # footprint pass above.
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)

    def predict(batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(batch)
        if cuda:
            x = x.to(device, non_blocking=False)
        out = model(x)
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"the model returned {type(out).__name__}; it must return one tensor of scores")
        # Integer outputs are class indices already; scores travel as float32. A tensor that
        # has its wire type already is not converted: even a conversion to itself costs a
        # dispatch, ~2.5 us a query after the model's compute (docs/measurement.md).
        wire = torch.float32 if out.is_floating_point() else torch.int64
        if out.dtype is not wire:
            out = out.to(wire)
        if cuda:
            # Kernels run asynchronously: the reply leaves only once the GPU has finished,
            # whatever streams the model used.
            torch.cuda.synchronize(device)
            out = out.cpu()
        return out.numpy()

    # inference_mode is thread-local: entering it once here covers every request and saves
    # entering it per query on the latency path.
    with torch.inference_mode():
        footprint_sdk.serve(predict, info=_describe(torch, device), footprint=footprint)
    stats_path = os.environ.get("FOOTPRINT_STATS_FILE")
    if stats_path:
        _write_stats(stats_path, _stats(torch, device))
    return 0


def _device(torch: Any, requested: str) -> tuple[Any, str]:
    """(torch.device, "") or (None, why this container cannot use the requested device)."""
    requested = requested.strip() or "cpu"
    if not _DEVICE.fullmatch(requested):
        return None, f"FOOTPRINT_DEVICE={requested!r} is not a device footprint-serve knows: use cpu, cuda or cuda:<n>"
    if requested == "cpu":
        return torch.device("cpu"), ""
    if torch.version.cuda is None:
        return None, (
            f"FOOTPRINT_DEVICE={requested} but this runtime's torch {torch.__version__} was built without CUDA: "
            "the runner's hardware class has GPUs, so its runtime image needs a CUDA build of torch "
            "(docs/measurement.md, GPU)"
        )
    if not torch.cuda.is_available():
        return None, (
            f"FOOTPRINT_DEVICE={requested} but torch {torch.__version__} (CUDA {torch.version.cuda}) sees no usable "
            "GPU in this container: no GPU was passed in (Docker device request, NVIDIA container toolkit), or "
            "the host's driver is older than this CUDA build"
        )
    device = torch.device(requested)
    index = device.index if device.index is not None else torch.cuda.current_device()
    if index >= torch.cuda.device_count():
        return None, f"FOOTPRINT_DEVICE={requested} but this container sees {torch.cuda.device_count()} GPU(s)"
    return torch.device("cuda", index), ""


def _describe(torch: Any, device: Any) -> str:
    """The READY frame's `server`: runtime, library versions, device, threads (published as provenance)."""
    parts = [f"torch {torch.__version__}"]
    if device.type == "cuda":
        parts.append(f"{device} {torch.cuda.get_device_name(device)}")
        parts.append(f"CUDA {torch.version.cuda}")
        cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        if cudnn:
            parts.append(f"cuDNN {cudnn}")
    else:
        parts.append("cpu")
    parts.append(f"{torch.get_num_threads()} threads")
    return f"footprint-serve ({', '.join(parts)})"


def _stats(torch: Any, device: Any) -> dict[str, Any] | None:
    """What the runner cannot see from outside: the torch allocator's peaks, or None on a failure."""
    try:
        if device.type == "cuda":
            return {
                "device": str(device),
                "torch_cuda_max_allocated_bytes": int(torch.cuda.max_memory_allocated(device)),
                "torch_cuda_max_reserved_bytes": int(torch.cuda.max_memory_reserved(device)),
            }
        return {"device": "cpu", "torch_num_threads": int(torch.get_num_threads())}
    except Exception as exc:  # noqa: BLE001 - statistics must never fail a serve that succeeded
        print(f"runtime statistics not gathered: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return None


def _write_stats(path: str, stats: dict[str, Any] | None) -> None:
    if stats is None:
        return
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(stats, sort_keys=True) + "\n")
    except OSError as exc:
        print(f"runtime statistics not written to {path}: {exc}", file=sys.stderr, flush=True)


def _footprint(model: object, path: str, device: Any = None) -> dict[str, int] | None:
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
            if device is not None:
                example = example.to(device)  # the model's weights live there (map_location)
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
