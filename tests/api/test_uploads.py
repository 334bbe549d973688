"""Uploading an image tarball in pieces: a broken upload continues from its offset, nothing
past the declared size or the upload limit is written, and the digest is checked."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from api.models import TarballUpload
from submissions.models import Submission
from submissions.uploads import inspect_image_tarball
from tests.factories.tarballs import docker_save_tarball

pytestmark = pytest.mark.django_db

PIECE = "application/offset+octet-stream"


def begin(api: APIClient, data: bytes, **extra: Any) -> dict[str, Any]:
    answer = api.post("/api/v1/uploads/", {"size_bytes": len(data), **extra}, format="json")
    assert answer.status_code == 201, answer.json()
    return answer.json()


def piece(api: APIClient, upload_id: int, offset: int, data: bytes) -> Any:
    return api.generic(
        "PATCH", f"/api/v1/uploads/{upload_id}/", data, content_type=PIECE, HTTP_UPLOAD_OFFSET=str(offset)
    )


@pytest.fixture
def tarball() -> tuple[bytes, str]:
    return docker_save_tarball()


def test_an_upload_in_pieces_becomes_a_submission_with_its_runs(
    owner_api, benchmark, hardware_class, storage_root: Path, no_dispatch, tarball, django_capture_on_commit_callbacks
):
    data, image_id = tarball
    upload = begin(owner_api, data, sha256=hashlib.sha256(data).hexdigest())
    third = len(data) // 3
    for start in (0, third, 2 * third):
        end = len(data) if start == 2 * third else start + third
        answer = piece(owner_api, upload["id"], start, data[start:end])
        assert answer.status_code == 200, answer.json()
        assert answer["Upload-Offset"] == str(end)
    assert answer.json()["complete"] is True

    with django_capture_on_commit_callbacks(execute=True):
        made = owner_api.post(
            "/api/v1/submissions/",
            {"name": "pieces", "benchmark": benchmark.slug, "division": "standard", "upload": upload["id"]},
            format="json",
        )
    assert made.status_code == 201, made.json()
    submission = Submission.objects.get(pk=made.json()["id"])
    assert submission.image_id == image_id
    # Stored without the names docker load would apply (submissions.uploads), hashed as stored.
    stored = storage_root / submission.tarball_path
    assert submission.tarball_sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert inspect_image_tarball(stored).image_id == image_id
    assert [run["hardware_class"] for run in made.json()["runs"]] == [hardware_class.name]
    assert no_dispatch == [run["id"] for run in made.json()["runs"]]
    # The upload's own file is gone; it cannot make a second submission.
    assert not (storage_root / TarballUpload.objects.get().path).exists()
    again = owner_api.post(
        "/api/v1/submissions/",
        {"name": "twice", "benchmark": benchmark.slug, "upload": upload["id"]},
        format="json",
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "upload_consumed"


def test_a_broken_piece_keeps_what_arrived_and_the_upload_continues_from_there(
    owner_api, benchmark, storage_root, tarball
):
    data, _ = tarball
    upload = begin(owner_api, data)
    assert piece(owner_api, upload["id"], 0, data[:1000]).status_code == 200
    # A client that lost its connection asks where to go on.
    state = owner_api.head(f"/api/v1/uploads/{upload['id']}/")
    assert state["Upload-Offset"] == "1000"
    # Sending from the wrong offset is refused and says where the upload is.
    wrong = piece(owner_api, upload["id"], 500, data[500:])
    assert wrong.status_code == 409
    assert wrong.json()["error"]["code"] == "offset_mismatch"
    assert "offset 1000" in wrong.json()["error"]["message"]
    assert piece(owner_api, upload["id"], 1000, data[1000:]).json()["complete"] is True
    assert (storage_root / TarballUpload.objects.get().path).read_bytes() == data


def test_nothing_past_the_declared_size_is_written(owner_api, storage_root, tarball):
    data, _ = tarball
    upload = begin(owner_api, data)
    answer = piece(owner_api, upload["id"], 0, data + b"more bytes than declared")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "past_declared_size"
    assert (storage_root / TarballUpload.objects.get().path).stat().st_size == len(data)


def test_an_upload_larger_than_the_limit_is_refused_before_any_byte(owner_api, settings, storage_root):
    settings.FOOTPRINT_UPLOAD_MAX_BYTES = 1000
    answer = owner_api.post("/api/v1/uploads/", {"size_bytes": 1001}, format="json")
    assert answer.status_code == 413
    assert "larger than the upload limit" in answer.json()["error"]["message"]
    assert not TarballUpload.objects.exists()


def test_bytes_that_do_not_hash_to_the_declared_digest_make_no_submission(
    owner_api, benchmark, hardware_class, storage_root, no_dispatch, tarball
):
    data, _ = tarball
    upload = begin(owner_api, data, sha256="0" * 64)
    piece(owner_api, upload["id"], 0, data)
    answer = owner_api.post(
        "/api/v1/submissions/", {"name": "x", "benchmark": benchmark.slug, "upload": upload["id"]}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "digest_mismatch"
    assert not Submission.objects.exists()


def test_an_incomplete_upload_or_a_file_that_is_no_image_makes_no_submission(
    owner_api, benchmark, hardware_class, storage_root, no_dispatch, tarball
):
    data, _ = tarball
    upload = begin(owner_api, data)
    piece(owner_api, upload["id"], 0, data[:10])
    answer = owner_api.post(
        "/api/v1/submissions/", {"name": "x", "benchmark": benchmark.slug, "upload": upload["id"]}, format="json"
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "upload_incomplete")
    junk = b"not a tarball at all" * 10
    other = begin(owner_api, junk)
    piece(owner_api, other["id"], 0, junk)
    answer = owner_api.post(
        "/api/v1/submissions/", {"name": "x", "benchmark": benchmark.slug, "upload": other["id"]}, format="json"
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_tarball")
    assert "not a tar archive" in answer.json()["error"]["message"]
    assert not Submission.objects.exists()


def test_another_users_upload_is_invisible_and_cannot_be_submitted(
    owner_api, stranger_api, benchmark, storage_root, tarball
):
    data, _ = tarball
    upload = begin(owner_api, data)
    piece(owner_api, upload["id"], 0, data)
    assert stranger_api.get(f"/api/v1/uploads/{upload['id']}/").status_code == 404
    assert piece(stranger_api, upload["id"], 0, data).status_code == 404
    answer = stranger_api.post(
        "/api/v1/submissions/", {"name": "x", "benchmark": benchmark.slug, "upload": upload["id"]}, format="json"
    )
    assert answer.status_code == 400
    assert "upload" in answer.json()["error"]["fields"]


def test_a_small_tarball_can_come_in_one_multipart_request(
    owner_api, benchmark, hardware_class, storage_root, upload_tmp, no_dispatch, tarball
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data, image_id = tarball
    answer = owner_api.post(
        "/api/v1/submissions/",
        {
            "name": "one piece",
            "benchmark": benchmark.slug,
            "division": "own",
            "tarball": SimpleUploadedFile("m.tar", data, content_type="application/x-tar"),
        },
        format="multipart",
    )
    assert answer.status_code == 201, answer.json()
    assert Submission.objects.get().image_id == image_id
    assert list(upload_tmp.iterdir()) == []


def test_uploads_left_unfinished_are_removed_with_their_files(owner_api, storage_root, tarball):
    from datetime import timedelta

    from django.utils import timezone

    from api.services import tarball_uploads_expire

    data, _ = tarball
    old, fresh = begin(owner_api, data), begin(owner_api, data)
    piece(owner_api, old["id"], 0, data[:100])
    TarballUpload.objects.filter(pk=old["id"]).update(updated=timezone.now() - timedelta(days=3))
    old_path = storage_root / TarballUpload.objects.get(pk=old["id"]).path
    assert tarball_uploads_expire(idle_s=2 * 24 * 3600) == 1
    assert not old_path.exists()
    assert list(TarballUpload.objects.values_list("pk", flat=True)) == [fresh["id"]]
