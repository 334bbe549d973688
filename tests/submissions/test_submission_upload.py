"""Uploading a submission: a real docker save tarball is stored and queued; anything else
gets a 400 with the reason, and leaves no file behind (neither stored nor temporary)."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from submissions.models import Run, Submission
from submissions.uploads import inspect_image_tarball
from tests.factories.scenes import Demo
from tests.factories.tarballs import TarMember, docker_save_tarball

pytestmark = pytest.mark.django_db


def _form(demo: Demo, data: bytes, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "my int8 method",
        "description": "dynamic quantization",
        "benchmark": demo.benchmark.slug,
        "division": "standard",
        "tarball": SimpleUploadedFile("method.tar", data, content_type="application/x-tar"),
    }
    values.update(fields)
    return values


def _files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


@pytest.fixture
def upload_env(storage_root: Path, upload_tmp: Path, no_dispatch: list[int]) -> dict[str, Any]:
    return {"storage": storage_root, "tmp": upload_tmp, "dispatched": no_dispatch}


def test_it_stores_a_docker_save_tarball_and_queues_a_run(
    owner_client: Client, demo: Demo, upload_env: dict[str, Any], django_capture_on_commit_callbacks
) -> None:
    data, image_id = docker_save_tarball(layout="oci")
    before = set(Submission.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/submissions/new/", _form(demo, data))
    assert response.status_code == 302
    (submission,) = Submission.objects.exclude(pk__in=before)
    assert response["Location"] == f"/submissions/{submission.pk}/"
    assert submission.owner == demo.owner
    assert submission.name == "my int8 method"
    assert submission.division == "standard"
    assert submission.published is False
    assert submission.image_id == image_id
    assert submission.tarball_path.startswith("submissions/")
    stored = upload_env["storage"] / submission.tarball_path
    # What is stored is the image without its names (submissions.uploads), hashed as stored.
    assert submission.tarball_sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert submission.tarball_size_bytes == stored.stat().st_size
    assert inspect_image_tarball(stored).image_id == image_id
    assert _files_under(upload_env["storage"]) == [stored]
    assert _files_under(upload_env["tmp"]) == []
    (run,) = submission.runs.all()
    assert run.state == Run.QUEUED and run.hardware_class == demo.hardware_class
    assert upload_env["dispatched"] == [run.pk]

    page = owner_client.get(response["Location"]).content.decode()
    assert image_id in page and submission.tarball_sha256 in page
    assert "1 run queued" in page


def _assert_refused(client: Client, demo: Demo, env: dict[str, Any], data: bytes, reason: str) -> None:
    count = Submission.objects.count()
    response = client.post("/submissions/new/", _form(demo, data))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="upload-error"' in body
    assert reason in body
    assert Submission.objects.count() == count
    assert _files_under(env["storage"]) == []
    assert _files_under(env["tmp"]) == []
    assert env["dispatched"] == []


def test_it_refuses_a_file_that_is_not_a_tar(owner_client: Client, demo: Demo, upload_env) -> None:
    _assert_refused(owner_client, demo, upload_env, b"\x89PNG\r\n" + b"\x00" * 4000, "this file is not a tar archive")


def test_it_refuses_a_tar_without_manifest(owner_client: Client, demo: Demo, upload_env) -> None:
    data, _ = docker_save_tarball(without=["manifest.json"])
    _assert_refused(
        owner_client,
        demo,
        upload_env,
        data,
        "the tarball has no manifest.json: it is not a `docker save` image",
    )


def test_it_refuses_a_tarball_of_two_images(owner_client: Client, demo: Demo, upload_env) -> None:
    data, _ = docker_save_tarball(images=2)
    _assert_refused(owner_client, demo, upload_env, data, "the tarball holds 2 images; upload one")


def test_it_refuses_a_path_traversal_member(owner_client: Client, demo: Demo, upload_env) -> None:
    data, _ = docker_save_tarball(extra_members=[TarMember("../../../../tmp/owned", b"x")])
    _assert_refused(owner_client, demo, upload_env, data, "unsafe member name &#x27;../../../../tmp/owned&#x27;")


def test_it_refuses_a_link_out_of_the_tarball(owner_client: Client, demo: Demo, upload_env) -> None:
    data, _ = docker_save_tarball(extra_members=[TarMember("evil", type=tarfile.SYMTYPE, linkname="../../etc/passwd")])
    _assert_refused(owner_client, demo, upload_env, data, "unsafe member &#x27;evil&#x27;")


def test_it_refuses_an_upload_over_the_cap_while_streaming(
    owner_client: Client, demo: Demo, upload_env, settings
) -> None:
    data, _ = docker_save_tarball()
    settings.FOOTPRINT_UPLOAD_MAX_BYTES = len(data) - 1
    _assert_refused(
        owner_client,
        demo,
        upload_env,
        data,
        f"the file is larger than the upload limit of {(len(data) - 1) / 1024:.1f} KiB",
    )


def test_the_form_keeps_the_other_fields_after_a_refusal(
    owner_client: Client, demo: Demo, upload_env, settings
) -> None:
    settings.FOOTPRINT_UPLOAD_MAX_BYTES = 1000
    data, _ = docker_save_tarball()
    body = owner_client.post("/submissions/new/", _form(demo, data)).content.decode()
    assert 'value="my int8 method"' in body
    assert "dynamic quantization</textarea>" in body


def test_it_asks_for_a_tarball_when_none_is_sent(owner_client: Client, demo: Demo, upload_env) -> None:
    form = _form(demo, b"")
    del form["tarball"]
    response = owner_client.post("/submissions/new/", form)
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_it_refuses_an_unknown_benchmark_and_division(owner_client: Client, demo: Demo, upload_env) -> None:
    data, _ = docker_save_tarball()
    response = owner_client.post("/submissions/new/", _form(demo, data, benchmark="nope", division="closed"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Select a valid choice." in body
    assert _files_under(upload_env["storage"]) == []
    assert _files_under(upload_env["tmp"]) == []


def test_an_anonymous_upload_is_sent_to_log_in(client: Client, demo: Demo, upload_env) -> None:
    data, _ = docker_save_tarball()
    response = client.post("/submissions/new/", _form(demo, data))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert _files_under(upload_env["storage"]) == []


def test_the_upload_checks_the_csrf_token(owner, demo: Demo, upload_env) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    data, _ = docker_save_tarball()
    response = client.post("/submissions/new/", _form(demo, data))
    assert response.status_code == 403
    assert Submission.objects.filter(name="my int8 method").count() == 0
    assert _files_under(upload_env["storage"]) == []
    assert _files_under(upload_env["tmp"]) == []


def test_the_upload_works_with_a_csrf_token(owner, demo: Demo, upload_env) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    page = client.get("/submissions/new/")
    token = page.cookies["csrftoken"].value
    data, _ = docker_save_tarball()
    response = client.post("/submissions/new/", {**_form(demo, data), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Submission.objects.filter(name="my int8 method").count() == 1
