#!/usr/bin/env bash
# Builds the offline base image (Debian bookworm + python3 + venv) with debootstrap and
# `docker import`, for machines that cannot pull public base images. Idempotent: an
# existing image of that name is kept unless FORCE=1.
#
#   docker/base/build.sh [IMAGE_NAME]       (default footprint/base:bookworm)
set -euo pipefail
name=${1:-footprint/base:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ "${FORCE:-0}" != 1 ] && docker image inspect "$name" >/dev/null 2>&1; then
  echo "base image $name exists"; exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }
dir=$(mktemp -d /tmp/footprint-base.XXXXXX)
trap 'rm -rf "$dir"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$dir" "$mirror" >"$dir.log" 2>&1 \
  || { tail -20 "$dir.log" >&2; rm -f "$dir.log"; exit 1; }
rm -f "$dir.log"
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
tar -C "$dir" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'LABEL org.footprint.image=base' \
  --change 'CMD ["/bin/bash"]' - "$name"
echo "built base image $name"
