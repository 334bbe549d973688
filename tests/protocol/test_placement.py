"""CPU placement helpers: cpuset strings and pinning the harness next to the server."""

from __future__ import annotations

import os

import pytest

from runners.harness import parse_cpuset, pin_current_process


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("1", {1}), ("0-1,3", {0, 1, 3}), (" 2 , 4-5", {2, 4, 5}), ("3-3", {3}), ("0,0", {0})],
)
def test_it_parses_cpuset_strings(text: str, cpus: set[int]) -> None:
    assert parse_cpuset(text) == cpus


@pytest.mark.parametrize("text", ["", "a", "3-1", "-1", "1,,2", "1-", "0-1-2"])
def test_it_rejects_malformed_cpuset_strings(text: str) -> None:
    with pytest.raises(ValueError, match="invalid cpuset"):
        parse_cpuset(text)


def test_it_pins_the_current_thread_and_returns_the_previous_set() -> None:
    original = os.sched_getaffinity(0)
    target = {max(original)}
    previous = pin_current_process(target)
    try:
        assert previous == original
        assert os.sched_getaffinity(0) == target
    finally:
        os.sched_setaffinity(0, original)
