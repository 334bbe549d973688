#!/bin/sh
# A new data folder is initialised once (user, password, database from the environment);
# then PostgreSQL runs as postgres, listening on the compose network only.
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (docker/footprint.env.sample)}"
user=${POSTGRES_USER:-footprint}
db=${POSTGRES_DB:-footprint}
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
chown postgres:postgres "$PGDATA"
chmod 0700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s' "$POSTGRES_PASSWORD" >"$pwfile"
  chown postgres "$pwfile"
  as_postgres initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  as_postgres createdb -U "$user" "$db" 2>/dev/null || true
  as_postgres pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "initialised the database $db for $user"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c listen_addresses='*'
