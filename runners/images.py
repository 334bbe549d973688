"""Builds Footprint's images: the standard runtime, and any small image from a folder.

An image is rebuilt only when what it is built from changed: the build context's files
(paths, modes, contents), the Dockerfile's name, the build arguments, the labels and the
ids of the images it starts FROM are hashed, and the hash is stored in the image's label
`org.footprint.context-sha256`. A tag that already carries the same hash is kept as is.

Nothing is pulled: the images named in FROM must already be on the host (the offline
base image comes from docker/base/build.sh).

    python -m runners.images runtime --tag footprint/runtime:1 \
        [--base-image footprint/base:bookworm] [--wheels .cache/wheels]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker
import docker.errors

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
RUNTIME_DOCKERFILE = REPO_ROOT / "docker" / "runtime" / "Dockerfile"
RUNTIME_SOURCES = {
    # path in the build context: path in this repository
    "runners/footprint_sdk.py": REPO_ROOT / "runners" / "footprint_sdk.py",
    "runners/runtime/serve_torchscript.py": REPO_ROOT / "runners" / "runtime" / "serve_torchscript.py",
    "runners/runtime/null_server.py": REPO_ROOT / "runners" / "runtime" / "null_server.py",
    "runners/runtime/model_stats.py": REPO_ROOT / "runners" / "runtime" / "model_stats.py",
}
RUNTIME_REQUIREMENTS = ("torch==2.13.0", "numpy")
RUNTIME_PYTHON = "3.11"  # the wheels' interpreter: the base image must have this python3
DEFAULT_BASE_IMAGE = os.environ.get("FOOTPRINT_BASE_IMAGE", "footprint/base:bookworm")
DEFAULT_WHEELS_DIR = REPO_ROOT / ".cache" / "wheels"
CONTEXT_HASH_LABEL = "org.footprint.context-sha256"
# Installing torch can stay silent for minutes; docker-py's 60 s default would abort it.
BUILD_TIMEOUT_S = 3600
BUILD_LOG_TAIL_LINES = 40


class ImageBuildError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- generic build with a content-hash skip ----------------------------------------------


def build_image(
    context_dir: str | Path,
    *,
    tag: str,
    dockerfile: str | None = None,
    buildargs: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    client: docker.DockerClient,
    timeout_s: float = BUILD_TIMEOUT_S,
) -> str:
    """Build `context_dir` as `tag` unless `tag` was built from the same inputs; returns the image id.

    `dockerfile` is a path relative to the context (default "Dockerfile").
    """
    context = Path(context_dir)
    dockerfile_name = dockerfile or "Dockerfile"
    dockerfile_path = context / dockerfile_name
    if not dockerfile_path.is_file():
        raise ImageBuildError(f"no {dockerfile_name} in the build context {context}")
    buildargs = {str(k): str(v) for k, v in (buildargs or {}).items()}
    labels = {str(k): str(v) for k, v in (labels or {}).items() if k != CONTEXT_HASH_LABEL}
    base_ids = {ref: _local_image_id(client, ref) for ref in from_images(dockerfile_path.read_text(), buildargs)}
    digest = context_sha256(context, dockerfile=dockerfile_name, buildargs=buildargs, labels=labels, base_ids=base_ids)

    previous_id: str | None = None
    try:
        existing = client.images.get(tag)
    except docker.errors.ImageNotFound:
        existing = None
    if existing is not None:
        if existing.labels.get(CONTEXT_HASH_LABEL) == digest:
            log.info("image %s is up to date (%s)", tag, existing.id)
            return existing.id
        previous_id = existing.id

    started = time.monotonic()
    try:
        image, build_log = client.images.build(
            path=str(context),
            dockerfile=dockerfile_name,
            tag=tag,
            buildargs=buildargs,
            labels={**labels, CONTEXT_HASH_LABEL: digest},
            rm=True,
            forcerm=True,
            pull=False,
            timeout=int(timeout_s),
        )
    except docker.errors.BuildError as exc:
        entries = list(exc.build_log or [])
        remove_build_leftovers(client, entries, keep=None)
        raise ImageBuildError(f"building {tag} failed: {exc.msg}\n{_build_log_tail(entries)}") from exc
    except docker.errors.APIError as exc:
        raise ImageBuildError(f"building {tag} failed: {exc.explanation or exc}") from exc
    remove_build_leftovers(client, list(build_log), keep=image.id)
    log.info("built %s (%s) in %.1f s", tag, image.id, time.monotonic() - started)
    if previous_id and previous_id != image.id:
        _remove_if_untagged(client, previous_id)
    return image.id


def from_images(dockerfile_text: str, buildargs: dict[str, str]) -> list[str]:
    """The images a Dockerfile starts FROM (not its own stages, not scratch), args expanded."""
    text = re.sub(r"\\\r?\n", " ", dockerfile_text)  # line continuations
    args: dict[str, str] = {}
    stages: set[str] = set()
    refs: list[str] = []
    seen_from = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not seen_from:
            name, eq, default = rest.strip().partition("=")
            args[name.strip()] = buildargs.get(name.strip(), default.strip().strip('"') if eq else "")
        elif keyword == "FROM":
            seen_from = True
            words = [w for w in rest.split() if not w.startswith("--")]
            if not words:
                continue
            ref = _expand(words[0], args)
            stage = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None
            if ref and ref.lower() != "scratch" and ref.lower() not in stages and ref not in refs:
                refs.append(ref)
            if stage:
                stages.add(stage)
    return refs


def _expand(word: str, args: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return args.get(name, "")

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", value, word)


def _local_image_id(client: docker.DockerClient, ref: str) -> str:
    try:
        return client.images.get(ref).id
    except docker.errors.ImageNotFound:
        raise ImageBuildError(
            f"the image {ref} (named in FROM) is not on this host; Footprint never pulls images: "
            "build or load it first (the offline base image: docker/base/build.sh)"
        ) from None


def context_sha256(
    context_dir: str | Path,
    *,
    dockerfile: str,
    buildargs: dict[str, str],
    labels: dict[str, str],
    base_ids: dict[str, str],
) -> str:
    """sha256 over everything a build reads: files (path, mode, content), arguments, bases."""
    context = Path(context_dir)
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            {"dockerfile": dockerfile, "buildargs": buildargs, "labels": labels, "bases": base_ids},
            sort_keys=True,
        ).encode()
    )
    for root, dirs, files in os.walk(context):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if (Path(root) / d).is_symlink()]:
            path = Path(root) / name
            relative = path.relative_to(context).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                digest.update(f"\0link\0{relative}\0{os.readlink(path)}\0".encode())
                continue
            digest.update(f"\0file\0{relative}\0{stat.S_IMODE(st.st_mode):o}\0{st.st_size}\0".encode())
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def _build_log_tail(build_log) -> str:
    lines: list[str] = []
    for entry in build_log or []:
        if isinstance(entry, dict):
            text = entry.get("stream") or entry.get("error") or ""
            lines.extend(line for line in str(text).splitlines() if line.strip())
    return "\n".join(lines[-BUILD_LOG_TAIL_LINES:])


_STEP_IMAGE = re.compile(r"^ ---> ([0-9a-f]{12,64})\s*$")


def remove_build_leftovers(client: docker.DockerClient, build_log: list, *, keep: str | None) -> list[str]:
    """Remove the untagged images a build made that the result does not stand on; their ids.

    The classic builder commits an image per step. Those under the final image are its
    layers and stay; the others are an earlier stage's (a multi-stage build's builder,
    gigabytes with the wheels in it) or a failed build's steps, left as dangling images on
    every build. A cached step shared with another image is refused by the engine and kept.
    """
    stepped = []
    for entry in build_log:
        text = entry.get("stream") if isinstance(entry, dict) else None
        for line in str(text or "").splitlines():
            match = _STEP_IMAGE.match(line)
            if match and match.group(1) not in stepped:
                stepped.append(match.group(1))
    kept: set[str] = set()
    if keep is not None:
        try:
            kept = {layer["Id"] for layer in client.api.history(keep) if layer.get("Id", "").startswith("sha256:")}
        except docker.errors.APIError:
            return []  # cannot tell what the result stands on: remove nothing
    removed = []
    for short in reversed(stepped):
        try:
            attrs = client.api.inspect_image(short)
        except docker.errors.APIError:
            continue  # removed with a child already, or never committed
        if attrs["Id"] in kept or attrs.get("RepoTags"):
            continue
        try:
            client.api.remove_image(attrs["Id"], noprune=False)
            removed.append(attrs["Id"])
        except docker.errors.APIError:
            pass  # a parent of another image (a shared cached step), or in use by a container
    return removed


def _remove_if_untagged(client: docker.DockerClient, image_id: str) -> None:
    """Drop the image a rebuild replaced, unless something still uses or names it."""
    try:
        if not client.images.get(image_id).tags:
            client.images.remove(image_id, noprune=False)
    except docker.errors.APIError:
        pass  # still a parent of other images, or used by a container: keep it


# -- the standard runtime ---------------------------------------------------------------


def build_runtime_image(
    *,
    tag: str,
    base_image: str,
    wheels_dir: str | Path,
    labels: dict[str, str] | None = None,
    client: docker.DockerClient,
    timeout_s: float = BUILD_TIMEOUT_S,
) -> str:
    """Build the standard runtime image from docker/runtime/Dockerfile; returns its id."""
    try:
        client.images.get(base_image)
    except docker.errors.ImageNotFound:
        raise ImageBuildError(
            f"the base image {base_image} is not on this host: build it with docker/base/build.sh "
            "(Footprint never pulls images), or pass another with --base-image"
        ) from None
    wheels = Path(wheels_dir)
    missing = [req for req in RUNTIME_REQUIREMENTS if not _has_wheel(wheels, req)]
    if missing:
        raise ImageBuildError(
            f"no wheel for {', '.join(missing)} in {wheels}: run `python -m runners.images runtime` "
            f"(it downloads them) or `pip download {' '.join(RUNTIME_REQUIREMENTS)} -d {wheels}`"
        )
    absent = [str(src) for src in RUNTIME_SOURCES.values() if not src.is_file()]
    if absent:
        raise ImageBuildError(f"the runtime image needs {', '.join(absent)}")

    with tempfile.TemporaryDirectory(prefix="footprint-runtime-context-") as tmp:
        context = Path(tmp)
        shutil.copyfile(RUNTIME_DOCKERFILE, context / "Dockerfile")
        (context / "wheels").mkdir()
        for wheel in sorted(wheels.glob("*.whl")):
            _link_or_copy(wheel, context / "wheels" / wheel.name)
        for destination, source in RUNTIME_SOURCES.items():
            target = context / destination
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            # COPY keeps the mode; fixed here so the hash does not depend on the checkout's umask.
            target.chmod(0o755 if "/runtime/" in destination else 0o644)
        return build_image(
            context,
            tag=tag,
            buildargs={"BASE_IMAGE": base_image},
            labels=labels,
            client=client,
            timeout_s=timeout_s,
        )


def _has_wheel(wheels: Path, requirement: str) -> bool:
    name, _, version = requirement.partition("==")
    pattern = f"{name}-{version}*.whl" if version else f"{name}-*.whl"
    return wheels.is_dir() and any(wheels.glob(pattern))


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # same file system: no 200 MB copy
    except OSError:
        shutil.copy2(source, target)


def download_wheels(wheels_dir: str | Path) -> None:
    """`pip download` the runtime's wheels for Python 3.11 into wheels_dir.

    pip's own configuration decides where from. On a machine without a local mirror, set
    PIP_INDEX_URL=https://download.pytorch.org/whl/cpu and
    PIP_EXTRA_INDEX_URL=https://pypi.org/simple, or torch comes with CUDA (gigabytes).
    """
    Path(wheels_dir).mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", *RUNTIME_REQUIREMENTS,
        "-d", str(wheels_dir), "--only-binary=:all:", "--python-version", RUNTIME_PYTHON,
    ]  # fmt: skip
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise ImageBuildError(f"`{' '.join(command)}` failed with exit code {result.returncode}")


def ensure_wheels(wheels_dir: str | Path) -> None:
    """Download the runtime's wheels into wheels_dir unless they are all there already."""
    if not all(_has_wheel(Path(wheels_dir), req) for req in RUNTIME_REQUIREMENTS):
        log.info("downloading %s into %s", " ".join(RUNTIME_REQUIREMENTS), wheels_dir)
        download_wheels(wheels_dir)


# -- command line -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runners.images", description="Build Footprint's images.")
    commands = parser.add_subparsers(dest="command", required=True)
    runtime = commands.add_parser("runtime", help="build the standard runtime image")
    runtime.add_argument("--tag", default="footprint/runtime:1")
    runtime.add_argument(
        "--base-image", default=DEFAULT_BASE_IMAGE, help="default: $FOOTPRINT_BASE_IMAGE or footprint/base:bookworm"
    )
    runtime.add_argument("--wheels", type=Path, default=DEFAULT_WHEELS_DIR, help="default: .cache/wheels")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    try:
        ensure_wheels(args.wheels)
        client = docker.from_env()
        image_id = build_runtime_image(tag=args.tag, base_image=args.base_image, wheels_dir=args.wheels, client=client)
    except ImageBuildError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    except docker.errors.DockerException as exc:
        print(f"error: cannot reach the Docker engine: {exc}", file=sys.stderr)
        return 1
    print(f"{args.tag} {image_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
