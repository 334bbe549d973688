"""Result documents kept on the runner's disk until the broker has them.

A job can take hours; its result must survive a broker that is down when it ends, or a
runner restarted before it could send. The document is written here first (atomically),
sent, and removed only once the send succeeded; whatever is left is sent again by the
heartbeat loop and at start-up. The platform ignores a result it already has.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, document: dict) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"run-{document.get('run_id')}-a{document.get('attempt')}.json"
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(document))
        os.replace(partial, path)
        return path

    def pending(self) -> list[Path]:
        try:
            return sorted(self.folder.glob("run-*.json"))
        except OSError:
            return []

    def send(self, path: Path, publish: Callable[[dict], None]) -> bool:
        """Publish one kept document; remove it when the publish succeeded."""
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            log.error("kept result %s is unreadable (%s); moving it aside", path, exc)
            path.rename(path.with_suffix(".unreadable"))
            return False
        try:
            publish(document)
        except Exception:  # noqa: BLE001 - the broker is down: keep it for the next try
            log.exception("could not send the result of %s; it stays in %s", path.stem, self.folder)
            return False
        path.unlink(missing_ok=True)
        return True

    def flush(self, publish: Callable[[dict], None]) -> int:
        return sum(1 for path in self.pending() if self.send(path, publish))
