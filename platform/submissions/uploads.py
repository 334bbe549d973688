"""Receiving and checking uploaded `docker save` tarballs.

Three steps, each usable on its own:

1. `CappedTemporaryFileUploadHandler` streams the upload to a temporary file, hashes it as
   it goes (the file is read once) and stops the upload as soon as it passes
   `settings.FOOTPRINT_UPLOAD_MAX_BYTES`. Django has no size cap of its own for files:
   `FILE_UPLOAD_MAX_MEMORY_SIZE` only says when to spool to disk and multipart file data
   is not counted by `DATA_UPLOAD_MAX_MEMORY_SIZE`.
2. `inspect_image_tarball(path)` reads the tar headers, `manifest.json` and the image
   config without extracting anything, and says in words why a file is not one image.
3. `store_submission_tarball(uploaded_file)` moves the temporary file to
   `submissions/<random hex>.tar` in Footprint's storage, which is never served.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import secrets
import tarfile
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest

from core.formatting import bytes_human
from footprint.storage import footprint_storage
from runners import image_tarball

# The attribute of the request on which the handler leaves its reason for stopping an
# upload: once StopUpload is raised, Django drops the file silently and the view would
# otherwise only see "no file".
UPLOAD_REJECTION_ATTR = "footprint_upload_rejection"

# JSON documents inside an image tarball are small; a bigger one is not from docker save.
_MAX_JSON_BYTES = 8 * 2**20
# A docker save tarball holds a handful of members per layer; a huge count is a header bomb.
_MAX_MEMBERS = 100_000
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# tarfile's data filter needs a destination to resolve links against; nothing is written.
_VIRTUAL_DEST = "/footprint-tarball-check"


def upload_max_bytes() -> int:
    return int(settings.FOOTPRINT_UPLOAD_MAX_BYTES)


def upload_too_large_reason(max_bytes: int) -> str:
    """Why a file over the upload limit is refused, in the words of every upload path."""
    return (
        f"the file is larger than the upload limit of {bytes_human(max_bytes)}; "
        "shrink the image (smaller base image, fewer layers, no build caches) and "
        "upload it again"
    )


def upload_rejection(request: HttpRequest) -> str | None:
    """Why the capped handler stopped this request's upload, or None if it did not."""
    return getattr(request, UPLOAD_REJECTION_ATTR, None)


class HashedTemporaryUploadedFile(TemporaryUploadedFile):
    """A temporary upload that knows the sha256 of its bytes (hex, no prefix)."""

    sha256: str = ""


class CappedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Streams every file of a request to disk, hashing it, and stops past the cap.

    Use it alone (it replaces both default handlers: a tarball must be a file on disk for
    `tarfile` and for the move into storage). The cap counts the file bytes of the whole
    request, so several files cannot add up past it. The reason for a stop is left on the
    request (see `upload_rejection`).
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.max_bytes = upload_max_bytes()
        self.request_file_bytes = 0
        self._hasher = hashlib.sha256()

    def _reject(self, reason: str) -> None:
        if self.request is not None:
            setattr(self.request, UPLOAD_REJECTION_ATTR, reason)
        # connection_reset=False: Django reads and discards the rest of the body, so the
        # client gets the form back with the reason instead of a reset connection. Nothing
        # more is written to disk; the temporary file is closed (and so deleted) by Django.
        raise StopUpload(connection_reset=False)

    def _too_large_reason(self) -> str:
        return upload_too_large_reason(self.max_bytes)

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        # The declared length is only a hint (a client can lie), but an honest large one
        # lets us stop before writing anything.
        if self.content_length is not None and self.content_length > self.max_bytes:
            self._reject(self._too_large_reason())
        self._hasher = hashlib.sha256()
        self.file = HashedTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.request_file_bytes += len(raw_data)
        if self.request_file_bytes > self.max_bytes:
            self._reject(self._too_large_reason())
        self._hasher.update(raw_data)
        try:
            self.file.write(raw_data)
        except OSError as exc:
            # The platform's disk is full (or failing): the submitter's fault it is not, and
            # nothing half-written is kept (Django deletes the temporary file).
            self._reject(
                f"the platform could not store the upload ({exc.strerror or exc}); nothing was kept: "
                "try again later, and tell the operators if it happens again"
            )

    def file_complete(self, file_size: int) -> HashedTemporaryUploadedFile:
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self._hasher.hexdigest()
        return uploaded


