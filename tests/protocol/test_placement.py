"""CPU placement helpers: cpuset strings, choosing the harness's CPUs and pinning it there."""

from __future__ import annotations

import os

import pytest

from runners.placement import PLACEMENT_APART, PLACEMENT_SHARED, harness_cpus, parse_cpuset, pin_current_process


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


@pytest.mark.parametrize(
    ("container", "allowed", "chosen"),
    [
        ({1}, {0, 1}, {0}),  # the 2-core runner: the harness on the other core
        ({0}, {0, 1}, {1}),
        ({2, 3}, {0, 1, 2, 3}, {0}),  # one CPU, the lowest outside: the same on every run
        ({5}, {0, 1}, {0}),  # a container outside the runner's own CPUs
        ({1}, {1, 3}, {3}),
    ],
)
def test_it_puts_the_harness_on_a_cpu_outside_the_container_when_there_is_one(
    container: set[int], allowed: set[int], chosen: set[int]
) -> None:
    assert harness_cpus(container, allowed) == (chosen, PLACEMENT_APART)


@pytest.mark.parametrize(
    ("container", "allowed", "chosen"),
    [({0, 1}, {0, 1}, {0, 1}), ({1}, {1}, {1}), ({1, 2}, {1}, {1})],
)
def test_it_shares_the_containers_cpus_when_the_runner_has_no_other(
    container: set[int], allowed: set[int], chosen: set[int]
) -> None:
    assert harness_cpus(container, allowed) == (chosen, PLACEMENT_SHARED)


def test_it_rejects_an_empty_container_cpuset() -> None:
    with pytest.raises(ValueError, match="empty"):
        harness_cpus(set(), {0, 1})
