"""load_reference_eager: rebuilding an eager nn.Sequential from a scripted or traced one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "common"))
import footprint_example as fx


def save(module: nn.Module, path: Path, *, traced: bool) -> Path:
    module = module.eval()
    scripted = torch.jit.trace(module, torch.randn(2, 1, 8, 8)) if traced else torch.jit.script(module)
    torch.jit.save(scripted, str(path))
    return path


def unusual_sequential() -> nn.Sequential:
    # Non-default hyper-parameters everywhere, so that a defaulted value cannot pass unnoticed.
    return nn.Sequential(
        nn.Conv2d(1, 6, 3, stride=2, padding=2, dilation=2, bias=False),
        nn.ReLU(),
        nn.Conv2d(6, 4, (3, 1), padding=(1, 0), groups=2),
        nn.Dropout(0.25),
        nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
        nn.Flatten(1, -1),
        nn.Identity(),
        nn.Linear(4 * 4 * 4, 5),
    )


@pytest.mark.parametrize("traced", [False, True], ids=["scripted", "traced"])
def test_it_rebuilds_layers_and_hyperparameters_and_answers_identically(tmp_path: Path, traced: bool) -> None:
    torch.manual_seed(0)
    original = unusual_sequential()
    rebuilt = fx.load_reference_eager(save(original, tmp_path / "m.pt", traced=traced))
    assert repr(rebuilt) == repr(original.eval())
    x = torch.randn(7, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(rebuilt(x), original(x))
    assert all(not m.training for m in rebuilt.modules())


def test_it_names_an_unsupported_layer(tmp_path: Path) -> None:
    path = save(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sigmoid(), nn.Flatten()), tmp_path / "m.pt", traced=False)
    with pytest.raises(ValueError, match="'Sigmoid' is not supported"):
        fx.load_reference_eager(path)


def test_it_refuses_a_model_that_is_not_a_sequential(tmp_path: Path) -> None:
    path = save(nn.Conv2d(1, 2, 3), tmp_path / "m.pt", traced=False)
    with pytest.raises(ValueError, match="not an nn.Sequential"):
        fx.load_reference_eager(path)


def test_it_refuses_a_convolution_with_non_zero_padding_mode(tmp_path: Path) -> None:
    for traced in (False, True):
        path = save(
            nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect")), tmp_path / "m.pt", traced=traced
        )
        with pytest.raises(ValueError, match="padding_mode"):
            fx.load_reference_eager(path)


def test_it_says_when_the_file_is_not_torchscript(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    torch.save(nn.Linear(2, 2).state_dict(), path)  # a pickled state dict, not a TorchScript archive
    with pytest.raises(ValueError, match="not a TorchScript file"):
        fx.load_reference_eager(path)
