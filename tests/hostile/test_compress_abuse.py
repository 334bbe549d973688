"""A compress that attacks the runner's resources: each ends contained, with its reason."""

from __future__ import annotations

import shutil

import pytest

from runners.files import OUTPUT_MAX_ENTRIES

pytestmark = [pytest.mark.docker, pytest.mark.hostile]

FORK_BOMB = """#!/usr/bin/env python3
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""

MEMORY_HOG = """#!/usr/bin/env python3
hog = []
while True:
    hog.append(bytearray(64 * 1024 * 1024))
"""

SPIN = """#!/usr/bin/env python3
while True:
    pass
"""

SLEEP = """#!/usr/bin/env python3
import time
time.sleep(3600)
"""

# Hundreds of MB to stdout and stderr as fast as it can, then a normal end. The logs are
# non-blocking: past their 4 MiB buffer lines are dropped rather than the container stalled,
# so the last line comes after a pause, once the buffer drained (docs/security.md).
LOUD = """#!/usr/bin/env python3
import os, shutil, sys, time, footprint_sdk
line = b"x" * 1023 + b"\\n"
for _ in range(150_000):
    os.write(1, line)
    os.write(2, line)
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("loud")
time.sleep(2)
print("LOUD DONE", flush=True)
"""

# Writes until the file system says no, then reports how far it got and exits 0.
FILL_FOLDER = """#!/usr/bin/env python3
import os, sys
where, written = sys.argv[1] if len(sys.argv) > 1 else "%s", 0
block = os.urandom(1 << 20)
try:
    with open(os.path.join(where, "fill"), "wb") as f:
        while True:
            f.write(block)
            f.flush()
            written += len(block)
except OSError as exc:
    print(f"FILLED {written} {exc.errno}", flush=True)
"""

MANY_FILES = """#!/usr/bin/env python3
import os
made = 0
try:
    while True:
        open(f"/footprint/out/f{made}", "w").close()
        made += 1
except OSError as exc:
    print(f"MADE {made} {exc.errno}", flush=True)
"""

DEEP_CHAIN = """#!/usr/bin/env python3
import os, shutil, footprint_sdk
os.chdir("/footprint/out")
for _ in range(1200):
    os.mkdir("d")
    os.chdir("d")
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("deep")
"""


def failure(document: dict) -> dict:
    assert document["status"] == "failed", document
    return document["failure"]


def test_a_fork_bomb_hits_the_process_limit(hostile, run):
    found = failure(run(hostile(compress=FORK_BOMB, limits={"compress_wall_s": 20}))[0])
    assert found["code"] in ("compress_pids_limit", "compress_timeout")
    assert found["phase"] == "compress"


def test_a_memory_hog_is_killed_as_out_of_memory(hostile, run):
    found = failure(run(hostile(compress=MEMORY_HOG, limits={"memory_bytes": 256 << 20}))[0])
    assert found["code"] == "compress_out_of_memory"
    assert "256 MiB" in found["reason"]


@pytest.mark.parametrize("script", [SPIN, SLEEP], ids=["spin", "sleep"])
def test_a_compress_past_its_wall_clock_is_killed(hostile, run, script):
    document, _ = run(hostile(compress=script, limits={"compress_wall_s": 3}))
    found = failure(document)
    assert found["code"] == "compress_timeout"
    assert document["phases"]["compress"]["wall_s"] < 15


def test_gigabytes_on_stdout_and_stderr_leave_a_bounded_tail(hostile, run):
    document, _ = run(hostile(compress=LOUD, limits={"compress_wall_s": 120}))
    assert document["status"] == "succeeded", document["failure"]
    tail = document["phases"]["compress"]["log_tail"]
    assert len(tail.encode()) <= 4096
    assert "LOUD DONE" in tail


def test_filling_tmp_stops_at_its_cap(hostile, run):
    document, _ = run(hostile(compress=FILL_FOLDER % "/tmp", limits={"tmpfs_bytes": 16 << 20}))
    tail = document["phases"]["compress"]["log_tail"]
    written = int(tail.split("FILLED ")[1].split()[0])
    assert written <= 16 << 20


@pytest.mark.skipif(shutil.which("mount") is None, reason="needs mount(8)")
def test_filling_the_output_folder_stops_at_its_cap_while_it_writes(hostile, run):
    import os

    if os.geteuid() != 0:
        pytest.skip("the capped output file system needs a runner running as root")
    document, _ = run(hostile(compress=FILL_FOLDER % "/footprint/out", limits={"output_max_bytes": 32 << 20}))
    tail = document["phases"]["compress"]["log_tail"]
    written = int(tail.split("FILLED ")[1].split()[0])
    assert written <= 32 << 20  # the kernel refused the rest: ENOSPC (28) or EFBIG (27)
    assert tail.split("FILLED ")[1].split()[1] in ("27", "28")
    assert failure(document)["code"] == "method_json_missing"


def test_millions_of_empty_files_stop_at_the_file_count_cap(hostile, run):
    import os

    document, _ = run(hostile(compress=MANY_FILES, limits={"compress_wall_s": 120}))
    found = failure(document)
    if os.geteuid() == 0:
        made = int(document["phases"]["compress"]["log_tail"].split("MADE ")[1].split()[0])
        assert made <= OUTPUT_MAX_ENTRIES
    assert found["code"] in ("output_too_many_files", "method_json_missing")


def test_a_folder_chain_deeper_than_any_recursion_is_walked_and_removed(hostile, run):
    document, _ = run(hostile(compress=DEEP_CHAIN))
    # The runner's own walk and cleanup take it; run() checks the work folder is gone.
    assert document["status"] == "succeeded", document["failure"]


METHOD_JSON = """#!/usr/bin/env python3
import shutil
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
open("/footprint/out/method.json", "w").write(%r)
"""


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"name": "x", "pad": "' + "y" * (2 << 20) + '"}', "larger than 1 MiB"),
        ("this is not json", "is not valid JSON"),
        ('{"name": "x", "search": {"device_hours": NaN}}', "is not valid JSON"),
        ('{"name": "x", "score": Infinity}', "is not valid JSON"),
        ('{"name": "x", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}", "is not valid JSON"),
        (
            '{"name": "x", "search": {"device_count": -3, "device_type": "gpu", "hours": 1}}',
            "does not follow the contract",
        ),
        ("[1, 2, 3]", "must be an object"),
    ],
    ids=["huge", "not-json", "nan", "infinity", "deep", "out-of-range", "not-an-object"],
)
def test_a_hostile_method_json_fails_compress_saying_what_is_wrong(hostile, run, content, says):
    found = failure(run(hostile(compress=METHOD_JSON % content))[0])
    assert (found["phase"], found["code"]) == ("compress", "method_json_invalid")
    assert says in found["reason"]
