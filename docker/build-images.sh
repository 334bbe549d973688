#!/usr/bin/env bash
# Builds every image of a deployment (docker/compose.yaml) on this host's engine, without a
# registry where none is reachable, and writes the standard runtime's image id into the
# deployment's env file (FOOTPRINT_RUNTIME_IMAGE: job specs pin the runtime by id).
#
#   docker/build-images.sh [ENV_FILE]      default docker/.env (left alone when missing)
#
# The base: the public python:3.11-slim-bookworm when it is here or can be pulled, else the
# Debian base made by docker/base/build.sh. Python packages are downloaded on this host
# (pip, into .cache/wheels-deploy and .cache/wheels) and installed in the images with
# --no-index. Unchanged images are rebuilt from the engine's cache in seconds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
env_file="${1:-$here/.env}"
python="${PYTHON:-$root/.venv/bin/python}"
public="${FOOTPRINT_PUBLIC_BASE_IMAGE:-python:3.11-slim-bookworm}"
offline="${FOOTPRINT_OFFLINE_BASE_IMAGE:-footprint/base:bookworm}"
tag="${FOOTPRINT_IMAGE_TAG:-1}"
started=$(date +%s)

base="${FOOTPRINT_BASE_IMAGE:-}"
if [ -z "$base" ]; then
  if docker image inspect "$public" >/dev/null 2>&1 || timeout 60 docker pull -q "$public" >/dev/null 2>&1; then
    base=$public
  else
    echo "no public base image reachable; using the offline base $offline"
    "$root/docker/base/build.sh" "$offline"
    base=$offline
  fi
fi

echo "downloading the platform's and the runner's wheels into .cache/wheels-deploy"
"$python" -m pip download -q --disable-pip-version-check --only-binary=:all: --python-version 3.11 \
  -r "$root/requirements.txt" -r "$root/docker/wheels-extra.txt" -d "$root/.cache/wheels-deploy" 2>&1 \
  | { grep -v "^WARNING: Location" || true; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
docker_build() {
  docker build -q --build-arg "BASE_IMAGE=$base" "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
}
build() {  # image, dockerfile, context
  echo "building $1 on $base"
  local stage="" previous
  previous=$(docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true)
  if grep -q '^FROM .* AS build$' "$2"; then
    # The build stage (the wheels) is tagged while the image is built from it, then
    # untagged: the engine keeps no dangling copy of it.
    stage="footprint/build-stage:$(basename "$(dirname "$2")")-$tag"
    docker_build --target build -f "$2" -t "$stage" "$3"
  fi
  docker_build -f "$2" -t "$1" "$3"
  [ -z "$stage" ] || docker rmi -f "$stage" >/dev/null
  # The image this build replaced, unless a container still uses it (an upgrade: `up -d`
  # recreates the containers, `docker image prune` removes it then).
  if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$1")" ]; then
    docker rmi "$previous" >/dev/null 2>&1 || true
  fi
}
build "footprint/platform:$tag" "$root/docker/platform/Dockerfile" "$root"
build "footprint/runner:$tag" "$root/docker/runner/Dockerfile" "$root"
build "footprint/postgres:${FOOTPRINT_POSTGRES_TAG:-15}" "$root/docker/postgres/Dockerfile" "$root/docker/postgres"
build "footprint/rabbitmq:${FOOTPRINT_RABBITMQ_TAG:-3.10}" "$root/docker/rabbitmq/Dockerfile" "$root/docker/rabbitmq"

runtime_tag="${FOOTPRINT_RUNTIME_TAG:-footprint/runtime:1}"
echo "building the standard runtime image $runtime_tag"
runtime_id=$("$python" -m runners.images runtime --tag "$runtime_tag" --base-image "$base" \
  --wheels "$root/.cache/wheels" | awk '{print $2}')
echo "FOOTPRINT_RUNTIME_IMAGE=$runtime_id"
if [ -f "$env_file" ]; then
  if grep -q '^FOOTPRINT_RUNTIME_IMAGE=' "$env_file"; then
    sed -i "s|^FOOTPRINT_RUNTIME_IMAGE=.*|FOOTPRINT_RUNTIME_IMAGE=$runtime_id|" "$env_file"
  else
    echo "FOOTPRINT_RUNTIME_IMAGE=$runtime_id" >>"$env_file"
  fi
  echo "wrote it into $env_file"
fi
echo "images built in $(( $(date +%s) - started )) s"
