"""`python -m runners --hardware-class cpu-local`: start a runner for one hardware class.

Without a Docker engine the runner does not take jobs (they stay queued); it tells the
platform why, every HEARTBEAT_INTERVAL_S, until the engine answers.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runners", description=__doc__)
    parser.add_argument("--hardware-class", default=os.environ.get("FOOTPRINT_HARDWARE_CLASS", "cpu-local"))
    args, extra = parser.parse_known_args(argv)
    os.environ["FOOTPRINT_HARDWARE_CLASS"] = args.hardware_class
    logging.basicConfig(level=logging.INFO, format="%(asctime)s runner %(levelname)s %(message)s")

    from runners.worker import HEARTBEAT_INTERVAL_S, docker_status, send_status, start_worker

    while True:
        ok, detail = docker_status()
        if ok:
            break
        reason = f"no Docker engine answers, so this runner cannot start containers: {detail}"
        logging.warning("%s; jobs stay queued; retrying in %.0f s", reason, HEARTBEAT_INTERVAL_S)
        send_status("unavailable", docker_ok=False, detail=reason)
        time.sleep(HEARTBEAT_INTERVAL_S)
    start_worker(extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
