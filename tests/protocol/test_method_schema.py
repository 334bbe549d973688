"""method.json's contract: declared search and trial log (runners/schemas/method-v1.json)."""

from __future__ import annotations

import pytest

from runners.schema import SchemaError, validate_method

SEARCH = {"device_type": "NVIDIA A100 40GB", "device_count": 8, "hours": 12.5, "trials": 300, "energy_kwh": 40.0}


def test_it_accepts_a_method_without_search_or_trials() -> None:
    assert validate_method({"name": "int8", "search": None, "anything": {"else": [1]}})["name"] == "int8"


def test_it_accepts_a_declared_search_and_a_trial_log() -> None:
    validate_method(
        {
            "name": "nas",
            "search": {**SEARCH, "power_w": 400.0, "note": "evolution"},
            "trials": [
                {"config": {"w": 16}, "score": 0.96, "duration_s": 118.0, "failed": False, "energy_kwh": 0.01},
                {"duration_s": 3.0, "failed": True},
            ],
        }
    )


@pytest.mark.parametrize(
    ("method", "where"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "search": {**SEARCH, "device_count": 0}}, "search/device_count"),
        ({"name": "x", "search": {**SEARCH, "hours": -1}}, "search/hours"),
        ({"name": "x", "search": {"device_count": 1, "hours": 1}}, "search"),
        ({"name": "x", "search": {**SEARCH, "gpus": 8}}, "search"),
        ({"name": "x", "search": {**SEARCH, "power_w": 0}}, "search/power_w"),
        ({"name": "x", "search": "a lot"}, "search"),
        ({"name": "x", "trials": [{"score": 0.9}]}, "trials/0"),
        ({"name": "x", "trials": [{"failed": False}]}, "trials/0"),
        ({"name": "x", "trials": [{"failed": False, "score": "high"}]}, "trials/0/score"),
        ({"name": "x", "trials": {"n": 3}}, "trials"),
    ],
)
def test_it_names_the_field_that_breaks_the_contract(method: dict, where: str) -> None:
    with pytest.raises(SchemaError) as raised:
        validate_method(method)
    assert f"at {where}:" in str(raised.value)


def test_it_caps_the_trial_log() -> None:
    trials = [{"failed": False, "score": 0.5}] * 10001
    with pytest.raises(SchemaError, match="trials"):
        validate_method({"name": "x", "trials": trials})
