"""The runtime's statistics file (FOOTPRINT_STATS_FILE), read as hostile input.

`footprint-serve` writes a small JSON object after its shutdown (the device it ran on and,
on CUDA, the torch allocator's peaks). The file lies in a folder the container could
write, so whoever ran in it may have put anything there instead: a symbolic link to a
host file, a FIFO that would block the runner forever, gigabytes, deeply nested JSON.
The reader opens it without following a link and without blocking, refuses anything but
a regular file, reads at most MAX_BYTES, and accepts only a flat object of short keys
and scalar values. A refusal is an answer with a reason, never an exception.

The folder itself must be one the runner created (a bind mount of a fresh directory) and
the path a file directly inside it: O_NOFOLLOW guards the last component only.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

MAX_BYTES = 64 * 1024
MAX_KEYS = 64
MAX_STRING_CHARS = 200
# A value the allocator could report (bytes of memory) fits easily; beyond this it is noise.
MAX_ABS_INT = 2**63
KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")


def read_runtime_stats(path: Path) -> tuple[dict[str, str | int | float | bool] | None, str]:
    """(the statistics, "") or (None, why they were refused). Never raises."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, "the runtime wrote no statistics file"
    except OSError as exc:
        # ELOOP: the last component is a symbolic link.
        if os.path.islink(path):
            return None, "the statistics file is a symbolic link; not followed"
        return None, f"the statistics file cannot be opened: {exc.strerror or exc}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, f"the statistics file is not a regular file ({_kind(info.st_mode)})"
        if info.st_size > MAX_BYTES:
            return None, f"the statistics file holds {info.st_size} bytes; at most {MAX_BYTES} are read"
        data = bytearray()
        while len(data) <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        return None, f"the statistics file cannot be read: {exc.strerror or exc}"
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:  # it grew after the fstat
        return None, f"the statistics file holds more than {MAX_BYTES} bytes"
    return parse_runtime_stats(bytes(data))


def parse_runtime_stats(data: bytes) -> tuple[dict[str, str | int | float | bool] | None, str]:
    """The checks of read_runtime_stats on bytes already read."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "the statistics file is not UTF-8 text"
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError, duplicate keys, NaN/Infinity and
        # integers of more digits than Python converts.
        return None, f"the statistics file is not valid JSON: {str(exc)[:200]}"
    if not isinstance(document, dict):
        return None, f"the statistics file holds a JSON {type(document).__name__}, not an object"
    if len(document) > MAX_KEYS:
        return None, f"the statistics file has {len(document)} keys; at most {MAX_KEYS} are accepted"
    for key, value in document.items():
        if not KEY.fullmatch(key):
            return None, f"the statistics file has a key that is not a short lower-case name: {key[:80]!r}"
        problem = _value_problem(value)
        if problem:
            return None, f"the statistics file's {key} {problem}"
    return document, ""


def _value_problem(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return "" if abs(value) < MAX_ABS_INT else "is an integer out of range"
    if isinstance(value, float):
        return "" if math.isfinite(value) else "is not a finite number"
    if isinstance(value, str):
        return "" if len(value) <= MAX_STRING_CHARS else f"is a string over {MAX_STRING_CHARS} characters"
    kind = "null" if value is None else type(value).__name__
    return f"is a {kind}; only strings, numbers and booleans are accepted"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"the key {key[:80]!r} appears twice")
        document[key] = value
    return document


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a plain file"
