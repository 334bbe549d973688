"""What is sent to whom, when: the timed inputs, their blocks, and the caching probe's inputs.

Pure functions of a secret random generator: no I/O, no clock (docs/measurement.md, "What the
server cannot know"). A round is one set of fresh server processes; within a round every
server times each test input at most once, drawn without replacement in an order only the
runner knows, in blocks that alternate between the servers; the caching probe's fresh inputs
are test inputs that no server of the round has been sent. The accuracy pass, which sends
every test input, comes after both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# The caching probe's size, and the share of a round's test inputs it may take at most.
PROBE_QUERIES = 64
PROBE_MAX_SHARE = 0.25


@dataclass(frozen=True)
class Round:
    """One round's plan: test-input indices in timed order, cut into blocks."""

    index: int
    order: np.ndarray  # test indices for timed blocks, no repeats
    block_queries: int
    probe_fresh: np.ndarray  # test indices for the probe's fresh queries (empty: no probe)

    @property
    def blocks(self) -> int:
        return len(self.order) // self.block_queries

    def block(self, k: int) -> np.ndarray:
        return self.order[k * self.block_queries : (k + 1) * self.block_queries]


def plan_round(rng: np.random.Generator, *, index: int, test_count: int, block_queries: int, with_probe: bool) -> Round:
    """A round over `test_count` test inputs: a secret permutation; with a probe, its fresh
    inputs are set aside first, so that no timed block ever sends them.

    The block size is cut down to what the inputs allow (a split smaller than a block).
    """
    if test_count < 1:
        raise ValueError("a round needs at least one test input")
    if block_queries < 1:
        raise ValueError(f"block_queries must be at least 1, got {block_queries}")
    permutation = rng.permutation(test_count)
    probe = min(PROBE_QUERIES, int(test_count * PROBE_MAX_SHARE)) if with_probe and test_count >= 4 else 0
    fresh, timed = permutation[:probe], permutation[probe:]
    block = min(block_queries, len(timed))
    usable = len(timed) - len(timed) % block
    return Round(index=index, order=timed[:usable], block_queries=block, probe_fresh=fresh)


def subject_orders(rng: np.random.Generator, subjects: list[str], blocks: int) -> list[list[str]]:
    """For each block, the order in which the subjects are sent it: a fresh shuffle each time,
    so that neither position in a group (first after a switch, or last) favours a subject."""
    return [[subjects[i] for i in rng.permutation(len(subjects))] for _ in range(blocks)]


def blocks_wanted(*, queries_wanted: int, block_queries: int) -> int:
    return max(1, math.ceil(queries_wanted / block_queries))


def round_share(total_wanted: float, done: float, rounds_left: int) -> float:
    """What one of the `rounds_left` rounds still to come should contribute to a total."""
    return max(0.0, total_wanted - done) / max(1, rounds_left)


def probe_sequence(rng: np.random.Generator, repeated: int, fresh: np.ndarray) -> tuple[list[int], list[bool]]:
    """The probe's queries: `repeated` (a test input timed once already) interleaved with each
    fresh one, which of the pair goes first a coin flip. Returns (test indices, is_repeated)."""
    indices: list[int] = []
    kinds: list[bool] = []
    for k, first_repeated in enumerate(rng.random(len(fresh)) < 0.5):
        pair = [(repeated, True), (int(fresh[k]), False)]
        for index, kind in pair if first_repeated else pair[::-1]:
            indices.append(index)
            kinds.append(kind)
    return indices, kinds


def warmup_indices(rng: np.random.Generator, pool: int, count: int) -> np.ndarray:
    """Indices into the warm-up pool (training inputs, never test inputs), cycled as needed."""
    if pool < 1:
        raise ValueError("the warm-up pool is empty")
    return rng.permutation(pool)[np.arange(count) % pool]


def offline_batches(rng: np.random.Generator, *, test_count: int, batch_size: int) -> list[np.ndarray]:
    """Batches of distinct test inputs covering each at most once: the offline run's timed work."""
    permutation = rng.permutation(test_count)
    whole = test_count // batch_size
    return [permutation[k * batch_size : (k + 1) * batch_size] for k in range(whole)]
