#!/bin/sh
# The runner image: `python -m runners` for FOOTPRINT_HARDWARE_CLASS, on the broker of
# CELERY_BROKER_URL, taking jobs from FOOTPRINT_PLATFORM_URL with its runner credential.
set -eu
# The job folders are bind-mounted into the sandbox's containers by the host's engine, so
# they must lie at the same path here and on the host (the compose file mounts it so).
mkdir -p "$FOOTPRINT_RUNNER_WORK_DIR"
if [ "$#" -gt 0 ]; then exec "$@"; fi
exec python3 -m runners --hardware-class "${FOOTPRINT_HARDWARE_CLASS:?set FOOTPRINT_HARDWARE_CLASS}"
