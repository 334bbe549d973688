#!/usr/bin/env bash
# Restore a deployment from docker/backup.sh's DIR into its volumes (the database's content
# and the files are replaced), then start it. Stop the site first: `compose stop`.
#
#   docker/restore.sh DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
from=${1:?usage: $0 DIR}
[ -f "$from/database.dump" ] && [ -f "$from/storage.tar" ] || { echo "no backup in $from" >&2; exit 1; }
# shellcheck source=docker/compose.sh
. "$here/compose.sh"
compose stop web worker beat runner >/dev/null 2>&1 || true
compose up -d postgres
for _ in $(seq 60); do
  compose exec -T postgres sh -c 'pg_isready -q -h 127.0.0.1 -U "${POSTGRES_USER:-footprint}"' && break
  sleep 2
done
compose exec -T postgres sh -c \
  'pg_restore -U "${POSTGRES_USER:-footprint}" -d "${POSTGRES_DB:-footprint}" --clean --if-exists --no-owner --exit-on-error' \
  <"$from/database.dump"
compose run --rm --no-deps -T --entrypoint sh web -c \
  'find /var/lib/footprint/storage -mindepth 1 -delete && tar -C /var/lib/footprint/storage -xf -' <"$from/storage.tar"
compose up -d
echo "restored from $from"
