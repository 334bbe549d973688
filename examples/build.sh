#!/usr/bin/env bash
# Build the example submission images as footprint-example/<name>:1 and `docker save` each to
# OUT_DIR/<name>.tar, the form a researcher uploads.
#
#   examples/build.sh [RUNTIME_IMAGE] [OUT_DIR]      defaults: footprint/runtime:1, var/examples
#
# An example is rebuilt only when its source changed: a hash of the runtime image's id and the
# example's files (common/ and <name>/) is stored as the image label
# org.footprint.example.source and in OUT_DIR/<name>.tar.source next to the tarball.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runtime="${1:-footprint/runtime:1}"
out="${2:-$here/../var/examples}"
names=(identity int8-dynamic unstructured-prune structured-prune distill)

if ! runtime_id="$(docker image inspect --format '{{.Id}}' "$runtime" 2>/dev/null)"; then
    echo "error: the runtime image $runtime does not exist; build it first:" >&2
    echo "       python -m runners.images runtime --tag $runtime" >&2
    exit 1
fi
mkdir -p "$out"

source_hash() {  # $1: example name
    {
        echo "$runtime_id"
        cd "$here"
        find common "$1" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum
    } | sha256sum | cut -d' ' -f1
}

for name in "${names[@]}"; do
    tag="footprint-example/$name:1"
    tar="$out/$name.tar"
    source="$(source_hash "$name")"
    image_source="$(docker image inspect --format '{{index .Config.Labels "org.footprint.example.source"}}' "$tag" 2>/dev/null || true)"
    tar_source="$(cat "$tar.source" 2>/dev/null || true)"
    if [[ -f "$tar" && "$tar_source" == "$source" ]]; then
        if [[ "$image_source" != "$source" ]]; then
            echo "$name: loading the up-to-date $tar"
            docker load -i "$tar" >/dev/null
        fi
        echo "$name: up to date ($tag, $tar)"
        continue
    fi
    if [[ "$image_source" != "$source" ]]; then
        echo "$name: building $tag"
        previous_id="$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
        docker build --quiet -f "$here/$name/Dockerfile" --build-arg "BASE_IMAGE=$runtime" \
            --label "org.footprint.example.source=$source" -t "$tag" "$here" >/dev/null
        # The image this build replaced is left untagged (a dangling image per rebuild): drop it, unless
        # something else still tags it or a container uses it (then rmi refuses, which is fine).
        if [[ -n "$previous_id" && "$previous_id" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]]; then
            docker rmi "$previous_id" >/dev/null 2>&1 || true
        fi
    fi
    echo "$name: saving $tar"
    rm -f "$tar.source"
    docker save "$tag" -o "$tar.partial"  # never leave a half-written tarball under the real name
    chmod 0644 "$tar.partial"  # docker save writes 0600; the platform may read it as another user
    mv "$tar.partial" "$tar"
    echo "$source" > "$tar.source"
done
