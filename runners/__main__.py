"""`python -m runners --hardware-class cpu-local`: start a runner for one hardware class.

Before it takes a job the runner checks what it needs, and until each answers it takes none
(jobs stay queued) and tells the platform why, every HEARTBEAT_INTERVAL_S: a Docker engine,
a runner credential the platform accepts for this hardware class, and the runtime image the
platform pins.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time


def readiness() -> tuple[bool, bool, str]:
    """(docker answers, ready to take jobs, what is missing in words)."""
    from runners.platform_client import PlatformError
    from runners.worker import docker_status, hardware_class, platform_client, sandbox

    ok, detail = docker_status()
    if not ok:
        return False, False, f"no Docker engine answers, so this runner cannot start containers: {detail}"
    try:
        identity = platform_client().whoami()
    except PlatformError as exc:
        return True, False, f"the platform does not take this runner's jobs: {exc.reason}"
    if identity.hardware_class != hardware_class():
        return (
            True,
            False,
            (
                f"this runner's credential ({identity.runner_id}) is for the hardware class {identity.hardware_class}, "
                f"but it was started for {hardware_class()}"
            ),
        )
    if identity.runtime_image:
        found = sandbox().image_id(identity.runtime_image)
        pinned = identity.runtime_image.startswith("sha256:")
        if found is None or (pinned and found != identity.runtime_image):
            return (
                True,
                False,
                (
                    f"the platform's jobs run the standard runtime image {identity.runtime_image}, which is not on "
                    "this host: load it here (docs/operator.md, 'The runtime image on every runner host')"
                ),
            )
    return True, True, detail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runners", description=__doc__)
    parser.add_argument("--hardware-class", default=os.environ.get("FOOTPRINT_HARDWARE_CLASS", "cpu-local"))
    args, extra = parser.parse_known_args(argv)
    os.environ["FOOTPRINT_HARDWARE_CLASS"] = args.hardware_class
    logging.basicConfig(level=logging.INFO, format="%(asctime)s runner %(levelname)s %(message)s")

    from runners.worker import HEARTBEAT_INTERVAL_S, send_status, start_worker

    while True:
        docker_ok, ready, reason = readiness()
        if ready:
            break
        logging.warning("%s; jobs stay queued; retrying in %.0f s", reason, HEARTBEAT_INTERVAL_S)
        send_status("unavailable", docker_ok=docker_ok, detail=reason)
        time.sleep(HEARTBEAT_INTERVAL_S)
    start_worker(extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
