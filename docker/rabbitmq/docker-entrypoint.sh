#!/bin/sh
set -eu
: "${RABBITMQ_DEFAULT_PASS:?set RABBITMQ_DEFAULT_PASS (docker/footprint.env.sample)}"
conf=/etc/rabbitmq/rabbitmq.conf
{
  echo "listeners.tcp.default = 5672"
  echo "default_user = ${RABBITMQ_DEFAULT_USER:-footprint}"
  echo "default_pass = ${RABBITMQ_DEFAULT_PASS}"
  echo "loopback_users = none"
  # Above the longest job (runners/broker.py LONGEST_JOB_S = 6 h), in milliseconds.
  echo "consumer_timeout = ${FOOTPRINT_CONSUMER_TIMEOUT_MS:-25200000}"
} >"$conf"
chown rabbitmq:rabbitmq "$conf" /var/lib/rabbitmq
chmod 0600 "$conf"
export RABBITMQ_ENABLED_PLUGINS_FILE=/etc/rabbitmq/enabled_plugins
[ -f "$RABBITMQ_ENABLED_PLUGINS_FILE" ] || { echo "[]." >"$RABBITMQ_ENABLED_PLUGINS_FILE"; chown rabbitmq "$RABBITMQ_ENABLED_PLUGINS_FILE"; }
exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups env HOME=/var/lib/rabbitmq rabbitmq-server