def use_capped_upload_handler(request: HttpRequest) -> None:
    """Make the capped handler the request's only upload handler.

    Must run before anything reads request.POST or request.FILES, which means in a view
    that is `csrf_exempt` on the outside and `csrf_protect` inside (the CSRF middleware
    reads request.POST).
    """
    request.upload_handlers = [CappedTemporaryFileUploadHandler(request)]


# ---------------------------------------------------------------------------------------
# Inspecting the tarball


class InvalidImageTarball(ValueError):
    """The file is not one loadable docker image; `reason` says why, for the submitter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ImageTarballInfo:
    image_id: str  # "sha256:<hex>" of the config blob, what `docker load` reports
    sha256: str  # hex of the tarball's own bytes
    size_bytes: int
    repo_tags: list[str] = field(default_factory=list)
    layers: int = 0


def _sha256_file(path: str) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(2**20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _check_member_is_safe(member: tarfile.TarInfo) -> None:
    name = member.name
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if name.startswith("/") or ".." in parts:
        raise InvalidImageTarball(
            f"the tarball has an unsafe member name {name!r} (absolute path or '..'); "
            "upload the file that `docker save` wrote, unchanged"
        )
    try:
        # PEP 706's data filter: no absolute paths, nothing outside the tree, no device
        # files, links that stay inside. Used as a check only; nothing is extracted.
        if hasattr(tarfile, "data_filter"):
            tarfile.data_filter(member, _VIRTUAL_DEST)
        else:
            data_filter_check(member, _VIRTUAL_DEST)
    except (getattr(tarfile, "FilterError", UnsafeMember), UnsafeMember) as exc:
        raise InvalidImageTarball(
            f"the tarball has an unsafe member {name!r}: {exc}; upload the file that `docker save` wrote, unchanged"
        ) from exc


class UnsafeMember(ValueError):
    pass


def data_filter_check(member: tarfile.TarInfo, dest: str) -> None:
    """What tarfile.data_filter refuses, for an interpreter that lacks it (PEP 706 came in
    3.11.4; Debian bookworm's python3, under the deployment's offline images, is 3.11.2)."""
    dest = posixpath.normpath(dest)

    def inside(path: str) -> bool:
        return posixpath.commonpath([posixpath.normpath(path), dest]) == dest

    name = member.name
    if name.startswith("/"):
        raise UnsafeMember(f"{name!r} is an absolute path")
    if not inside(posixpath.join(dest, name)):
        raise UnsafeMember(f"{name!r} would be extracted outside the destination")
    if member.isdev():
        raise UnsafeMember(f"{name!r} is a special file")
    if member.issym() or member.islnk():
        if member.linkname.startswith("/"):
            raise UnsafeMember(f"{name!r} is a link to an absolute path")
        base = posixpath.dirname(posixpath.join(dest, name)) if member.issym() else dest
        if not inside(posixpath.join(base, member.linkname)):
            raise UnsafeMember(f"{name!r} would link to a path outside the destination")


def _normalized(name: str) -> str:
    # "./manifest.json" and "manifest.json" are one member for docker.
    return posixpath.normpath(name)


def _read_json_member(archive: tarfile.TarFile, member: tarfile.TarInfo, what: str) -> tuple[Any, bytes]:
    if member.size > _MAX_JSON_BYTES:
        raise InvalidImageTarball(
            f"the {what} ({member.name}) is {bytes_human(member.size)}, larger than any docker save writes"
        )
    handle: IO[bytes] | None = archive.extractfile(member)
    if handle is None:
        raise InvalidImageTarball(f"the {what} ({member.name}) is not a regular file")
    with handle:
        raw = handle.read()
    try:
        return json.loads(raw), raw
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidImageTarball(f"the {what} ({member.name}) is not valid JSON: {exc}") from exc


class _Members:
    """The tarball's members by normalized name, with links resolved inside the tree."""

    def __init__(self, members: dict[str, tarfile.TarInfo]) -> None:
        self.by_name = members

    def regular_file(self, name: str) -> tarfile.TarInfo | None:
        """The regular file `name` refers to, following at most 8 links; None if absent."""
        current = _normalized(name)
        for _ in range(8):
            member = self.by_name.get(current)
            if member is None:
                return None
            if member.isfile():
                return member
            if member.issym():
                current = posixpath.normpath(posixpath.join(posixpath.dirname(current), member.linkname))
            elif member.islnk():
                current = _normalized(member.linkname)
            else:
                return None
        return None


