"""What a runner cleans up between jobs: submission images it no longer needs, and work
folders a killed job left. Bounded disk without losing what is still in use."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from runners import files
from runners.sandbox.docker import DockerSandbox, SandboxError

log = logging.getLogger(__name__)

# Submission images kept for a job delivered again (or a re-run) before the least recently
# used ones go; and free space under the engine's data root below which they go anyway.
DEFAULT_CACHED_IMAGES = 4
DEFAULT_MIN_FREE_BYTES = 10 * 2**30


class ImageCache:
    """The submission images this runner loaded, with when each was last used (a JSON file)."""

    def __init__(
        self, state_file: Path, *, max_images: int = DEFAULT_CACHED_IMAGES, min_free_bytes: int = DEFAULT_MIN_FREE_BYTES
    ) -> None:
        self.state_file, self.max_images, self.min_free_bytes = state_file, max_images, min_free_bytes

    def _read(self) -> dict[str, float]:
        try:
            state = json.loads(self.state_file.read_text())
            return {str(k): float(v) for k, v in state.items()} if isinstance(state, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write(self, state: dict[str, float]) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.state_file.with_suffix(".partial")
        partial.write_text(json.dumps(state))
        os.replace(partial, self.state_file)

    def used(self, image_id: str) -> None:
        state = self._read()
        state[image_id] = time.time()
        self._write(state)

    def evict(self, sandbox: DockerSandbox, *, keep: set[str]) -> list[str]:
        """Remove least recently used images past the count, or while free space is short."""
        state = self._read()
        order = sorted((t, i) for i, t in state.items() if i not in keep)
        removed = []
        while order and (len(order) > self.max_images or self._short_of_space(sandbox)):
            _, image_id = order.pop(0)
            try:
                sandbox.client.images.remove(image_id, force=True)
            except Exception as exc:  # noqa: BLE001 - gone already, or in use: forget it either way
                log.info("image %s not removed: %s", image_id, exc)
            removed.append(image_id)
            state.pop(image_id, None)
        if removed:
            self._write(state)
        return removed

    def _short_of_space(self, sandbox: DockerSandbox) -> bool:
        try:
            root = sandbox.client.info().get("DockerRootDir")
            stats = os.statvfs(root) if root else None
        except (OSError, SandboxError, Exception):  # noqa: BLE001 - unknown: do not evict for it
            return False
        return stats is not None and stats.f_bavail * stats.f_frsize < self.min_free_bytes


def remove_stale_work(work_root: Path) -> int:
    """Remove the `run-*` folders under `work_root` (a runner runs one job at a time: any that
    exists when a job starts was left by a killed one); returns how many."""
    count = 0
    try:
        entries = [p for p in work_root.iterdir() if p.name.startswith("run-") and not p.is_symlink()]
    except FileNotFoundError:
        return 0
    for path in entries:
        files.unmount_below(path)
        files.remove_tree(path)
        count += 1
    return count
