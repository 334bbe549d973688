#!/usr/bin/env bash
# Back up a deployment: the database (pg_dump, custom format) and the files volume (benchmark
# files, submission tarballs) into DIR. The site may keep running; a run that finishes
# meanwhile is in the dump or not, as a whole.
#
#   docker/backup.sh DIR            (COMPOSE_PROJECT_NAME / FOOTPRINT_ENV_FILE as for compose)
#
# Restore with docker/restore.sh DIR. docs/operator.md, "Backup and restore".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out=${1:?usage: $0 DIR}
mkdir -p "$out"
# shellcheck source=docker/compose.sh
. "$here/compose.sh"
compose exec -T postgres sh -c 'pg_dump -U "${POSTGRES_USER:-footprint}" -Fc "${POSTGRES_DB:-footprint}"' \
  >"$out/database.dump.partial"
compose run --rm --no-deps -T --entrypoint tar web -C /var/lib/footprint/storage -cf - . >"$out/storage.tar.partial"
mv "$out/database.dump.partial" "$out/database.dump"
mv "$out/storage.tar.partial" "$out/storage.tar"
echo "backed up to $out: $(du -sh "$out/database.dump" | cut -f1) database, $(du -sh "$out/storage.tar" | cut -f1) files"