def _scan_members(archive: tarfile.TarFile, max_unpacked_bytes: int) -> _Members:
    members: dict[str, tarfile.TarInfo] = {}
    unpacked_bytes = 0
    for count, member in enumerate(archive, start=1):
        if count > _MAX_MEMBERS:
            raise InvalidImageTarball(
                f"the tarball has more than {_MAX_MEMBERS} members; it is not a docker save image"
            )
        _check_member_is_safe(member)
        unpacked_bytes += member.size
        if unpacked_bytes > max_unpacked_bytes:
            raise InvalidImageTarball(
                f"the tarball's content is larger than the limit of {bytes_human(max_unpacked_bytes)} once unpacked"
            )
        name = _normalized(member.name)
        if name in members and not (member.isdir() and members[name].isdir()):
            # Two members with one name would let what we check differ from what
            # `docker load` uses.
            raise InvalidImageTarball(f"the tarball has the member {name!r} twice")
        members[name] = member
    return _Members(members)


def _check_index(archive: tarfile.TarFile, members: _Members) -> None:
    """Docker >= 25 writes an OCI layout (index.json) next to manifest.json: cross-check it."""
    index_member = members.regular_file("index.json")
    if index_member is None:
        return
    index, _ = _read_json_member(archive, index_member, "OCI index")
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list):
        raise InvalidImageTarball("the OCI index (index.json) has no list of manifests")
    # One image saved under several tags appears once per tag with the same digest.
    digests = {m.get("digest") for m in manifests if isinstance(m, dict)}
    if len(digests) > 1:
        raise InvalidImageTarball(
            f"the tarball holds {len(digests)} images (index.json); upload one: `docker save IMAGE -o method.tar`"
        )


def check_image_config(config: Any, config_name: str) -> list[Any]:
    """The layers (rootfs.diff_ids) of a docker image config; InvalidImageTarball when it is none."""
    if not isinstance(config, dict):
        raise InvalidImageTarball(f"the image config ({config_name}) is not a JSON object")
    missing = [key for key in ("architecture", "os", "rootfs") if key not in config]
    if missing:
        raise InvalidImageTarball(
            f"the image config ({config_name}) lacks {', '.join(missing)}; it is not a docker image config"
        )
    rootfs = config["rootfs"]
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list):
        raise InvalidImageTarball(f"the image config ({config_name}) has no rootfs.diff_ids list of layers")
    run_config = config.get("config")
    volumes = run_config.get("Volumes") if isinstance(run_config, dict) else None
    if volumes:
        raise InvalidImageTarball(
            f"the image declares VOLUME {', '.join(sorted(map(str, volumes)))[:200]}: Footprint runs images without "
            "volumes (a container writes only to /tmp and /footprint/out); remove the VOLUME lines and save it again"
        )
    return diff_ids


def _expected_config_hex(config_name: str) -> str | None:
    """The digest a config's name promises: blobs/sha256/<hex> or <hex>.json."""
    base = posixpath.basename(config_name)
    if posixpath.dirname(config_name).endswith("blobs/sha256") and _SHA256_HEX.fullmatch(base):
        return base
    stem = base.removesuffix(".json")
    if base.endswith(".json") and _SHA256_HEX.fullmatch(stem):
        return stem
    return None


