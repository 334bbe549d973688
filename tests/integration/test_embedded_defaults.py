"""`make run`'s configuration end to end: SQLite, the filesystem broker, run_local's processes.

The other integration tests use the deployment's services; this one checks that the
embedded defaults a newcomer starts with measure a submission too, and that Ctrl-C
(SIGINT to run_local) stops every process it started.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
IDENTITY = """#!/usr/bin/env python3
import shutil, footprint_sdk
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("identity")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    found = [int(p) for p in out]
    for child in list(found):
        found += descendants(child)
    return found


def test_make_runs_embedded_stack_measures_a_submission_and_stops_on_ctrl_c(
    tmp_path, build_test_image, docker_client, runtime_image
):
    tag = build_test_image("COPY compress /usr/local/bin/compress\n", {"compress": IDENTITY})
    examples = tmp_path / "examples"
    examples.mkdir()
    with open(examples / "identity.tar", "wb") as f:
        for chunk in docker_client.images.get(tag).save(named=True):
            f.write(chunk)
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "CELERY_", "DJANGO_SECRET"))
    }
    env.update(
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'footprint.sqlite3'}",
        FOOTPRINT_BROKER_DIR=str(tmp_path / "broker"),
        FOOTPRINT_BEAT_SCHEDULE=str(tmp_path / "celerybeat-schedule"),
        FOOTPRINT_STORAGE_ROOT=str(tmp_path / "storage"),
        FOOTPRINT_RUNTIME_IMAGE=runtime_image,
        FOOTPRINT_RUNNER_WORK_DIR=str(tmp_path / "runner-work"),
        PYTHONUNBUFFERED="1",
    )
    manage = [sys.executable, str(REPO / "manage.py")]
    for command in (["migrate", "--noinput"], ["seed_demo", "--examples", str(examples)]):
        subprocess.run(manage + command, env=env, cwd=REPO, check=True, capture_output=True, timeout=300)

    port = free_port()
    log = open(tmp_path / "run_local.log", "wb")
    main = subprocess.Popen(
        manage + ["run_local", "--port", str(port)], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        board = f"http://127.0.0.1:{port}/benchmarks/digits/cpu-local/"
        deadline = time.monotonic() + 300
        page = ""
        while time.monotonic() < deadline and main.poll() is None:
            try:
                page = urllib.request.urlopen(board, timeout=5).read().decode()
                if re.search(r'class="method">', page):
                    break
            except OSError:
                pass
            time.sleep(2)
        assert re.search(r'class="method">', page), (tmp_path / "run_local.log").read_text()[-4000:]
        assert "running at" in (tmp_path / "run_local.log").read_text()
        children = descendants(main.pid)
        assert len(children) >= 3  # web, platform worker, runner (and their pools)
    finally:
        main.send_signal(signal.SIGINT)
        main.wait(timeout=60)
    time.sleep(1)
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists()]
    assert alive == [], f"run_local left processes behind: {alive}"
    label = "org.footprint.hardware-class=cpu-local"
    assert docker_client.containers.list(all=True, filters={"label": label}) == []
