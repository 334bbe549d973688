"""Footprint figures: what the servers say of their models, and the ratios against the reference.

footprint-serve measures parameters, non-zeros, FLOPs and sizes (docs/measurement.md,
"Footprint figures") and sends them in its ready frame; an own runtime may declare them,
published as `declared`. Everything a ready frame carries is checked before it is published.
"""

from __future__ import annotations

import math
from typing import Any

from runners.result import ResultDocument

# READY frame key -> (figure name, unit). See docs/measurement.md, "Footprint figures".
FOOTPRINT_FIGURES: dict[str, tuple[str, str]] = {
    "params_total": ("params_total", "count"),
    "params_nonzero": ("params_nonzero", "count"),
    "flops_dense": ("flops_dense", "count"),
    "flops_nonzero": ("flops_nonzero", "count"),
    "artifact_gzip_bytes": ("artifact_gzip_size", "bytes"),
}
# Far above any model a runner can serve; bounds what float() and the database receive.
FOOTPRINT_MAX_VALUE = 1e18
# Pairs where the second can never exceed the first.
_FOOTPRINT_BOUNDS = (("params_nonzero", "params_total"), ("flops_nonzero", "flops_dense"))


def _finite(value: int | float) -> bool:
    return isinstance(value, int) or math.isfinite(value)  # math.isfinite overflows on huge ints


def footprint_problem(block: Any) -> str | None:
    """Why a READY frame's `footprint` block cannot be published, or None if it can."""
    if not isinstance(block, dict):
        return f"it is a {type(block).__name__}, not an object"
    for key, value in block.items():
        if key not in FOOTPRINT_FIGURES and key != "artifact_bytes":
            return f"unknown figure {str(key)[:60]!r}"
        # bool is an int in Python; a JSON true is not a count. Python's JSON reads NaN too.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            return f"{key} is {repr(value)[:60]}, not a finite number"
        if value < 0:
            return f"{key} is negative ({value})"
        if value > FOOTPRINT_MAX_VALUE:
            return f"{key} is above the plausible {FOOTPRINT_MAX_VALUE:.0e}"
    for part, whole in _FOOTPRINT_BOUNDS:
        if part in block and whole in block and block[part] > block[whole]:
            return f"{part} ({block[part]}) exceeds {whole} ({block[whole]})"
    return None


def footprint_figures(doc: ResultDocument, subject: str, block: Any, *, own: bool) -> None:
    """Publish a server's footprint figures: measured by footprint-serve, declared by an own runtime.

    An own runtime's malformed block is left out (and the provenance says why) rather than
    failing a run whose measured figures are sound; footprint-serve's is ours, so a bad one
    is a bug that must show.
    """
    notes = doc.provenance.setdefault("footprint", {})
    if block is None:
        notes[subject] = "not reported by the server"
        return
    problem = footprint_problem(block)
    if problem is not None:
        if not own:
            raise RuntimeError(f"footprint-serve sent a malformed footprint block: {problem}")
        notes[subject] = f"ignored: the server's footprint block is malformed ({problem})"
        return
    label = "declared" if own else "measured"
    notes[subject] = label
    for key, (name, unit) in FOOTPRINT_FIGURES.items():
        if key in block:
            doc.figure(subject, name, block[key], unit, label)


def footprint_ratios(doc: ResultDocument) -> None:
    """Compression ratio and theoretical speed-up against the reference of the same job.

    reference parameters / submission's non-zero parameters, and reference dense FLOPs /
    submission's non-zero FLOPs. For a model pruned in place (dense shapes, zeros inside)
    this is ShrinkBench's size / non-zero size and FLOPs / non-zero FLOPs; measuring from
    the reference also credits methods that change shapes (channel pruning, distillation).
    """
    reference = {f["name"]: f for f in doc.figures if f["subject"] == "reference"}
    submission = {f["name"]: f for f in doc.figures if f["subject"] == "submission"}
    for name, (whole, part) in {
        "compression_ratio": ("params_total", "params_nonzero"),
        "theoretical_speedup": ("flops_dense", "flops_nonzero"),
    }.items():
        if whole in reference and part in submission and submission[part]["value"] > 0:
            labels = {reference[whole]["label"], submission[part]["label"]}
            label = "measured" if labels == {"measured"} else "declared"
            doc.figure("submission", name, reference[whole]["value"] / submission[part]["value"], "ratio", label)
