"""Every example's compress.py, run as shipped on a local digits fixture (host, no Docker)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.examples.conftest import EXAMPLE_NAMES, Compressed, run_compress

warnings.filterwarnings("ignore", message=r".?torch\.(jit|ao\.quantization)", category=DeprecationWarning)


def load(path: Path) -> torch.jit.ScriptModule:
    return torch.jit.load(str(path), map_location="cpu").eval()


def hidden_split_accuracy(model: torch.jit.ScriptModule, fixture: Path) -> float:
    with np.load(fixture / "test.npz") as data:
        x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean())


def weights(model: torch.jit.ScriptModule) -> dict[str, torch.Tensor]:
    return {name: p for name, p in model.named_parameters() if name.endswith("weight")}


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_it_writes_only_a_loadable_torchscript_model_and_a_valid_method_json(
    name: str, compressed: Callable[[str], Compressed]
) -> None:
    result = compressed(name)
    assert sorted(p.name for p in result.out.iterdir()) == ["method.json", "model.pt"]
    assert not any(p.is_symlink() for p in result.out.iterdir())
    assert (result.out / "method.json").stat().st_size <= 1024 * 1024
    model = load(result.out / "model.pt")
    assert model(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    method = result.method
    assert isinstance(method["name"], str) and method["name"]
    assert isinstance(method["description"], str) and isinstance(method["hyperparameters"], dict)
    assert 0.0 <= method["validation"]["accuracy"] <= 1.0
    assert method["validation"]["samples"] > 0
    assert 0 < method["parameters"]["nonzero"] <= method["parameters"]["total"]
    assert method["reference_parameters"] == {"total": 151306, "nonzero": 151306}
    json.dumps(method)  # plain JSON all the way down


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_it_keeps_at_least_90_percent_of_the_reference_accuracy_on_the_hidden_test_split(
    name: str, compressed: Callable[[str], Compressed], digits_fixture: Path
) -> None:
    reference_accuracy = hidden_split_accuracy(load(digits_fixture / "in" / "reference" / "model.pt"), digits_fixture)
    accuracy = hidden_split_accuracy(load(compressed(name).out / "model.pt"), digits_fixture)
    assert accuracy >= 0.9 * reference_accuracy, (name, accuracy, reference_accuracy)


def test_identity_answers_exactly_like_the_reference(
    compressed: Callable[[str], Compressed], digits_fixture: Path
) -> None:
    x = torch.from_numpy(np.load(digits_fixture / "test.npz")["x"])
    with torch.no_grad():
        expected = load(digits_fixture / "in" / "reference" / "model.pt")(x)
        assert torch.equal(load(compressed("identity").out / "model.pt")(x), expected)


def test_int8_dynamic_stores_the_linear_weights_as_int8(
    compressed: Callable[[str], Compressed], digits_fixture: Path
) -> None:
    result = compressed("int8-dynamic")
    model = load(result.out / "model.pt")
    graph = str(model.inlined_graph)
    assert graph.count("quantized::linear_dynamic") == 2 and "aten::linear" not in graph
    # The two Linear layers hold 131k of the 151k weights: int8 cuts the file to well under half.
    reference_bytes = (digits_fixture / "in" / "reference" / "model.pt").stat().st_size
    assert (result.out / "model.pt").stat().st_size < 0.5 * reference_bytes
    assert result.method["hyperparameters"]["dtype"] == "qint8"


def test_unstructured_prune_leaves_90_percent_of_the_weights_zero_in_a_dense_model(
    compressed: Callable[[str], Compressed],
) -> None:
    result = compressed("unstructured-prune")
    tensors = weights(load(result.out / "model.pt"))
    assert sorted(tuple(t.shape) for t in tensors.values()) == sorted(
        [(32, 1, 3, 3), (64, 32, 3, 3), (128, 1024), (10, 128)]
    )  # same dense shapes as the reference
    total = sum(t.numel() for t in tensors.values())
    zeros = sum(int((t == 0).sum()) for t in tensors.values())
    assert zeros / total == pytest.approx(0.9, abs=0.005)
    assert result.method["parameters"]["nonzero"] < 0.11 * result.method["parameters"]["total"]


def test_structured_prune_saves_a_smaller_model_with_fewer_channels(
    compressed: Callable[[str], Compressed],
) -> None:
    result = compressed("structured-prune")
    model = load(result.out / "model.pt")
    conv1, conv2, fc1, fc2 = (tuple(t.shape) for t in weights(model).values())
    assert conv1[0] <= 24 and conv2[0] <= 32 and conv2[1] == conv1[0]  # >= 25% and >= 50% removed
    assert fc1 == (128, conv2[0] * 16) and fc2 == (10, 128)
    total = sum(p.numel() for p in model.parameters())
    assert result.method["parameters"] == {"total": total, "nonzero": total} and total < 151306 / 2


def test_distill_trains_a_student_much_smaller_than_the_reference(
    compressed: Callable[[str], Compressed],
) -> None:
    result = compressed("distill")
    model = load(result.out / "model.pt")
    total = sum(p.numel() for p in model.parameters())
    assert total == result.method["parameters"]["total"] and total < 151306 / 10
    assert result.method["hyperparameters"]["temperature"] > 1


def test_compress_is_deterministic_for_a_given_seed(
    compressed: Callable[[str], Compressed], digits_fixture: Path, tmp_path: Path
) -> None:
    # Fine-tuning with masks, the path most likely to drift; the other trainings share its loop.
    first = load(compressed("unstructured-prune").out / "model.pt")
    again = run_compress("unstructured-prune", digits_fixture / "in", tmp_path / "out", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    second = load(tmp_path / "out" / "model.pt")
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
