"""Peak memory, CPU time and process-limit events from cgroup files (v1 and v2).

Every function takes a cgroup path relative to the hierarchy's root, such as
"footprint/c-1a2b3c" or "docker/<container id>", and finds the file in the right place:
cgroup v1 keeps one hierarchy per controller (`/sys/fs/cgroup/memory/<path>/...`),
cgroup v2 one unified tree (`/sys/fs/cgroup/<path>/...`). A host is v2 when
`/sys/fs/cgroup/cgroup.controllers` exists; a "hybrid" host (v1 controllers plus an
empty `/sys/fs/cgroup/unified`) is v1, and Docker uses its v1 controllers.

A meter never raises: a figure that cannot be read is None, and the caller reports it
as missing rather than as zero.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

CGROUP_MOUNT = Path("/sys/fs/cgroup")


def cgroup_version(mount: Path = CGROUP_MOUNT) -> int:
    return 2 if (mount / "cgroup.controllers").exists() else 1


def _relative(path: str) -> str:
    return path.strip("/")


def _file(path: str, *, v1_controller: str, v1_name: str, v2_name: str, mount: Path) -> Path:
    if cgroup_version(mount) == 2:
        return mount / _relative(path) / v2_name
    return mount / v1_controller / _relative(path) / v1_name


def _read_text(file: Path) -> str | None:
    try:
        return file.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _read_int(file: Path) -> int | None:
    text = _read_text(file)
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _read_keyed(file: Path, key: str) -> int | None:
    """A value from a "key value" per line file (cpu.stat, pids.events, memory.events)."""
    text = _read_text(file)
    if text is None:
        return None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            try:
                return int(parts[1])
            except ValueError:
                return None
    return None


def memory_peak_bytes(path: str, *, mount: Path = CGROUP_MOUNT) -> int | None:
    """High-water mark of the cgroup's memory charge (anonymous memory and page cache).

    v1 `memory.max_usage_in_bytes`; v2 `memory.peak` (Linux >= 5.19). Both include the
    page cache the cgroup's processes brought in, e.g. a model file they read.
    """
    return _read_int(
        _file(path, v1_controller="memory", v1_name="memory.max_usage_in_bytes", v2_name="memory.peak", mount=mount)
    )


def memory_usage_bytes(path: str, *, mount: Path = CGROUP_MOUNT) -> int | None:
    """The cgroup's memory charge now (v1 `memory.usage_in_bytes`, v2 `memory.current`)."""
    return _read_int(
        _file(path, v1_controller="memory", v1_name="memory.usage_in_bytes", v2_name="memory.current", mount=mount)
    )


def cpu_time_s(path: str, *, mount: Path = CGROUP_MOUNT) -> float | None:
    """CPU time (user + system) of every process that ran in the cgroup or below it."""
    if cgroup_version(mount) == 2:
        usage_us = _read_keyed(mount / _relative(path) / "cpu.stat", "usage_usec")
        return None if usage_us is None else usage_us / 1e6
    usage_ns = _read_int(mount / "cpuacct" / _relative(path) / "cpuacct.usage")
    return None if usage_ns is None else usage_ns / 1e9


def pids_max_events(path: str, *, mount: Path = CGROUP_MOUNT) -> int | None:
    """How many forks the cgroup's own `pids.max` refused (`pids.events`: "max N").

    On v1 the count stays in the cgroup whose limit was hit: Docker's pids limit sits on
    the container's own cgroup, which vanishes at exit, so read it while it runs.
    """
    return _read_keyed(
        _file(path, v1_controller="pids", v1_name="pids.events", v2_name="pids.events", mount=mount), "max"
    )


def pids_peak(path: str, *, mount: Path = CGROUP_MOUNT) -> int | None:
    """Most processes and threads alive at once in the cgroup (`pids.peak`, Linux >= 6.1 on v1)."""
    return _read_int(_file(path, v1_controller="pids", v1_name="pids.peak", v2_name="pids.peak", mount=mount))


def cgroup_dirs(path: str, *, mount: Path = CGROUP_MOUNT) -> list[Path]:
    """Every directory of this cgroup that exists now, one per v1 hierarchy (or the v2 one)."""
    relative = _relative(path)
    if not relative:
        return []
    if cgroup_version(mount) == 2:
        candidates = [mount / relative]
    else:
        candidates = []
        seen: set[str] = set()
        try:
            entries = sorted(mount.iterdir())
        except OSError:
            return []
        for hierarchy in entries:
            # "cpu" and "cpuacct" are often links to one "cpu,cpuacct" hierarchy.
            try:
                real = os.path.realpath(hierarchy)
            except OSError:
                continue
            if real in seen:
                continue
            seen.add(real)
            candidates.append(Path(real) / relative)
    return [candidate for candidate in candidates if candidate.is_dir()]


def remove_cgroup(path: str, *, mount: Path = CGROUP_MOUNT) -> bool:
    """rmdir the cgroup, and any empty cgroups left below it, in every hierarchy.

    Returns True when nothing of it is left. A cgroup that still holds a process (or a
    child that does) stays: rmdir refuses with EBUSY, which is the right answer while a
    container is alive. Never raises.
    """
    left = False
    for directory in cgroup_dirs(path, mount=mount):
        # Bottom-up: a cgroup directory can only be removed once its children are gone.
        # Its files are kernel interfaces that rmdir takes away with it.
        for root, _dirs, _files in os.walk(directory, topdown=False):
            try:
                os.rmdir(root)
            except FileNotFoundError:
                pass
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    left = True
    return not left


FREEZE_TIMEOUT_S = 5.0


def set_frozen(path: str, frozen: bool, *, mount: Path = CGROUP_MOUNT, timeout_s: float = FREEZE_TIMEOUT_S) -> bool:
    """Freeze (or thaw) every process of the cgroup and below; True once the kernel says so.

    A frozen process runs no instruction until thawed: the way to keep a server that is not
    being timed off the CPU it shares with the one that is, whatever it would like to do.
    v1 `freezer.state` (FROZEN / THAWED, FREEZING meanwhile), v2 `cgroup.freeze` with
    `cgroup.events` saying `frozen 1`. False when the files are not there or it does not
    settle within `timeout_s` (the caller then falls back on the engine's pause). Never raises.
    """
    relative = _relative(path)
    if cgroup_version(mount) == 2:
        control, value = mount / relative / "cgroup.freeze", "1" if frozen else "0"

        def settled() -> bool:
            state = _read_keyed(mount / relative / "cgroup.events", "frozen")
            return state == (1 if frozen else 0)
    else:
        control, value = mount / "freezer" / relative / "freezer.state", "FROZEN" if frozen else "THAWED"

        def settled() -> bool:
            return (_read_text(control) or "").strip() == value

    try:
        control.write_text(value)
    except OSError:
        return False
    deadline = time.monotonic() + timeout_s
    while True:
        if settled():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.0002)


def thaw_below(path: str, *, mount: Path = CGROUP_MOUNT) -> None:
    """Thaw every cgroup at or below `path` (on v1 a frozen process does not even die of
    SIGKILL until thawed: a runner thaws what a dead predecessor froze before removing it)."""
    hierarchy = mount if cgroup_version(mount) == 2 else mount / "freezer"
    top = hierarchy / _relative(path)
    if not _relative(path) or not top.is_dir():
        return
    for root, _dirs, _files in os.walk(top):
        set_frozen(str(Path(root).relative_to(hierarchy)), False, mount=mount, timeout_s=0.5)
