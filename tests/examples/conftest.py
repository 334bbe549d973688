"""Fixtures of the example-method tests: a local digits fixture and each example's output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from examples.dev_fixture import write_digits_fixture

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_NAMES = ["identity", "int8-dynamic", "unstructured-prune", "structured-prune", "distill"]


@dataclass
class Compressed:
    name: str
    out: Path
    method: dict[str, Any]
    wall_s: float
    log: str


def run_compress(name: str, in_dir: Path, out: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run examples/<name>/compress.py as the image runs it: no arguments, its own env paths."""
    out.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "FOOTPRINT_IN": str(in_dir),
        "FOOTPRINT_OUT": str(out),
        "FOOTPRINT_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / name / "compress.py")],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="session")
def digits_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DEST with DEST/in (what compress sees) and DEST/test.npz; trains the reference (~10 s)."""
    dest = tmp_path_factory.mktemp("digits")
    write_digits_fixture(dest, seed=0)
    return dest


@pytest.fixture(scope="session")
def compressed(digits_fixture: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Compressed]:
    """compressed(name): runs that example once per session and returns what it wrote."""
    done: dict[str, Compressed] = {}

    def get(name: str) -> Compressed:
        if name not in done:
            out = tmp_path_factory.mktemp(f"out-{name}")
            started = time.monotonic()
            result = run_compress(name, digits_fixture / "in", out, cwd=tmp_path_factory.mktemp("cwd"))
            wall_s = time.monotonic() - started
            assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
            method = json.loads((out / "method.json").read_text())
            done[name] = Compressed(name, out, method, wall_s, result.stdout + result.stderr)
        return done[name]

    return get
