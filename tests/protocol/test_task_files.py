"""The compress-phase helpers of the SDK: task.json, method.json, thread count."""

from __future__ import annotations

import json

import pytest

from runners import footprint_sdk as sdk


def test_it_reads_the_task(tmp_path) -> None:
    path = tmp_path / "task.json"
    path.write_text(json.dumps({"contract": sdk.CONTRACT, "num_classes": 10}))
    assert sdk.read_task(str(path)) == {"contract": sdk.CONTRACT, "num_classes": 10}


def test_it_rejects_a_task_that_is_not_an_object(tmp_path) -> None:
    path = tmp_path / "task.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="does not hold a JSON object"):
        sdk.read_task(str(path))


def test_it_writes_method_json_with_the_name_and_extra_fields(tmp_path) -> None:
    written = sdk.write_method("int8", out_dir=str(tmp_path), hyperparameters={"bits": 8}, batch_sizes=[1])
    assert written == str(tmp_path / "method.json")
    assert json.loads((tmp_path / "method.json").read_text()) == {
        "name": "int8",
        "hyperparameters": {"bits": 8},
        "batch_sizes": [1],
    }


def test_it_refuses_a_method_without_a_name(tmp_path) -> None:
    with pytest.raises(ValueError, match="non-empty `name`"):
        sdk.write_method("  ", out_dir=str(tmp_path))
    assert not (tmp_path / "method.json").exists()


def test_it_refuses_a_method_json_over_1_mib(tmp_path) -> None:
    with pytest.raises(ValueError, match="the limit is 1 MiB"):
        sdk.write_method("big", out_dir=str(tmp_path), trial_log=["x" * 1000] * 1100)


@pytest.mark.parametrize(("value", "expected"), [(None, 1), ("4", 4)])
def test_it_reads_the_thread_count_from_the_environment(monkeypatch, value, expected) -> None:
    if value is None:
        monkeypatch.delenv("FOOTPRINT_THREADS", raising=False)
    else:
        monkeypatch.setenv("FOOTPRINT_THREADS", value)
    assert sdk.threads() == expected


@pytest.mark.parametrize("value", ["two", "0"])
def test_it_rejects_a_bad_thread_count(monkeypatch, value) -> None:
    monkeypatch.setenv("FOOTPRINT_THREADS", value)
    with pytest.raises(ValueError, match="FOOTPRINT_THREADS"):
        sdk.threads()
