"""The orders a board may be read in: the sort keys a page may ask for, the default one (the
ranking) and the columns sorted by label group. Shared by the board's entries in SQL
(leaderboard.selectors) and the captions of its rows (leaderboard.rows).
"""

from __future__ import annotations

# Sort keys a page may ask for: key -> (entry field, larger is better). "-key" reverses.
SORT_KEYS: dict[str, tuple[str, bool]] = {
    "speedup": ("speedup", True),
    "compression_ratio": ("compression_ratio", True),
    "theoretical_speedup": ("theoretical_speedup", True),
    "accuracy": ("accuracy", True),
    "accuracy_delta": ("accuracy_delta", True),
    "latency_p50_us": ("latency_p50_us", False),
    "latency_p90_us": ("latency_p90_us", False),
    "serve_peak_memory_bytes": ("serve_peak_memory_bytes", False),
    "compress_wall_s": ("compress_wall_s", False),
    "energy_per_inference_mj": ("energy_per_inference_mj", False),
    "total_kwh": ("total_kwh", False),
    "name": ("submission__name", False),
    "finished_at": ("finished_at", False),
}
DEFAULT_SORT = "rank"

# Columns whose measured and estimated values are never ordered together: sorted by one
# of these, measured values come first among themselves, then estimated ones (under a
# caption), then declared ones, then rows without the figure.
LABEL_GROUPED_SORTS = frozenset({"energy_per_inference_mj"})
