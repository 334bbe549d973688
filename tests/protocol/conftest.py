"""Servers started as plain processes (no Docker) for the protocol tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runners.harness import ServeClient

REPO = Path(__file__).resolve().parents[2]
RUNNERS = REPO / "runners"
NULL_SERVER = RUNNERS / "runtime" / "null_server.py"
SERVE_TORCHSCRIPT = RUNNERS / "runtime" / "serve_torchscript.py"


@dataclass
class Server:
    proc: subprocess.Popen
    socket_path: str
    folder: Path

    def is_alive(self) -> bool:
        return self.proc.poll() is None

    def connect(self, *, ready_timeout_s: float = 30.0, **kwargs) -> ServeClient:
        return ServeClient.connect(self.socket_path, ready_timeout_s=ready_timeout_s, is_alive=self.is_alive, **kwargs)

    def wait(self, timeout_s: float = 30.0) -> int:
        return self.proc.wait(timeout=timeout_s)

    def stderr(self) -> str:
        self.wait()
        return self.proc.stderr.read().decode()


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # AF_UNIX paths must stay under 108 bytes; pytest's tmp_path can be longer.
    folder = Path(tempfile.mkdtemp(prefix="fp-proto-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def start_server(short_dir: Path) -> Iterator:
    """start_server(script=... | argv=[...], env={...}) -> Server, killed at teardown."""
    started: list[Server] = []

    def start(*, script: str | None = None, argv: list[str] | None = None, env: dict | None = None) -> Server:
        socket_path = str(short_dir / f"serve{len(started)}.sock")
        if script is not None:
            path = short_dir / f"server{len(started)}.py"
            path.write_text(textwrap.dedent(script))
            argv = [str(path)]
        full_env = {
            **os.environ,
            "PYTHONPATH": str(RUNNERS),
            "FOOTPRINT_SOCKET": socket_path,
            "FOOTPRINT_THREADS": "1",
            **(env or {}),
        }
        proc = subprocess.Popen(
            [sys.executable, *argv], env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        server = Server(proc=proc, socket_path=socket_path, folder=short_dir)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
        server.proc.wait()
        server.proc.stderr.close()
