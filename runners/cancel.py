"""Cancelling a job a runner has taken: the platform asks, the runner checks, kills, reports.

The platform broadcasts the remote-control command `footprint_cancel` (run id); the
runner's worker process receives it and leaves a flag file in its work root. The job (in
the worker's pool process) looks for the flag between phases and blocks, and each of its
containers' monitors every quarter second: a flagged job's container is killed, and the
job ends with the failure code `cancelled`, which the platform records as a cancellation.
"""

from __future__ import annotations

from pathlib import Path

CANCEL_COMMAND = "footprint_cancel"


class CancelFlags:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _flag(self, run_id: int) -> Path:
        return self.folder / f"cancel-{int(run_id)}"

    def request(self, run_id: int, reason: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._flag(run_id).write_text(reason[:500])

    def reason(self, run_id: int) -> str | None:
        try:
            return self._flag(run_id).read_text() or "the run was cancelled"
        except OSError:
            return None

    def clear(self, run_id: int) -> None:
        self._flag(run_id).unlink(missing_ok=True)

    def watcher(self, run_id: int):
        """A callable for the job: the cancel reason once requested, else None."""
        return lambda: self.reason(run_id)
