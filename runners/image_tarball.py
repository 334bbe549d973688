"""A submission's `docker save` tarball made safe to load: no names, bounded layers.

`docker load` applies the names in a tarball's manifest (`RepoTags`, the legacy
`repositories` file, OCI `ref.name` annotations in index.json) and expands every layer,
gzip and xz included, before any check of ours could run. A submission whose manifest names
`footprint/runtime:1` would re-point the runtime on the runner; a 20 MB gzip layer can expand
to 20 GB. So the runner never loads a submitted tarball as it is: `copy_without_names`
streams it into a new tarball with every name removed, counting each layer's expanded size
as it goes (decompressing in memory-bounded chunks, extracting nothing), and refuses past
the limits. The platform's upload check reads the same way (`inspect_layers`), so that a
bad tarball is refused before it is queued.

Standard library only: imported by the runner and by the platform.
"""

from __future__ import annotations

import io
import json
import lzma
import posixpath
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, BinaryIO

# Docker's overlay2 driver stacks at most 128 layers (and a header bomb is many members).
MAX_LAYERS = 128
MAX_MEMBERS = 100_000
DEFAULT_MAX_EXPANDED_BYTES = 16 * 2**30
_JSON_MAX_BYTES = 8 * 2**20
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_NAME_ANNOTATIONS = ("org.opencontainers.image.ref.name", "io.containerd.image.name")


class TarballRefused(ValueError):
    """The tarball cannot be loaded safely; `reason` says why, in words for the submitter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class LayerReport:
    layers: int = 0
    expanded_bytes: int = 0
    largest_layer_bytes: int = 0
    compressed_layers: int = 0
    names_removed: list[str] = field(default_factory=list)


def _gib(value: int) -> str:
    return f"{value / 2**30:.1f} GiB" if value >= 2**30 else f"{value / 2**20:.0f} MiB"


class _Expansion:
    """Counts a layer's expanded size from its bytes as they stream past."""

    def __init__(self, name: str, report: LayerReport, max_expanded_bytes: int) -> None:
        self.name, self.report, self.max = name, report, max_expanded_bytes
        self.kind: str | None = None
        self._head = b""
        self._decompressor: zlib._Decompress | lzma.LZMADecompressor | None = None
        self.expanded = 0

    def feed(self, data: bytes) -> None:
        if self.kind is None:
            self._head += data
            if len(self._head) < 6 and data:
                return
            head, self._head = self._head, b""
            if head.startswith(_GZIP_MAGIC):
                self.kind, self._decompressor = "gzip", zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif head.startswith(_XZ_MAGIC):
                self.kind, self._decompressor = "xz", lzma.LZMADecompressor()
            elif head.startswith(_ZSTD_MAGIC):
                raise TarballRefused(
                    f"the layer {self.name!r} is zstd-compressed, which Footprint does not open; "
                    "save the image with `docker save` (uncompressed or gzip layers)"
                )
            else:
                self.kind = "plain"
            data = head
        if self._decompressor is None:
            self._count(len(data))
            return
        self._inflate(data)

    def _new_decompressor(self) -> zlib._Decompress | lzma.LZMADecompressor:
        return zlib.decompressobj(16 + zlib.MAX_WBITS) if self.kind == "gzip" else lzma.LZMADecompressor()

    def _inflate(self, data: bytes) -> None:
        """Decompress in bounded chunks; a stream that ends and another that follows
        (concatenated gzip members, as docker's reader accepts) are counted too."""
        while data:
            d = self._decompressor
            if isinstance(d, lzma.LZMADecompressor):
                out = d.decompress(data, max_length=_CHUNK)
                self._count(len(out))
                while not d.needs_input and not d.eof:
                    self._count(len(d.decompress(b"", max_length=_CHUNK)))
                rest = d.unused_data if d.eof else b""
            else:
                assert d is not None
                buffer = data
                while buffer and not d.eof:
                    self._count(len(d.decompress(buffer, _CHUNK)))
                    buffer = d.unconsumed_tail
                rest = d.unused_data if d.eof else b""
            if not rest:
                return
            if not rest.startswith(_GZIP_MAGIC[:1]) and self.kind == "gzip" and not rest.strip(b"\0"):
                return  # padding after the last member
            self._decompressor = self._new_decompressor()
            data = rest

    def finish(self) -> None:
        if self.kind is None and self._head:
            self.kind = "plain"
            self._count(len(self._head))
        if self.kind in ("gzip", "xz"):
            self.report.compressed_layers += 1
        self.report.layers += 1
        self.report.largest_layer_bytes = max(self.report.largest_layer_bytes, self.expanded)

    def _count(self, n: int) -> None:
        self.expanded += n
        self.report.expanded_bytes += n
        if self.report.expanded_bytes > self.max:
            raise TarballRefused(
                f"the image's layers expand to more than the limit of {_gib(self.max)} "
                f"(the layer {self.name!r} alone to {_gib(self.expanded)} so far); shrink the image"
            )


