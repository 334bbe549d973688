#!/usr/bin/env python3
"""identity: the reference model, re-saved unchanged (the baseline every other example beats)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import footprint_example as fx
import torch


def main() -> None:
    inputs = fx.begin()
    out = fx.out_dir()
    # Re-save the reference's own TorchScript (not a re-trace of the eager copy): the runner
    # then measures the very same program twice, and the speed-up it reports should read ~1.0.
    reference = torch.jit.load(str(fx.in_dir() / "reference" / "model.pt"), map_location="cpu")
    torch.jit.save(reference, str(out / "model.pt"))
    saved = torch.jit.load(str(out / "model.pt"), map_location="cpu")
    fx.write_method(
        out,
        inputs,
        saved,
        name="identity",
        description="The benchmark's reference model, unchanged (a baseline: speed-up ~1.0).",
        hyperparameters={},
    )


if __name__ == "__main__":
    main()
