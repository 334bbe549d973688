#!/usr/bin/env bash
# A Docker engine of the test run's own, empty when it starts and gone when it stops, so that
# no test can lean on an image, container or volume the machine happens to hold. It runs
# beside the machine's own dockerd (if any) without touching it: its own data root, exec
# root, pid file, socket, containerd namespace and default bridge (`--bridge none` would not
# do: dockerd then deletes the host's docker0, the other engine's bridge). Networks that tests
# create get addresses from a pool of their own. On a machine where no Docker had set up
# iptables, the rules and the forwarding switch that dockerd adds are put back at stop.
#
#   .ci/docker-engine.sh start DIR   start it under DIR (new or empty); prints its DOCKER_HOST
#   .ci/docker-engine.sh stop DIR    stop it, remove what it made and DIR itself
#
# Needs root (dockerd). DIR should be short: containerd's sockets live under it and Unix
# socket paths are limited to 107 bytes.
set -euo pipefail

command=${1:?usage: $0 start|stop DIR}
dir=${2:?usage: $0 start|stop DIR}
sock="$dir/docker.sock"
pidfile="$dir/dockerd.pid"
# One namespace per engine: two daemons on one containerd must not see each other's tasks.
namespace="footprint-ci-$(basename "$dir" | tr -c 'a-zA-Z0-9\n' '-')"
# Interface names have at most 15 characters.
bridge="fpci$(printf %s "$dir" | sha256sum | cut -c1-8)"

start() {
  command -v dockerd >/dev/null || { echo "dockerd is missing (apt-get install docker.io)" >&2; exit 1; }
  mkdir -p "$dir/data" "$dir/exec"
  chmod 0711 "$dir"
  if command -v iptables-save >/dev/null && ! iptables -n -L DOCKER >/dev/null 2>&1; then
    iptables-save >"$dir/iptables.before"
    cat /proc/sys/net/ipv4/ip_forward >"$dir/ip_forward.before"
  fi
  ip link add "$bridge" type bridge
  ip addr add 10.212.0.1/24 dev "$bridge"
  ip link set "$bridge" up
  setsid dockerd \
    --data-root "$dir/data" \
    --exec-root "$dir/exec" \
    --pidfile "$pidfile" \
    --host "unix://$sock" \
    --containerd-namespace "$namespace" \
    --containerd-plugins-namespace "$namespace-plugins" \
    --bridge "$bridge" \
    --default-address-pool base=10.213.0.0/16,size=24 \
    --log-level warn >"$dir/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 60); do
    DOCKER_HOST="unix://$sock" docker info >/dev/null 2>&1 && { echo "unix://$sock"; return 0; }
    sleep 1
  done
  echo "the test engine did not start; its log:" >&2
  tail -30 "$dir/dockerd.log" >&2
  stop
  exit 1
}

stop() {
  [ -d "$dir" ] || return 0
  if [ -S "$sock" ]; then
    export DOCKER_HOST="unix://$sock"
    # Containers first (their mounts and cgroups go with them), then the daemon.
    ids=$(docker ps -aq 2>/dev/null || true)
    [ -z "$ids" ] || docker rm -f -v $ids >/dev/null 2>&1 || true
  fi
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # Whatever the daemon left mounted below its roots (overlay layers, netns, shm).
  { grep -o " $dir/[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r mountpoint; do
    umount -l "$mountpoint" 2>/dev/null || true
  done
  ip link del "$bridge" 2>/dev/null || true
  if [ -f "$dir/iptables.before" ]; then
    iptables-restore <"$dir/iptables.before" || true
    cat "$dir/ip_forward.before" >/proc/sys/net/ipv4/ip_forward || true
  fi
  rm -rf "$dir"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