class _CountingReader(io.RawIOBase):
    """Reads a member's data and feeds its layer's expansion count on the way."""

    def __init__(self, source: IO[bytes], expansion: _Expansion | None) -> None:
        self._source, self._expansion = source, expansion

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        if self._expansion is not None and data:
            self._expansion.feed(data)
        buffer[: len(data)] = data
        return len(data)


def _json_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> object:
    if member.size > _JSON_MAX_BYTES:
        raise TarballRefused(f"{member.name} is larger than any docker save writes")
    handle = archive.extractfile(member)
    if handle is None:
        raise TarballRefused(f"{member.name} is not a regular file")
    try:
        return json.loads(handle.read())
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise TarballRefused(f"{member.name} is not valid JSON: {exc}") from exc


def _without_names(name: str, document: object, report: LayerReport) -> object:
    if name == "manifest.json" and isinstance(document, list):
        for entry in document:
            if isinstance(entry, dict) and entry.get("RepoTags"):
                report.names_removed.extend(str(t)[:200] for t in entry["RepoTags"] if isinstance(t, str))
                entry["RepoTags"] = None
    if name == "index.json" and isinstance(document, dict):
        for entry in document.get("manifests") or []:
            annotations = entry.get("annotations") if isinstance(entry, dict) else None
            if isinstance(annotations, dict):
                for key in _NAME_ANNOTATIONS:
                    if key in annotations:
                        report.names_removed.append(str(annotations.pop(key))[:200])
    return document


def _members(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    for count, member in enumerate(archive, start=1):
        if count > MAX_MEMBERS:
            raise TarballRefused(f"the tarball has more than {MAX_MEMBERS} members; it is not a docker save image")
        parts = [p for p in member.name.split("/") if p not in ("", ".")]
        if member.name.startswith("/") or ".." in parts:
            raise TarballRefused(f"the tarball has an unsafe member name {member.name[:200]!r}")
        if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            raise TarballRefused(f"the tarball member {member.name[:200]!r} is a device or special file")
        yield member


def _is_layer_blob(name: str) -> bool:
    """Members whose bytes are layers: `<id>/layer.tar` (legacy) or `blobs/sha256/<hex>` (OCI)
    that are not JSON documents. Configs and manifests are small and checked as JSON."""
    base = posixpath.basename(name)
    return base == "layer.tar" or (posixpath.dirname(name).endswith("blobs/sha256") and len(base) == 64)


def copy_without_names(
    source: str,
    destination: BinaryIO,
    *,
    max_expanded_bytes: int = DEFAULT_MAX_EXPANDED_BYTES,
    max_layers: int = MAX_LAYERS,
) -> LayerReport:
    """Write `source` (a docker save tarball, possibly compressed) to `destination` as an
    uncompressed tarball without names; TarballRefused past the limits or for unsafe members."""
    report = LayerReport()
    try:
        with tarfile.open(source, mode="r:*") as archive, tarfile.open(fileobj=destination, mode="w|") as out:
            for member in _members(archive):
                name = posixpath.normpath(member.name)
                if name == "repositories":
                    report.names_removed.append("repositories")
                    continue
                if member.isfile() and name in ("manifest.json", "index.json"):
                    data = json.dumps(_without_names(name, _json_member(archive, member), report)).encode()
                    info = tarfile.TarInfo(member.name)
                    info.size, info.mode, info.mtime = len(data), member.mode, member.mtime
                    out.addfile(info, io.BytesIO(data))
                    continue
                if not member.isfile():
                    out.addfile(member)
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    raise TarballRefused(f"the tarball member {member.name[:200]!r} cannot be read")
                expansion = _Expansion(name, report, max_expanded_bytes) if _is_layer_blob(name) else None
                out.addfile(member, io.BufferedReader(_CountingReader(handle, expansion), _CHUNK))
                if expansion is not None:
                    expansion.finish()
                    if report.layers > max_layers:
                        raise TarballRefused(f"the image has more than {max_layers} layers; squash it")
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise TarballRefused(f"the tarball is damaged or truncated ({exc})") from exc
    return report


def inspect_layers(
    source: str, *, max_expanded_bytes: int = DEFAULT_MAX_EXPANDED_BYTES, max_layers: int = MAX_LAYERS
) -> LayerReport:
    """Count what `source`'s layers expand to, as copy_without_names would, writing nothing."""
    return copy_without_names(
        source,
        _Discard(),
        max_expanded_bytes=max_expanded_bytes,
        max_layers=max_layers,  # type: ignore[arg-type]
    )


class _Discard(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        return len(data)