def _inspect_open_archive(archive: tarfile.TarFile, max_unpacked_bytes: int) -> tuple[str, list[str], int]:
    members = _scan_members(archive, max_unpacked_bytes)
    manifest_member = members.regular_file("manifest.json")
    if manifest_member is None:
        raise InvalidImageTarball(
            "the tarball has no manifest.json: it is not a `docker save` image; "
            "make it with `docker save IMAGE -o method.tar`"
        )
    manifest, _ = _read_json_member(archive, manifest_member, "manifest")
    if not isinstance(manifest, list):
        raise InvalidImageTarball("manifest.json is not a list of images")
    if len(manifest) == 0:
        raise InvalidImageTarball("manifest.json lists no image; upload one image")
    if len(manifest) > 1:
        raise InvalidImageTarball(
            f"the tarball holds {len(manifest)} images; upload one: `docker save IMAGE -o method.tar`"
        )
    _check_index(archive, members)

    entry = manifest[0]
    if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
        raise InvalidImageTarball("manifest.json's image has no Config entry")
    config_name = entry["Config"]
    config_member = members.regular_file(config_name)
    if config_member is None:
        raise InvalidImageTarball(f"the image config {config_name!r} named in manifest.json is not in the tarball")
    config, config_bytes = _read_json_member(archive, config_member, "image config")
    config_hex = hashlib.sha256(config_bytes).hexdigest()
    expected_hex = _expected_config_hex(config_name)
    if expected_hex is not None and expected_hex != config_hex:
        raise InvalidImageTarball(
            f"the image config {config_name!r} does not match its digest "
            f"(its content hashes to sha256:{config_hex}); the tarball is damaged"
        )
    diff_ids = check_image_config(config, config_name)

    layers = entry.get("Layers")
    if not isinstance(layers, list) or not all(isinstance(name, str) for name in layers):
        raise InvalidImageTarball("manifest.json's image has no list of Layers")
    if len(layers) != len(diff_ids):
        raise InvalidImageTarball(
            f"manifest.json lists {len(layers)} layers but the image config has {len(diff_ids)}; the tarball is damaged"
        )
    for layer_name in layers:
        if members.regular_file(layer_name) is None:
            raise InvalidImageTarball(
                f"the layer {layer_name!r} named in manifest.json is not in the tarball; the tarball is incomplete"
            )

    repo_tags = entry.get("RepoTags") or []
    if not isinstance(repo_tags, list):
        repo_tags = []
    return f"sha256:{config_hex}", [str(tag) for tag in repo_tags], len(layers)


def _open_archive(path: str) -> tarfile.TarFile:
    # "r:*": docker load also takes a gzip/bzip2/xz-compressed tarball.
    try:
        return tarfile.open(path, mode="r:*")
    except (tarfile.ReadError, EOFError) as exc:
        raise InvalidImageTarball(
            "this file is not a tar archive; upload the file that `docker save IMAGE -o method.tar` writes"
        ) from exc


def inspect_image_tarball(
    path: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    max_unpacked_bytes: int | None = None,
) -> ImageTarballInfo:
    """Check that `path` is a `docker save` tarball of exactly one image, without extracting.

    `sha256` (hex) is the digest already computed while the file streamed in; without it
    the file is read once more to compute it. `max_unpacked_bytes` bounds the sum of the
    member sizes (default: the upload limit), which matters for a compressed tarball.
    Raises InvalidImageTarball with a reason meant for the submitter.
    """
    path = os.fspath(path)
    limit = upload_max_bytes() if max_unpacked_bytes is None else max_unpacked_bytes
    try:
        with _open_archive(path) as archive:
            image_id, repo_tags, layer_count = _inspect_open_archive(archive, limit)
        # Every layer is read as `docker load` would expand it (gzip and xz too), counting,
        # extracting nothing: a 20 MB layer that expands to 20 GB is refused here.
        image_tarball.inspect_layers(path, max_expanded_bytes=settings.FOOTPRINT_IMAGE_MAX_EXPANDED_BYTES)
    except FileNotFoundError:
        raise
    except image_tarball.TarballRefused as exc:
        raise InvalidImageTarball(exc.reason) from exc
    except (tarfile.TarError, EOFError, OSError) as exc:
        # A truncated or corrupt archive surfaces only while reading members.
        raise InvalidImageTarball(f"the tar archive is damaged or truncated ({exc}); save the image again") from exc
    return ImageTarballInfo(
        image_id=image_id,
        sha256=sha256 or _sha256_file(path),
        size_bytes=os.path.getsize(path),
        repo_tags=repo_tags,
        layers=layer_count,
    )


