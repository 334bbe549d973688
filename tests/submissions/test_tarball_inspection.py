"""inspect_image_tarball: real docker save layouts pass, everything else says why not."""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from pathlib import Path

import pytest

from submissions.uploads import (
    ImageTarballInfo,
    InvalidImageTarball,
    inspect_image_tarball,
)
from tests.factories.tarballs import TarMember, docker_save_tarball, image_parts


def _write(tmp_path: Path, data: bytes, name: str = "method.tar") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _reason(tmp_path: Path, data: bytes, **kwargs: object) -> str:
    with pytest.raises(InvalidImageTarball) as caught:
        inspect_image_tarball(_write(tmp_path, data), **kwargs)
    return caught.value.reason


@pytest.mark.parametrize("layout", ["legacy", "oci"])
def test_it_reads_a_docker_save_tarball(tmp_path: Path, layout: str) -> None:
    data, image_id = docker_save_tarball(layout=layout)
    info = inspect_image_tarball(_write(tmp_path, data))
    assert info == ImageTarballInfo(
        image_id=image_id,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        repo_tags=["footprint-test/method:0"],
        layers=1,
    )


def test_it_uses_the_digest_computed_while_streaming(tmp_path: Path) -> None:
    data, _ = docker_save_tarball()
    info = inspect_image_tarball(_write(tmp_path, data), sha256="ab" * 32)
    assert info.sha256 == "ab" * 32


def test_it_reads_a_gzipped_tarball_like_docker_load_does(tmp_path: Path) -> None:
    data, image_id = docker_save_tarball()
    info = inspect_image_tarball(_write(tmp_path, gzip.compress(data), "method.tar.gz"))
    assert info.image_id == image_id


def test_it_rejects_a_file_that_is_not_a_tar(tmp_path: Path) -> None:
    assert "this file is not a tar archive" in _reason(tmp_path, b"PK\x03\x04 not a tar" * 50)


def test_it_rejects_an_empty_file(tmp_path: Path) -> None:
    assert "this file is not a tar archive" in _reason(tmp_path, b"")


def test_it_rejects_a_tar_without_manifest(tmp_path: Path) -> None:
    data, _ = docker_save_tarball(without=["manifest.json"])
    reason = _reason(tmp_path, data)
    assert "the tarball has no manifest.json: it is not a `docker save` image" in reason


def test_it_rejects_a_tarball_of_two_images(tmp_path: Path) -> None:
    data, _ = docker_save_tarball(images=2)
    assert "the tarball holds 2 images; upload one" in _reason(tmp_path, data)


def test_it_rejects_an_oci_index_of_two_images_behind_a_one_image_manifest(
    tmp_path: Path,
) -> None:
    first = image_parts(tag="a:0", text="image 0\n", layout="oci")
    data, _ = docker_save_tarball(layout="oci", images=2, manifest_override=[first.manifest_entry])
    assert "the tarball holds 2 images (index.json); upload one" in _reason(tmp_path, data)


def test_it_rejects_a_manifest_without_images(tmp_path: Path) -> None:
    data, _ = docker_save_tarball(manifest_override=[])
    assert "manifest.json lists no image" in _reason(tmp_path, data)


