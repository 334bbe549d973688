#!/usr/bin/env bash
# The services of one CI test run, each a private instance that starts empty and is removed
# at the end: PostgreSQL (a new cluster), RabbitMQ (a node of its own), Redis, and a Docker
# engine (.ci/docker-engine.sh). They listen on 127.0.0.1 on free ports and keep every file
# under DIR, so that the run leans on nothing the machine holds and leaves nothing behind;
# services the machine itself runs are left alone.
#
#   .ci/test-services.sh start DIR   start them; writes DIR/env (export lines for make test)
#   .ci/test-services.sh stop DIR    stop them and remove DIR
#
# Needs root and the Debian packages that .ci/services.sh installs.
set -euo pipefail

command=${1:?usage: $0 start|stop DIR}
dir=${2:?usage: $0 start|stop DIR}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
node="footprint-ci-$(basename "$dir" | tr -c 'a-zA-Z0-9\n' '-')@localhost"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

start_postgresql() {
  local port bin
  port=$(free_port)
  bin=$(pg_bin)
  mkdir -p "$dir/pg"
  chown postgres:postgres "$dir/pg"
  echo footprint >"$dir/pg.password"
  chown postgres "$dir/pg.password"
  su postgres -s /bin/sh -c "'$bin/initdb' -D '$dir/pg/data' -U footprint --pwfile='$dir/pg.password' \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8" >"$dir/pg-initdb.log" 2>&1 \
    || { cat "$dir/pg-initdb.log" >&2; return 1; }
  su postgres -s /bin/sh -c "'$bin/pg_ctl' -D '$dir/pg/data' -l '$dir/pg/server.log' -w -t 60 \
    -o \"-p $port -c listen_addresses=127.0.0.1 -k '$dir/pg' -c fsync=off\" start" >/dev/null \
    || { tail -20 "$dir/pg/server.log" >&2; return 1; }
  PGPASSWORD=footprint "$bin/createdb" -h 127.0.0.1 -p "$port" -U footprint footprint
  echo "export DATABASE_URL=postgresql://footprint:footprint@127.0.0.1:$port/footprint" >>"$dir/env"
}

stop_postgresql() {
  [ -f "$dir/pg/data/postmaster.pid" ] || return 0
  su postgres -s /bin/sh -c "'$(pg_bin)/pg_ctl' -D '$dir/pg/data' -m immediate -w stop" >/dev/null 2>&1 || true
}

start_rabbitmq() {
  local port
  port=$(free_port)
  mkdir -p "$dir/rabbitmq"
  # consumer_timeout above the longest job (runners/broker.py LONGEST_JOB_S), as deployed.
  printf 'listeners.tcp.default = 127.0.0.1:%s\nconsumer_timeout = 25200000\n' "$port" >"$dir/rabbitmq/rabbitmq.conf"
  : >"$dir/rabbitmq/enabled_plugins"
  chown -R rabbitmq:rabbitmq "$dir/rabbitmq"
  if ! epmd -names >/dev/null 2>&1; then touch "$dir/rabbitmq.started-epmd"; fi
  env ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT="$(free_port)" \
    RABBITMQ_MNESIA_BASE="$dir/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$dir/rabbitmq/log" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq/rabbitmq.conf" RABBITMQ_PID_FILE="$dir/rabbitmq/pid" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/rabbitmq/enabled_plugins" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    rabbitmq-server -detached >/dev/null 2>&1
  for _ in $(seq 90); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
    sleep 1
  done
  rabbitmq-diagnostics -n "$node" -q check_port_connectivity >/dev/null 2>&1 \
    || { echo "RabbitMQ did not start; its log:" >&2; tail -20 "$dir"/rabbitmq/log/*.log >&2 || true; return 1; }
  echo "export FOOTPRINT_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:$port//" >>"$dir/env"
}

stop_rabbitmq() {
  [ -d "$dir/rabbitmq" ] || return 0
  rabbitmqctl -n "$node" stop >/dev/null 2>&1 || true
  if [ -f "$dir/rabbitmq/pid" ]; then
    pid=$(cat "$dir/rabbitmq/pid" 2>/dev/null || true)
    for _ in $(seq 30); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
  fi
  # epmd is shared by every Erlang node of the machine: stop it only if this run started it
  # and no other node registered since.
  if [ -f "$dir/rabbitmq.started-epmd" ] && ! epmd -names 2>/dev/null | grep -q '^name '; then
    epmd -kill >/dev/null 2>&1 || true
  fi
}

start_redis() {
  local port
  port=$(free_port)
  mkdir -p "$dir/redis"
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$dir/redis" \
    --pidfile "$dir/redis/pid" --logfile "$dir/redis/log" --daemonize yes >/dev/null
  for _ in $(seq 40); do redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break; sleep 0.25; done
  redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null
  echo "export FOOTPRINT_TEST_REDIS_URL=redis://127.0.0.1:$port/15" >>"$dir/env"
}

stop_redis() {
  [ -f "$dir/redis/pid" ] || return 0
  pid=$(cat "$dir/redis/pid" 2>/dev/null || true)
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  for _ in $(seq 20); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
}

start() {
  mkdir -p "$dir"
  chmod 0755 "$dir"
  : >"$dir/env"
  start_postgresql
  start_rabbitmq
  start_redis
  echo "export DOCKER_HOST=$("$here/docker-engine.sh" start "$dir/docker")" >>"$dir/env"
}

stop() {
  [ -d "$dir" ] || return 0
  "$here/docker-engine.sh" stop "$dir/docker" || true
  stop_redis
  stop_rabbitmq
  stop_postgresql
  rm -rf "$dir"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
