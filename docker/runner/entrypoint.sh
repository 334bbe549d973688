#!/bin/sh
# The runner image: `python -m runners` for FOOTPRINT_HARDWARE_CLASS. CELERY_BROKER_URL
# defaults to the compose file's RabbitMQ, built from RABBITMQ_DEFAULT_PASS (URL-encoded).
set -eu
if [ -z "${CELERY_BROKER_URL:-}" ] && [ -n "${RABBITMQ_DEFAULT_PASS:-}" ]; then
  CELERY_BROKER_URL=$(python3 -c 'import os; from urllib.parse import quote; e = os.environ; print("amqp://%s:%s@%s//" % (quote(e.get("RABBITMQ_DEFAULT_USER", "footprint"), safe=""), quote(e["RABBITMQ_DEFAULT_PASS"], safe=""), e.get("FOOTPRINT_BROKER_HOST", "rabbitmq:5672")))')
  export CELERY_BROKER_URL
fi
# The job folders are bind-mounted into the sandbox's containers by the host's engine, so
# they must lie at the same path here and on the host (the compose file mounts it so).
mkdir -p "$FOOTPRINT_RUNNER_WORK_DIR"
if [ "$#" -gt 0 ]; then exec "$@"; fi
exec python3 -m runners --hardware-class "${FOOTPRINT_HARDWARE_CLASS:?set FOOTPRINT_HARDWARE_CLASS}"
