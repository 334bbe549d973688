#!/usr/bin/env python3
"""The null server: answers every request at once with class 0 for each input.

It runs the same SDK code path as any submission, so its latency is the harness's own
cost (framing, the socket round trip, decoding), published next to every result.
Installed in the runtime image as `footprint-null-serve`.
"""

from __future__ import annotations

import sys

import footprint_sdk
import numpy as np


def main() -> int:
    replies: dict[int, np.ndarray] = {}  # one array per batch size: no allocation per query

    def predict(batch: np.ndarray) -> np.ndarray:
        if batch.ndim == 0:
            raise ValueError("a request must be a batch [B, *input.shape], got a 0-d array")
        size = batch.shape[0]
        reply = replies.get(size)
        if reply is None:
            reply = replies[size] = np.zeros(size, dtype=np.int64)
        return reply

    footprint_sdk.serve(predict, info="footprint-null-serve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
