"""Real `docker save` tarballs built in Python, so upload tests need no Docker engine.

Two layouts: the one Docker <= 24 writes (`<hex>.json` config, `<id>/layer.tar`) and the
one Docker >= 25 writes (an OCI layout under `blobs/sha256/` plus `index.json`, with a
`manifest.json` next to it). Both are what `docker load` accepts.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class TarMember:
    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    linkname: str = ""


def _tar_bytes(members: Iterable[TarMember]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.type = member.type
            info.mode = 0o755 if member.type == tarfile.DIRTYPE else 0o644
            info.mtime = 0
            info.linkname = member.linkname
            if member.type == tarfile.REGTYPE:
                info.size = len(member.data)
                archive.addfile(info, io.BytesIO(member.data))
            else:
                archive.addfile(info)
    return buffer.getvalue()


def layer_tar(text: str = "hello from a test layer\n") -> bytes:
    return _tar_bytes([TarMember("hello.txt", text.encode())])


@dataclass(frozen=True)
class ImageParts:
    """The members of one image in a docker save tarball, and its expected image id."""

    members: list[TarMember]
    manifest_entry: dict
    image_id: str
    config_digest_hex: str


def image_parts(
    *,
    tag: str = "footprint-test/method:0",
    text: str = "image 0\n",
    layout: str = "legacy",
    layer: bytes | None = None,
    config_extra: dict | None = None,
) -> ImageParts:
    """`layer` replaces the layer's bytes (a hostile one); `config_extra` adds to the image's
    run configuration (e.g. {"Volumes": {"/data": {}}})."""
    layer = layer_tar(text) if layer is None else layer
    layer_hex = hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Cmd": ["compress"],
            "Labels": {"org.footprint.test": "1"},
            **(config_extra or {}),
        },
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_hex}"]},
        "history": [{"created_by": "tests/web/tarballs.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_hex = hashlib.sha256(config_bytes).hexdigest()
    if layout == "legacy":
        layer_dir = hashlib.sha256(b"layer-id:" + layer).hexdigest()
        members = [
            TarMember(f"{config_hex}.json", config_bytes),
            TarMember(f"{layer_dir}/", type=tarfile.DIRTYPE),
            TarMember(f"{layer_dir}/VERSION", b"1.0"),
            TarMember(f"{layer_dir}/json", json.dumps({"id": layer_dir}).encode()),
            TarMember(f"{layer_dir}/layer.tar", layer),
        ]
        entry = {
            "Config": f"{config_hex}.json",
            "RepoTags": [tag],
            "Layers": [f"{layer_dir}/layer.tar"],
        }
    elif layout == "oci":
        members = [
            TarMember(f"blobs/sha256/{config_hex}", config_bytes),
            TarMember(f"blobs/sha256/{layer_hex}", layer),
        ]
        entry = {
            "Config": f"blobs/sha256/{config_hex}",
            "RepoTags": [tag],
            "Layers": [f"blobs/sha256/{layer_hex}"],
        }
    else:
        raise ValueError(f"unknown layout {layout!r}")
    return ImageParts(members, entry, f"sha256:{config_hex}", config_hex)


def docker_save_tarball(
    *,
    layout: str = "legacy",
    images: int = 1,
    extra_members: Iterable[TarMember] = (),
    without: Iterable[str] = (),
    manifest_override: object | None = None,
    layer: bytes | None = None,
    config_extra: dict | None = None,
) -> tuple[bytes, str]:
    """A docker save tarball of `images` distinct images; returns (bytes, first image id).

    `without` drops generated members by name (e.g. "manifest.json"), `extra_members` adds
    members after them (hostile ones, or replacements), `manifest_override` replaces
    manifest.json's content.
    """
    all_parts = [
        image_parts(
            tag=f"footprint-test/method:{n}", text=f"image {n}\n", layout=layout, layer=layer, config_extra=config_extra
        )
        for n in range(images)
    ]
    members: list[TarMember] = []
    for parts in all_parts:
        members.extend(parts.members)
    if layout == "oci":
        members.append(TarMember("blobs/", type=tarfile.DIRTYPE))
        members.append(TarMember("blobs/sha256/", type=tarfile.DIRTYPE))
        members.append(TarMember("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'))
        index = {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": f"sha256:{parts.config_digest_hex}",
                    "size": 1,
                }
                for parts in all_parts
            ],
        }
        members.append(TarMember("index.json", json.dumps(index).encode()))
    manifest = [parts.manifest_entry for parts in all_parts]
    manifest_bytes = json.dumps(manifest if manifest_override is None else manifest_override).encode()
    members.append(TarMember("manifest.json", manifest_bytes))
    members.append(
        TarMember(
            "repositories",
            json.dumps({"footprint-test/method": {"1": "x"}}).encode(),
        )
    )
    dropped = set(without)
    kept = [m for m in members if m.name not in dropped]
    return _tar_bytes([*kept, *extra_members]), all_parts[0].image_id