def test_it_rejects_a_manifest_that_is_not_json(tmp_path: Path) -> None:
    data, _ = docker_save_tarball(without=["manifest.json"], extra_members=[TarMember("manifest.json", b"{not json")])
    assert "the manifest (manifest.json) is not valid JSON" in _reason(tmp_path, data)


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        (TarMember("../../etc/cron.d/evil", b"x"), "unsafe member name '../../etc/cron.d/evil'"),
        (TarMember("/etc/passwd", b"x"), "unsafe member name '/etc/passwd'"),
        (TarMember("layers/../../escape", b"x"), "unsafe member name 'layers/../../escape'"),
        (
            TarMember("escape-link", type=tarfile.SYMTYPE, linkname="../../../etc/shadow"),
            "unsafe member 'escape-link'",
        ),
        (
            TarMember("absolute-link", type=tarfile.SYMTYPE, linkname="/etc/shadow"),
            "unsafe member 'absolute-link'",
        ),
        (
            TarMember("hard-link", type=tarfile.LNKTYPE, linkname="../outside"),
            "unsafe member 'hard-link'",
        ),
        (TarMember("device", type=tarfile.CHRTYPE), "unsafe member 'device'"),
        (TarMember("pipe", type=tarfile.FIFOTYPE), "unsafe member 'pipe'"),
    ],
)
@pytest.mark.parametrize("interpreter", ["with tarfile.data_filter", "without it (Python < 3.11.4)"])
def test_it_rejects_unsafe_members(
    tmp_path: Path, member: TarMember, expected: str, interpreter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if interpreter.startswith("without"):
        # Debian bookworm's python3 (3.11.2, the deployment's offline images) has no PEP 706.
        monkeypatch.delattr(tarfile, "data_filter")
    data, _ = docker_save_tarball(extra_members=[member])
    assert expected in _reason(tmp_path, data)


@pytest.mark.parametrize("interpreter", ["with tarfile.data_filter", "without it (Python < 3.11.4)"])
def test_it_accepts_a_layer_that_links_to_another_layer_inside_the_tarball(
    tmp_path: Path, interpreter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if interpreter.startswith("without"):
        monkeypatch.delattr(tarfile, "data_filter")
    # Docker <= 24 writes a repeated layer as a relative symbolic link to the first copy.
    parts = image_parts()
    layer_name = parts.manifest_entry["Layers"][0]
    entry = dict(parts.manifest_entry, Layers=["linked/layer.tar"])
    data, image_id = docker_save_tarball(
        manifest_override=[entry],
        extra_members=[
            TarMember("linked/", type=tarfile.DIRTYPE),
            TarMember("linked/layer.tar", type=tarfile.SYMTYPE, linkname=f"../{layer_name}"),
        ],
    )
    assert inspect_image_tarball(_write(tmp_path, data)).image_id == image_id


def test_it_rejects_a_missing_layer(tmp_path: Path) -> None:
    layer_name = image_parts().manifest_entry["Layers"][0]
    data, _ = docker_save_tarball(without=[layer_name])
    reason = _reason(tmp_path, data)
    assert f"the layer '{layer_name}' named in manifest.json is not in the tarball" in reason


def test_it_rejects_a_missing_config(tmp_path: Path) -> None:
    config_name = image_parts().manifest_entry["Config"]
    data, _ = docker_save_tarball(without=[config_name])
    assert f"the image config '{config_name}' named in manifest.json" in _reason(tmp_path, data)


@pytest.mark.parametrize("layout", ["legacy", "oci"])
def test_it_rejects_a_config_that_does_not_match_its_digest(tmp_path: Path, layout: str) -> None:
    config_name = image_parts(layout=layout).manifest_entry["Config"]
    tampered = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {}}).encode()
    data, _ = docker_save_tarball(
        layout=layout, without=[config_name], extra_members=[TarMember(config_name, tampered)]
    )
    assert "does not match its digest" in _reason(tmp_path, data)


def test_it_rejects_a_config_that_is_not_an_image_config(tmp_path: Path) -> None:
    config_bytes = json.dumps({"hello": "world"}).encode()
    config_name = f"{hashlib.sha256(config_bytes).hexdigest()}.json"
    entry = dict(image_parts().manifest_entry, Config=config_name)
    data, _ = docker_save_tarball(manifest_override=[entry], extra_members=[TarMember(config_name, config_bytes)])
    assert "lacks architecture, os, rootfs" in _reason(tmp_path, data)


def test_it_rejects_layers_that_do_not_match_the_config(tmp_path: Path) -> None:
    entry = image_parts().manifest_entry
    entry = dict(entry, Layers=entry["Layers"] * 2)
    data, _ = docker_save_tarball(manifest_override=[entry])
    assert "manifest.json lists 2 layers but the image config has 1" in _reason(tmp_path, data)


def test_it_rejects_a_member_that_appears_twice(tmp_path: Path) -> None:
    data, _ = docker_save_tarball(extra_members=[TarMember("manifest.json", b"[]")])
    assert "the tarball has the member 'manifest.json' twice" in _reason(tmp_path, data)


def test_it_rejects_content_larger_than_the_cap_once_unpacked(tmp_path: Path) -> None:
    data, _ = docker_save_tarball()
    reason = _reason(tmp_path, gzip.compress(data), max_unpacked_bytes=1000)
    assert "larger than the limit of 1000 bytes once unpacked" in reason


def test_it_rejects_a_truncated_tarball(tmp_path: Path) -> None:
    data, _ = docker_save_tarball()
    # Cut inside the layer member's data: headers before it are intact.
    for cut in (data[: len(data) // 3], gzip.compress(data[: len(data) // 3])):
        assert "the tar archive is damaged or truncated" in _reason(tmp_path, cut)


# An upload is refused before it is queued when loading it would hurt a runner.


def test_it_refuses_an_image_that_declares_a_volume(tmp_path: Path) -> None:
    data, _ = docker_save_tarball(config_extra={"Volumes": {"/data": {}}})
    assert "declares VOLUME /data" in _reason(tmp_path, data)


@pytest.mark.parametrize("layout", ["legacy", "oci"])
def test_it_refuses_a_layer_that_expands_past_the_limit_without_extracting_it(
    tmp_path: Path, settings, layout: str
) -> None:
    settings.FOOTPRINT_IMAGE_MAX_EXPANDED_BYTES = 16 << 20
    data, _ = docker_save_tarball(layout=layout, layer=gzip.compress(bytes(64 << 20)))  # ~65 KB of gzip
    assert len(data) < 1 << 20
    assert "expand to more than the limit of 16 MiB" in _reason(tmp_path, data)


def test_it_refuses_more_layers_than_a_runner_can_stack(tmp_path: Path) -> None:
    extra = [TarMember(f"extra{k}/layer.tar", b"") for k in range(130)]
    data, _ = docker_save_tarball(extra_members=extra)
    assert "more than 128 layers" in _reason(tmp_path, data)
