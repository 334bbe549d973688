"""The runtime's statistics file is read as hostile input: only a small flat JSON object passes."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from runners.meters.runtime_stats import MAX_BYTES, read_runtime_stats

CUDA_STATS = {
    "device": "cuda:0",
    "torch_cuda_max_allocated_bytes": 52_428_800,
    "torch_cuda_max_reserved_bytes": 62_914_560,
}


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "stats.json"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_it_reads_what_footprint_serve_writes(tmp_path: Path) -> None:
    assert read_runtime_stats(write(tmp_path, json.dumps(CUDA_STATS) + "\n")) == (CUDA_STATS, "")


def test_it_accepts_strings_numbers_and_booleans(tmp_path: Path) -> None:
    document = {"device": "cpu", "torch_num_threads": 2, "ratio": 0.5, "cudnn": False}
    assert read_runtime_stats(write(tmp_path, json.dumps(document))) == (document, "")


def test_a_missing_file_is_no_statistics(tmp_path: Path) -> None:
    assert read_runtime_stats(tmp_path / "stats.json") == (None, "the runtime wrote no statistics file")


def test_it_does_not_follow_a_symbolic_link(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret.json"
    secret.write_text(json.dumps({"device": "leaked"}))
    link = tmp_path / "stats.json"
    link.symlink_to(secret)
    stats, reason = read_runtime_stats(link)
    assert stats is None
    assert reason == "the statistics file is a symbolic link; not followed"


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "stats.json"
    os.mkfifo(fifo)
    answer: list = []
    reader = threading.Thread(target=lambda: answer.append(read_runtime_stats(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():  # unblock the reader before failing, or the session hangs
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert answer == [(None, "the statistics file is not a regular file (a FIFO)")]


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "stats.json").mkdir()
    assert read_runtime_stats(tmp_path / "stats.json") == (
        None,
        "the statistics file is not a regular file (a directory)",
    )


def test_a_huge_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "stats.json"
    with open(path, "wb") as f:
        f.truncate(8 << 30)  # sparse: 8 GiB on paper, nothing on disk
    stats, reason = read_runtime_stats(path)
    assert stats is None
    assert reason == f"the statistics file holds {8 << 30} bytes; at most {MAX_BYTES} are read"


def test_a_file_just_over_the_cap_is_refused(tmp_path: Path) -> None:
    padding = " " * MAX_BYTES
    stats, reason = read_runtime_stats(write(tmp_path, '{"device": "cpu"}' + padding))
    assert stats is None and "at most" in reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "the statistics file is not valid JSON: "),
        ("", "the statistics file is not valid JSON: "),
        (b"\xff\xfe{}", "the statistics file is not UTF-8 text"),
        ("[1, 2]", "the statistics file holds a JSON list, not an object"),
        ('"cuda"', "the statistics file holds a JSON str, not an object"),
        ('{"a": 1, "a": 2}', "the statistics file is not valid JSON: the key 'a' appears twice"),
        ('{"peak": NaN}', "the statistics file is not valid JSON: NaN is not a number JSON allows"),
        ('{"peak": Infinity}', "the statistics file is not valid JSON: Infinity is not a number JSON allows"),
        ("[" * 20000 + "]" * 20000, "the statistics file is not valid JSON: "),
        ('{"peak": ' + "9" * 5000 + "}", "the statistics file is not valid JSON: "),
    ],
    ids=["syntax", "empty", "not-utf8", "list", "string", "duplicate", "nan", "infinity", "deep", "long-int"],
)
def test_bad_json_is_refused(tmp_path: Path, content: str | bytes, reason: str) -> None:
    stats, why = read_runtime_stats(write(tmp_path, content))
    assert stats is None
    assert why.startswith(reason), why


@pytest.mark.parametrize(
    "key",
    ["Device", "1device", "_private", "dev-ice", "dévice", "a" * 65, "", "torch cuda"],
    ids=["upper", "digit-first", "underscore-first", "dash", "non-ascii", "too-long", "empty", "space"],
)
def test_keys_that_are_not_short_lower_case_names_are_refused(tmp_path: Path, key: str) -> None:
    stats, reason = read_runtime_stats(write(tmp_path, json.dumps({"device": "cpu", key: 1})))
    assert stats is None
    assert reason.startswith("the statistics file has a key that is not a short lower-case name: ")


def test_a_key_of_64_characters_passes(tmp_path: Path) -> None:
    key = "a" * 64
    assert read_runtime_stats(write(tmp_path, json.dumps({key: 1}))) == ({key: 1}, "")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "is a null; only strings, numbers and booleans are accepted"),
        ({"nested": 1}, "is a dict; only strings, numbers and booleans are accepted"),
        ([1], "is a list; only strings, numbers and booleans are accepted"),
        ("x" * 201, "is a string over 200 characters"),
        (2**64, "is an integer out of range"),
    ],
    ids=["null", "object", "list", "long-string", "huge-int"],
)
def test_values_that_are_not_short_scalars_are_refused(tmp_path: Path, value: object, reason: str) -> None:
    stats, why = read_runtime_stats(write(tmp_path, json.dumps({"device": "cpu", "peak": value})))
    assert (stats, why) == (None, f"the statistics file's peak {reason}")


def test_too_many_keys_are_refused(tmp_path: Path) -> None:
    stats, reason = read_runtime_stats(write(tmp_path, json.dumps({f"k{i}": i for i in range(65)})))
    assert stats is None and reason == "the statistics file has 65 keys; at most 64 are accepted"