# ---------------------------------------------------------------------------------------
# Storing the tarball


@dataclass(frozen=True)
class StoredTarball:
    path_relative: str  # name inside Footprint's storage, e.g. "submissions/<hex>.tar"
    sha256: str
    size_bytes: int


def submission_tarball_name() -> str:
    """A new name for a tarball in Footprint's storage: random, never the submitter's."""
    return f"submissions/{secrets.token_hex(16)}.tar"


def store_submission_tarball(uploaded_file: HashedTemporaryUploadedFile) -> StoredTarball:
    """Store an inspected upload as `submissions/<random hex>.tar` in Footprint's storage,
    without the names its manifest carries (store_tarball_file)."""
    return store_tarball_file(uploaded_file.temporary_file_path())


def store_tarball_file(source: str | os.PathLike[str]) -> StoredTarball:
    """Store the inspected tarball at `source` in Footprint's storage, under a random name
    (never the submitter's), without the names its manifest carries.

    What is stored is a copy without `RepoTags`, `repositories` and OCI name annotations
    (runners.image_tarball), which `docker load` would apply on a runner; the image (its
    config, layers and id) is unchanged. The sha256 and size are the stored copy's.
    """
    name = submission_tarball_name()
    source = os.fspath(source)
    with tempfile.NamedTemporaryFile(dir=os.path.dirname(source), suffix=".tar") as copy:
        hashing = _HashingWriter(copy)
        try:
            image_tarball.copy_without_names(
                source, hashing, max_expanded_bytes=settings.FOOTPRINT_IMAGE_MAX_EXPANDED_BYTES
            )
        except image_tarball.TarballRefused as exc:
            raise InvalidImageTarball(exc.reason) from exc
        copy.flush()
        copy.seek(0)
        # Footprint's own storage: never MEDIA, never served by the site.
        stored_name = footprint_storage().save(name, File(copy))
    return StoredTarball(path_relative=stored_name, sha256=hashing.hexdigest(), size_bytes=hashing.size)


class _HashingWriter(io.RawIOBase):
    """A binary sink that hashes and counts what goes through it into `target`."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target, self._hash, self.size = target, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self._hash.update(data)
        self.size += len(data)
        self._target.write(data)
        return len(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 (hex) of a file, read once in pieces."""
    return _sha256_file(os.fspath(path))


# ---------------------------------------------------------------------------------------
# Uploads in pieces (the API's resumable upload): each request appends at an offset


class TarballPieceRefused(ValueError):
    """A piece that cannot be appended; `reason` says why, for the client."""

    def __init__(self, reason: str, *, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def tarball_piece_write(
    *, path: str | os.PathLike[str], offset: int, stream: IO[bytes], total_bytes: int, chunk_bytes: int = 2**20
) -> int:
    """Append what `stream` holds to the file at `path`, from `offset`; the new offset.

    The file is cut at `offset` first (bytes past it were never acknowledged). Nothing is
    written past `total_bytes`, the size declared when the upload began (itself within the
    upload limit): a longer piece is refused while it streams, like the web upload. When
    the client goes away mid-piece, the bytes that did arrive stay: whatever happens, the
    file's size is the offset the upload continues from.
    """
    if total_bytes > upload_max_bytes():
        raise TarballPieceRefused(upload_too_large_reason(upload_max_bytes()), code="too_large")
    written = offset
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.truncate()
        try:
            while True:
                chunk = stream.read(chunk_bytes)
                if not chunk:
                    break
                if written + len(chunk) > total_bytes:
                    handle.write(chunk[: total_bytes - written])
                    raise TarballPieceRefused(
                        f"this piece goes past the {total_bytes} bytes declared when the upload began; "
                        "send the rest of the file only, or begin a new upload",
                        code="past_declared_size",
                    )
                handle.write(chunk)
                written += len(chunk)
        finally:
            handle.flush()
            os.fsync(handle.fileno())
    return written
