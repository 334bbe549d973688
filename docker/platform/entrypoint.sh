#!/bin/sh
# The platform image's commands:
#   web      migrate, static files, the first admin and this host's runner credential, then gunicorn
#   worker   the platform's Celery worker (queue `platform`)
#   beat     the periodic sweep
#   anything else runs as given (e.g. `manage.py createadmin`)
# DATABASE_URL and CELERY_BROKER_URL come from the compose file (built from the env file).
set -eu
# Uploads are spooled next to the files they become (one file system: moved, not copied).
mkdir -p "${FOOTPRINT_UPLOAD_TEMP_DIR:-/var/lib/footprint/storage/.uploads}"

wait_for_database() {
  for _ in $(seq 60); do
    python3 -c 'import django; django.setup(); from django.db import connection; connection.ensure_connection()' \
      2>/dev/null && return 0
    sleep 2
  done
  echo "the database at $(echo "${DATABASE_URL:-}" | sed 's#://[^@]*@#://***@#') does not answer" >&2
  exit 1
}

case "${1:-web}" in
  web)
    wait_for_database
    python3 manage.py migrate --noinput
    # Harmless when no database cache is configured; needed once one is.
    python3 manage.py createcachetable
    python3 manage.py collectstatic --noinput -v 0
    python3 manage.py createadmin
    python3 manage.py deploy_local_runner
    exec gunicorn --chdir platform footprint.wsgi \
      --bind 0.0.0.0:8000 --workers "${FOOTPRINT_WEB_WORKERS:-3}" --timeout "${FOOTPRINT_WEB_TIMEOUT_S:-600}" \
      --access-logfile - --forwarded-allow-ips "${FOOTPRINT_FORWARDED_ALLOW_IPS:-127.0.0.1}"
    ;;
  worker)
    wait_for_database
    exec celery -A footprint worker -Q platform --concurrency "${FOOTPRINT_WORKER_CONCURRENCY:-2}" \
      -n "platform@%h" --loglevel INFO --without-gossip --without-mingle
    ;;
  beat)
    exec celery -A footprint beat --loglevel INFO --schedule "${FOOTPRINT_BEAT_SCHEDULE:-/tmp/celerybeat-schedule}"
    ;;
  *)
    exec "$@"
    ;;
esac
