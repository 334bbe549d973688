"""Image tarballs made to hurt the runner: names that re-point its images, volumes, layer
bombs, too many layers, paths out of the tree, device files. None reaches the engine."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import docker.errors
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.hostile]


def save(docker_client, tag: str, path: Path) -> None:
    with open(path, "wb") as f:
        for chunk in docker_client.images.get(tag).save(named=True):
            f.write(chunk)


def rewrite(source: Path, destination: Path, change) -> None:
    """Copy a tarball member by member; change(name, bytes) returns new bytes or None to keep."""
    with tarfile.open(source) as src, tarfile.open(destination, "w") as out:
        for member in src:
            data = src.extractfile(member).read() if member.isfile() else None
            new = change(member.name, data) if data is not None else None
            if new is not None:
                member.size = len(new)
                out.addfile(member, io.BytesIO(new))
            else:
                out.addfile(member, io.BytesIO(data) if data is not None else None)


def tarball(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w") as out:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            out.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def info(name: str, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    return member


def image_of(layers: list[str]) -> tuple[bytes, str]:
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64] * len(layers)},
        }
    ).encode()
    import hashlib

    return config, hashlib.sha256(config).hexdigest()


def test_names_in_a_tarball_never_re_point_the_runners_images(
    build_test_image, docker_client, job_spec, run, runtime_image, tmp_path
):
    runtime_before = docker_client.images.get(runtime_image).id
    tag = build_test_image(
        'COPY compress /usr/local/bin/compress\nLABEL org.footprint.test.hijack="1"\n',
        {"compress": '#!/usr/bin/env python3\nimport footprint_sdk\nfootprint_sdk.write_method("x")\n'},
    )
    image_id = docker_client.images.get(tag).id
    saved, hijack = tmp_path / "saved.tar", tmp_path / "hijack.tar"
    save(docker_client, tag, saved)

    def name_it(name: str, data: bytes) -> bytes | None:
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest[0]["RepoTags"] = [runtime_image, "footprint/base:bookworm"]
            return json.dumps(manifest).encode()
        if name == "index.json":
            index = json.loads(data)
            for entry in index["manifests"]:
                entry.setdefault("annotations", {})["io.containerd.image.name"] = f"docker.io/{runtime_image}"
                entry["annotations"]["org.opencontainers.image.ref.name"] = runtime_image.split(":")[-1]
            return json.dumps(index).encode()
        return None

    rewrite(saved, hijack, name_it)
    docker_client.images.remove(tag, force=True)  # the runner must load it from the tarball
    try:
        document, _ = run(job_spec(tag, image_id=image_id, tarball=hijack))
        assert document["status"] in ("succeeded", "failed")
        assert docker_client.images.get(runtime_image).id == runtime_before
        loaded = docker_client.images.get(image_id)
        assert loaded.tags == []  # loaded by id, without any of its names
    finally:
        try:
            docker_client.images.remove(image_id, force=True)
        except docker.errors.ImageNotFound:
            pass


def test_an_image_volume_leaves_no_volume_behind(build_test_image, docker_client, job_spec, run):
    tag = build_test_image(
        "COPY compress /usr/local/bin/compress\nVOLUME /data\n",
        {
            "compress": '#!/usr/bin/env python3\nimport os, shutil, footprint_sdk\nassert os.path.isdir("/data")\n'
            'shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")\n'
            'footprint_sdk.write_method("volume")\n'
        },
    )
    before = {v.name for v in docker_client.volumes.list()}
    document, _ = run(job_spec(tag))
    assert document["status"] == "succeeded", document["failure"]
    assert {v.name for v in docker_client.volumes.list()} == before


def test_a_layer_that_expands_past_the_limit_is_refused_before_docker_load(job_spec, run, runtime_image, tmp_path):
    bomb = gzip.compress(bytes(128 << 20))  # 128 MiB of zeros in ~130 KB
    config, config_hex = image_of(["layer"])
    path = tarball(
        tmp_path / "bomb.tar",
        [
            (info("manifest.json"), json.dumps([{"Config": f"{config_hex}.json", "Layers": ["l/layer.tar"]}]).encode()),
            (info(f"{config_hex}.json"), config),
            (info("l/layer.tar"), bomb),
        ],
    )
    spec = job_spec(
        runtime_image, image_id=f"sha256:{config_hex}", tarball=path, limits={"image_max_expanded_bytes": 32 << 20}
    )
    document, _ = run(spec)
    assert document["failure"]["code"] == "image_refused"
    assert "expand to more than the limit of 32 MiB" in document["failure"]["reason"]


def test_thousands_of_layers_are_refused(job_spec, run, runtime_image, tmp_path):
    layers = [f"l{k}/layer.tar" for k in range(1000)]
    config, config_hex = image_of(layers)
    empty = io.BytesIO()
    tarfile.open(fileobj=empty, mode="w").close()
    members = [(info("manifest.json"), json.dumps([{"Config": f"{config_hex}.json", "Layers": layers}]).encode())]
    members.append((info(f"{config_hex}.json"), config))
    members += [(info(name), empty.getvalue()) for name in layers]
    document, _ = run(
        job_spec(runtime_image, image_id=f"sha256:{config_hex}", tarball=tarball(tmp_path / "many.tar", members))
    )
    assert document["failure"]["code"] == "image_refused"
    assert "more than 128 layers" in document["failure"]["reason"]


@pytest.mark.parametrize(
    "member",
    [info("../outside"), info("/etc/passwd"), info("dev", tarfile.CHRTYPE)],
    ids=["dot-dot", "absolute", "device"],
)
def test_members_outside_the_tree_or_devices_are_refused(job_spec, run, runtime_image, tmp_path, member):
    path = tarball(tmp_path / "bad.tar", [(member, b"x" if member.isfile() else None)])
    document, _ = run(job_spec(runtime_image, image_id="sha256:" + "cd" * 32, tarball=path))
    assert document["failure"]["code"] == "image_refused"
    assert "unsafe member name" in document["failure"]["reason"] or "device" in document["failure"]["reason"]
