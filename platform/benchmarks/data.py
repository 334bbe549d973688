"""Checking a benchmark's files: the two splits (.npz with x, y) and the reference model.

torch is imported inside the functions that need it: the web process never does.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Batches for measuring the reference's accuracy at import.
_EVAL_BATCH = 256


class BenchmarkDataError(ValueError):
    """A benchmark file that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # float32 [N, *input_shape]
    y: np.ndarray  # int64 [N]

    @property
    def input_shape(self) -> list[int]:
        return [int(d) for d in self.x.shape[1:]]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_split(path: Path, *, role: str) -> Split:
    """Read and check one split; x becomes float32 and y int64 (the contract's dtypes)."""
    if not path.is_file():
        raise BenchmarkDataError(f"the {role} split {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = set(archive.files)
            missing = {"x", "y"} - keys
            if missing:
                raise BenchmarkDataError(
                    f"the {role} split {path.name} has no array named "
                    f"{' or '.join(sorted(missing))} (it has: {', '.join(sorted(keys)) or 'nothing'}); "
                    "save it with numpy.savez(path, x=inputs, y=labels)"
                )
            x, y = archive["x"], archive["y"]
    except BenchmarkDataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise BenchmarkDataError(f"the {role} split {path.name} is not a NumPy .npz archive ({exc})") from None
    if not np.issubdtype(x.dtype, np.floating):
        raise BenchmarkDataError(f"the {role} split's x has dtype {x.dtype}; expected floating point")
    if x.ndim < 2:
        raise BenchmarkDataError(f"the {role} split's x has shape {list(x.shape)}; expected [N, *input_shape]")
    if not np.issubdtype(y.dtype, np.integer):
        raise BenchmarkDataError(f"the {role} split's y has dtype {y.dtype}; expected integer class indices")
    if y.ndim != 1:
        raise BenchmarkDataError(f"the {role} split's y has shape {list(y.shape)}; expected [N]")
    if len(x) != len(y):
        raise BenchmarkDataError(f"the {role} split has {len(x)} inputs (x) but {len(y)} labels (y); they must match")
    if len(y) == 0:
        raise BenchmarkDataError(f"the {role} split is empty")
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    if not np.isfinite(x32).all():
        raise BenchmarkDataError(f"the {role} split's x holds NaN or infinite values")
    return Split(x=x32, y=np.ascontiguousarray(y, dtype=np.int64))


def check_labels(split: Split, *, num_classes: int, role: str) -> None:
    low, high = int(split.y.min()), int(split.y.max())
    if low < 0 or high >= num_classes:
        raise BenchmarkDataError(
            f"the {role} split's labels span [{low}, {high}]; with {num_classes} classes "
            f"they must lie in [0, {num_classes - 1}]"
        )


def reference_accuracy(path: Path, split: Split, *, num_classes: int | None) -> tuple[float, int]:
    """Load the reference with torch.jit.load and measure it on `split`.

    Returns (accuracy, number of classes it scores). Raises BenchmarkDataError when the
    file is not TorchScript or does not map [B, *input_shape] to scores [B, K].
    """
    import torch

    if not path.is_file():
        raise BenchmarkDataError(f"the reference model {path} does not exist")
    try:
        model = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:  # noqa: BLE001  (torch raises RuntimeError, ValueError, zip errors...)
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchmarkDataError(
            f"the reference model {path.name} is not a TorchScript file that torch.jit.load "
            f"can read ({first_line}); save it with torch.jit.save(torch.jit.script(model), path)"
        ) from None
    model.eval()
    correct = 0
    classes: int | None = None
    with torch.inference_mode():
        for start in range(0, len(split.y), _EVAL_BATCH):
            batch = torch.from_numpy(split.x[start : start + _EVAL_BATCH])
            try:
                scores = model(batch)
            except Exception as exc:  # noqa: BLE001  (whatever the model raises is the answer)
                raise BenchmarkDataError(
                    f"the reference model fails on a batch of shape {list(batch.shape)}: "
                    f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__}"
                ) from None
            if not isinstance(scores, torch.Tensor) or scores.ndim != 2 or scores.shape[0] != len(batch):
                shape = list(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
                raise BenchmarkDataError(
                    f"the reference model returns {shape} for a batch of {len(batch)}; "
                    "expected scores of shape [B, num_classes]"
                )
            classes = int(scores.shape[1])
            if num_classes is not None and classes != num_classes:
                raise BenchmarkDataError(
                    f"the reference model scores {classes} classes; the benchmark has {num_classes}"
                )
            correct += int((scores.argmax(dim=1).numpy() == split.y[start : start + _EVAL_BATCH]).sum())
    assert classes is not None  # the split is not empty
    return correct / len(split.y), classes


def content_sha256(train: Split, test: Split, reference_sha256: str) -> str:
    """Digest of what a benchmark's files hold (not of the files' bytes)."""
    digest = hashlib.sha256()
    for split in (train, test):
        for array in (split.x, split.y):
            digest.update(f"{array.dtype.str}{list(array.shape)}".encode())
            digest.update(array.tobytes())
    digest.update(reference_sha256.encode())
    return digest.hexdigest()
