"""CappedTemporaryFileUploadHandler: hashes while streaming, stops past the cap."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from submissions.uploads import (
    HashedTemporaryUploadedFile,
    inspect_image_tarball,
    store_submission_tarball,
    upload_rejection,
    use_capped_upload_handler,
)
from tests.factories.tarballs import docker_save_tarball


@pytest.fixture
def upload_tmp(settings, tmp_path: Path) -> Path:
    folder = tmp_path / "upload-tmp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


def _post(data: bytes, *, name: str = "tarball"):
    request = RequestFactory().post(
        "/submissions/new/",
        {"name": "m", name: SimpleUploadedFile("method.tar", data)},
    )
    use_capped_upload_handler(request)
    return request


def test_it_hashes_the_file_while_it_streams_to_disk(settings, upload_tmp: Path) -> None:
    settings.FOOTPRINT_UPLOAD_MAX_BYTES = 1_000_000
    data = bytes(range(256)) * 1000  # 256 kB: several chunks
    request = _post(data)
    uploaded = request.FILES["tarball"]
    assert isinstance(uploaded, HashedTemporaryUploadedFile)
    assert uploaded.sha256 == hashlib.sha256(data).hexdigest()
    assert uploaded.size == len(data)
    assert Path(uploaded.temporary_file_path()).read_bytes() == data
    assert request.POST["name"] == "m"
    assert upload_rejection(request) is None
    uploaded.close()
    assert list(upload_tmp.iterdir()) == []


def test_it_stops_an_upload_past_the_cap_and_leaves_no_file(settings, upload_tmp: Path) -> None:
    settings.FOOTPRINT_UPLOAD_MAX_BYTES = 100_000
    request = _post(b"x" * 300_000)
    assert "tarball" not in request.FILES
    reason = upload_rejection(request)
    assert reason is not None
    assert "larger than the upload limit of 97.7 KiB" in reason
    assert list(upload_tmp.iterdir()) == []


def test_it_accepts_a_file_of_exactly_the_cap(settings, upload_tmp: Path) -> None:
    settings.FOOTPRINT_UPLOAD_MAX_BYTES = 70_000
    request = _post(b"y" * 70_000)
    assert request.FILES["tarball"].size == 70_000
    request.FILES["tarball"].close()


@pytest.mark.parametrize("layout", ["legacy", "oci"])
def test_it_stores_the_tarball_under_a_random_name_without_the_names_docker_load_would_apply(
    settings, upload_tmp: Path, tmp_path: Path, layout: str
) -> None:
    settings.FOOTPRINT_UPLOAD_MAX_BYTES = 1_000_000
    storage_root = tmp_path / "storage"
    settings.FOOTPRINT_STORAGE_ROOT = str(storage_root)
    data, image_id = docker_save_tarball(layout=layout)
    uploaded = _post(data).FILES["tarball"]
    stored = store_submission_tarball(uploaded)
    uploaded.close()
    path = storage_root / stored.path_relative
    assert stored.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert stored.size_bytes == path.stat().st_size
    assert stored.path_relative.startswith("submissions/") and stored.path_relative.endswith(".tar")
    assert "method" not in stored.path_relative  # the submitter's file name is not used
    with tarfile.open(path) as copy:
        manifest = json.loads(copy.extractfile("manifest.json").read())
        assert "repositories" not in copy.getnames()
        if layout == "oci":
            index = json.loads(copy.extractfile("index.json").read())
            assert all("org.opencontainers.image.ref.name" not in m.get("annotations", {}) for m in index["manifests"])
    assert manifest[0]["RepoTags"] is None
    assert inspect_image_tarball(path).image_id == image_id  # the same image, nameless
    assert list(upload_tmp.iterdir()) == []


def test_a_disk_that_fills_up_during_an_upload_ends_it_with_a_reason_and_keeps_nothing(
    settings, tmp_path: Path
) -> None:
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("a real full disk needs a tmpfs of the test's own (root)")
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(small)], check=True)
    try:
        settings.FILE_UPLOAD_TEMP_DIR = str(small)
        settings.FOOTPRINT_UPLOAD_MAX_BYTES = 10 << 20
        request = _post(b"x" * (2 << 20))
        assert "tarball" not in request.FILES
        reason = upload_rejection(request)
        assert reason.startswith("the platform could not store the upload (No space left on device)")
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)
