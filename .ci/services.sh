#!/usr/bin/env bash
# Installs (from Debian's packages) what the test suite runs against: Docker engine,
# PostgreSQL, RabbitMQ, Redis, Chromium, debootstrap; then starts the machine's own instances
# of them for `make test` on a developer machine. Needs root. Idempotent: a service that
# already answers is left alone.
#
#   bash .ci/services.sh                  install and start (a developer machine)
#   bash .ci/services.sh --install-only   install only: CI starts private instances
#                                         (.ci/test-services.sh) that it removes afterwards
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
command -v ip >/dev/null || need+=(iproute2)
command -v iptables >/dev/null || need+=(iptables)
command -v pgrep >/dev/null || need+=(procps)
command -v dockerd >/dev/null || need+=(docker.io)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v rabbitmq-server >/dev/null || need+=(rabbitmq-server)
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v docker-registry >/dev/null || need+=(docker-registry)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ "${1:-}" = "--install-only" ] && exit 0

# Docker engine.
if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd"
  (setsid dockerd >/var/log/footprint-dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /var/log/footprint-dockerd.log; exit 1; }
fi

# PostgreSQL: a role that may create the test databases.
pgver=$(ls /etc/postgresql | sort -n | tail -1)
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting PostgreSQL $pgver"
  pg_ctlcluster --skip-systemctl-redirect "$pgver" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='footprint'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE footprint LOGIN CREATEDB PASSWORD 'footprint'\""
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='footprint'\"" | grep -q 1 \
  || su postgres -c "createdb -O footprint footprint"

# RabbitMQ: a job may hold its message unacknowledged for hours (acks_late), so the
# consumer timeout must exceed the longest job (runners/broker.py LONGEST_JOB_S).
if ! rabbitmq-diagnostics -q -t 5 ping >/dev/null 2>&1; then
  echo "starting RabbitMQ"
  mkdir -p /etc/rabbitmq
  grep -q '^consumer_timeout' /etc/rabbitmq/rabbitmq.conf 2>/dev/null \
    || echo 'consumer_timeout = 25200000' >>/etc/rabbitmq/rabbitmq.conf
  grep -q '^listeners.tcp.default' /etc/rabbitmq/rabbitmq.conf \
    || echo 'listeners.tcp.default = 127.0.0.1:5672' >>/etc/rabbitmq/rabbitmq.conf
  ERL_EPMD_ADDRESS=127.0.0.1 rabbitmq-server -detached
  for _ in $(seq 60); do rabbitmq-diagnostics -q -t 5 ping >/dev/null 2>&1 && break; sleep 1; done
  rabbitmq-diagnostics -q -t 5 ping >/dev/null
fi

# Redis, the alternative broker.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" >/dev/null
  for _ in $(seq 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi

# The offline base image (no registry is reachable here): part of provisioning, kept.
"$(dirname "$0")/../docker/base/build.sh"
echo "services ready"
