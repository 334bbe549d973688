"""The copy of a submission tarball the runner loads: no names, bounded layers (no Docker)."""

from __future__ import annotations

import gzip
import io
import json
import lzma
import tarfile
from pathlib import Path

import pytest

from runners.image_tarball import TarballRefused, copy_without_names, inspect_layers


def make_tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as out:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return path


LAYER = "blobs/sha256/" + "a" * 64


def image(tmp_path: Path, layer: bytes, **extra: bytes) -> Path:
    manifest = [{"Config": "c.json", "RepoTags": ["footprint/runtime:1", "x:y"], "Layers": [LAYER]}]
    index = {
        "manifests": [
            {
                "digest": "sha256:" + "b" * 64,
                "annotations": {
                    "org.opencontainers.image.ref.name": "1",
                    "io.containerd.image.name": "docker.io/footprint/runtime:1",
                },
            }
        ]
    }
    return make_tarball(
        tmp_path / "image.tar",
        {
            "manifest.json": json.dumps(manifest).encode(),
            "index.json": json.dumps(index).encode(),
            "repositories": b'{"footprint/runtime": {"1": "x"}}',
            "c.json": b"{}",
            LAYER: layer,
            **extra,
        },
    )


def test_every_name_is_removed_and_everything_else_kept(tmp_path):
    out = io.BytesIO()
    report = copy_without_names(str(image(tmp_path, b"layer bytes")), out)
    out.seek(0)
    with tarfile.open(fileobj=out) as copy:
        assert sorted(copy.getnames()) == sorted(["manifest.json", "index.json", "c.json", LAYER])
        manifest = json.loads(copy.extractfile("manifest.json").read())
        index = json.loads(copy.extractfile("index.json").read())
        assert copy.extractfile(LAYER).read() == b"layer bytes"
    assert manifest[0]["RepoTags"] is None and manifest[0]["Layers"] == [LAYER]
    assert index["manifests"][0]["annotations"] == {}
    assert set(report.names_removed) >= {"footprint/runtime:1", "x:y", "repositories"}


@pytest.mark.parametrize("compress", [gzip.compress, lzma.compress], ids=["gzip", "xz"])
def test_a_compressed_layer_is_counted_by_what_it_expands_to(tmp_path, compress):
    path = image(tmp_path, compress(bytes(40 << 20)))
    report = inspect_layers(str(path), max_expanded_bytes=64 << 20)
    assert report.expanded_bytes == 40 << 20 and report.compressed_layers == 1
    with pytest.raises(TarballRefused, match="expand to more than the limit of 16 MiB"):
        inspect_layers(str(path), max_expanded_bytes=16 << 20)


def test_a_bomb_hidden_in_a_second_gzip_member_is_counted_too(tmp_path):
    path = image(tmp_path, gzip.compress(b"small") + gzip.compress(bytes(32 << 20)))
    with pytest.raises(TarballRefused):
        inspect_layers(str(path), max_expanded_bytes=16 << 20)


def test_zstd_layers_are_refused_with_a_reason(tmp_path):
    with pytest.raises(TarballRefused, match="zstd"):
        inspect_layers(str(image(tmp_path, b"\x28\xb5\x2f\xfd" + bytes(100))))


def test_more_layers_than_the_engine_stacks_are_refused(tmp_path):
    members = {f"l{k}/layer.tar": b"" for k in range(130)}
    members["manifest.json"] = b"[]"
    with pytest.raises(TarballRefused, match="more than 128 layers"):
        inspect_layers(str(make_tarball(tmp_path / "many.tar", members)))


def test_a_file_that_is_not_a_tarball_is_refused(tmp_path):
    (tmp_path / "junk").write_bytes(b"\x00junk" * 100)
    with pytest.raises(TarballRefused, match="damaged or truncated"):
        inspect_layers(str(tmp_path / "junk"))
