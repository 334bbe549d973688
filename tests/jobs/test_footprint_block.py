"""Validation of a server's READY `footprint` block (runners.footprint_figures.footprint_problem), no Docker."""

from __future__ import annotations

import pytest

from runners.footprint_figures import footprint_problem


def test_it_accepts_a_complete_block_and_a_partial_one() -> None:
    assert (
        footprint_problem(
            {
                "params_total": 10,
                "params_nonzero": 10,
                "flops_dense": 2.5e9,
                "flops_nonzero": 0,
                "artifact_bytes": 100,
                "artifact_gzip_bytes": 90,
            }
        )
        is None
    )
    assert footprint_problem({"params_total": 3}) is None


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        ([1, 2], "it is a list, not an object"),
        ({"params_total": "10"}, "params_total is '10', not a finite number"),
        ({"params_total": True}, "params_total is True, not a finite number"),
        ({"flops_dense": float("inf")}, "flops_dense is inf, not a finite number"),
        ({"params_total": -1}, "params_total is negative (-1)"),
        ({"flops_dense": 5, "flops_nonzero": 6}, "flops_nonzero (6) exceeds flops_dense (5)"),
        ({"energy": 1}, "unknown figure 'energy'"),
        ({"flops_dense": 10**5000}, "flops_dense is above the plausible 1e+18"),
    ],
)
def test_it_says_what_is_wrong_with_a_malformed_block(block, reason: str) -> None:
    assert footprint_problem(block) == reason
