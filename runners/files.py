"""The runner's own folders: /footprint/out as a capped file system, and removal at any depth.

`/footprint/out` is where `compress` writes, so it is where a submission can fill the
runner's disk or its inode table, or build a folder chain deep enough to break a recursive
walk. As root (a runner host) the runner mounts a tmpfs of its own there, whose size and
file count the kernel caps while compress writes (`size=`, `nr_inodes=`); a write past them
fails with ENOSPC inside the container. Without root (a developer running the suite as
themselves) the caps are checked after compress exits, and RLIMIT_FSIZE still bounds each
file. `remove_tree` removes any tree without recursion and without long paths.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import subprocess
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

# Files and folders /footprint/out may hold: a model and its metadata need a handful.
OUTPUT_MAX_ENTRIES = 10_000
CAP_TMPFS = "tmpfs: size and file count capped by the kernel while compress writes"
CAP_AFTER = "checked after compress exits (the runner is not root: no file system of its own)"


class OutputVolume:
    """A tmpfs mounted at `path` (owned by `uid`:`gid`) when the runner may mount one."""

    def __init__(self, path: Path, *, max_bytes: int, max_entries: int, uid: int, gid: int) -> None:
        self.path, self.max_bytes, self.max_entries, self.uid, self.gid = path, max_bytes, max_entries, uid, gid
        self.mounted = False

    @property
    def cap(self) -> str:
        return CAP_TMPFS if self.mounted else CAP_AFTER

    def mount(self) -> OutputVolume:
        self.path.mkdir(parents=True, exist_ok=True)
        # A runner in a container (docker/runner) mounts in its own namespace, which the host's
        # engine does not see: FOOTPRINT_RUNNER_OUTPUT_TMPFS=0 checks the caps after exit.
        if os.geteuid() != 0 or os.environ.get("FOOTPRINT_RUNNER_OUTPUT_TMPFS", "1") == "0":
            return self
        # nr_inodes counts the root folder too; size is rounded up to pages by the kernel.
        options = (
            f"size={self.max_bytes},nr_inodes={self.max_entries + 1},mode=0755,"
            f"uid={self.uid},gid={self.gid},nosuid,nodev"
        )
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "footprint-out", str(self.path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            self.mounted = True
        else:
            log.warning("could not mount a tmpfs at %s (%s); outputs are checked after exit", self.path, result.stderr)
        return self

    def unmount(self) -> None:
        if not self.mounted:
            return
        result = subprocess.run(["umount", "-l", str(self.path)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log.error("could not unmount %s: %s", self.path, result.stderr.strip())
        else:
            self.mounted = False


def unmount_below(path: Path) -> None:
    """Lazily unmount every file system mounted at or below `path` (deepest first)."""
    prefix = os.path.realpath(path)
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    points = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 2:
            point = fields[1].encode().decode("unicode_escape")  # "\040" for a space
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    for point in sorted(points, key=len, reverse=True):
        result = subprocess.run(["umount", "-l", point], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log.error("could not unmount %s: %s", point, result.stderr.strip())


def remove_tree(path: Path) -> None:
    """Remove `path` and everything below it, whatever its depth; never follows links.

    Every folder found is first moved up to be a child of `path` itself, so that no walk
    goes deeper than one level and no path grows long (a chain thousands of folders deep
    cannot exhaust the stack or PATH_MAX). Errors are logged, not raised.
    """
    try:
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return
    except OSError as exc:
        if exc.errno == 20 or os.path.islink(path):  # not a folder: a file or a link
            with contextlib.suppress(OSError):
                os.unlink(path)
            return
        log.error("cannot open %s to remove it: %s", path, exc)
        return
    try:
        while True:
            with os.scandir(top) as entries:
                names = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
            if not names:
                break
            for name, is_dir in names:
                if not is_dir:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(name, dir_fd=top)
                    continue
                _empty_one_level(top, name)
    except OSError as exc:
        log.error("could not remove everything below %s: %s", path, exc)
    finally:
        os.close(top)
    with contextlib.suppress(OSError):
        os.rmdir(path)


def _empty_one_level(top: int, name: str) -> None:
    """Unlink the files of top/name, move its folders up into top, remove it."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
    except FileNotFoundError:
        return
    try:
        os.fchmod(fd, stat.S_IRWXU)  # a folder the container made read-only for itself
    except OSError:
        pass
    try:
        with os.scandir(fd) as entries:
            children = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
        for child, is_dir in children:
            if is_dir:
                os.rename(child, f".rm-{uuid.uuid4().hex}", src_dir_fd=fd, dst_dir_fd=top)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(child, dir_fd=fd)
    finally:
        os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        os.rmdir(name, dir_fd=top)
