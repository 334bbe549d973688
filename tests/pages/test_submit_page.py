"""The submit page: hardware classes, the paper, a declared search, the description's limit,
errors beside their fields, and what the progress bar needs."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from benchmarks.models import HardwareClass
from budgets.costs import search_cost_for_result
from submissions.models import Run, Submission
from submissions.services import submission_create
from tests.factories.rows import make_hardware_class, make_run
from tests.factories.scenes import Demo
from tests.factories.tarballs import docker_save_tarball

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload_env(storage_root, upload_tmp, no_dispatch) -> list[int]:
    return no_dispatch


def _form(demo: Demo, **fields: Any) -> dict[str, Any]:
    data, _ = docker_save_tarball(layout="oci")
    values: dict[str, Any] = {
        "name": "pruned on two classes",
        "description": "magnitude pruning",
        "benchmark": demo.benchmark.slug,
        "division": "standard",
        "tarball": SimpleUploadedFile("method.tar", data, content_type="application/x-tar"),
    }
    values.update(fields)
    return values


def _new(before: set[int]) -> Submission:
    (submission,) = Submission.objects.exclude(pk__in=before)
    return submission


def test_every_field_has_a_label_and_the_page_carries_the_upload_limit(owner_client: Client, demo: Demo) -> None:
    body = owner_client.get("/submissions/new/").content.decode()
    for name in ("name", "description", "benchmark", "paper", "search_device_type", "search_hours", "tarball"):
        assert f'for="id_{name}"' in body, name
    assert 'for="id_hardware_classes_0"' in body and 'for="id_division_0"' in body
    assert 'data-max-bytes="' in body and 'id="upload-bar"' in body and "/static/js/upload.js" in body
    assert 'maxlength="5000"' in body
    assert "<title>Submit a method" in body


def test_runs_are_queued_only_on_the_classes_ticked(owner_client: Client, demo: Demo, upload_env) -> None:
    other = make_hardware_class(name="cpu-other", cpuset="2")
    before = set(Submission.objects.values_list("pk", flat=True))
    response = owner_client.post("/submissions/new/", _form(demo, hardware_classes=[other.name]))
    assert response.status_code == 302
    assert [run.hardware_class.name for run in _new(before).runs.all()] == ["cpu-other"]


def test_with_no_class_ticked_every_active_class_gets_a_run(owner_client: Client, demo: Demo, upload_env) -> None:
    make_hardware_class(name="cpu-other", cpuset="2")
    make_hardware_class(name="cpu-off", cpuset="3", active=False)
    before = set(Submission.objects.values_list("pk", flat=True))
    owner_client.post("/submissions/new/", _form(demo))
    assert sorted(run.hardware_class.name for run in _new(before).runs.all()) == ["cpu-local", "cpu-other"]


def test_the_paper_chosen_is_linked(owner_client: Client, demo: Demo, paper, upload_env) -> None:
    before = set(Submission.objects.values_list("pk", flat=True))
    owner_client.post("/submissions/new/", _form(demo, paper=paper.slug))
    assert list(paper.submissions.all()) == [_new(before)]


def test_a_declared_search_is_kept_and_counted_when_method_json_declares_none(
    owner_client: Client, demo: Demo, upload_env
) -> None:
    before = set(Submission.objects.values_list("pk", flat=True))
    fields = {
        "search_device_type": "NVIDIA A100",
        "search_device_count": "4",
        "search_hours": "6",
        "search_energy_kwh": "9.5",
    }
    assert owner_client.post("/submissions/new/", _form(demo, **fields)).status_code == 302
    submission = _new(before)
    assert submission.declared_search == {
        "device_type": "NVIDIA A100",
        "device_count": 4,
        "hours": 6.0,
        "energy_kwh": 9.5,
        "note": "declared on the upload form",
    }
    run = make_run(submission=submission, hardware_class=demo.hardware_class, figures={}, method={"name": "m"})
    cost = search_cost_for_result(result=run.result)
    assert cost.has_declared and cost.declared.device_hours == 24.0 and cost.declared.kwh == 9.5
    page = owner_client.get(f"/submissions/{submission.pk}/").content.decode()
    assert 'id="declared-search"' in page and "NVIDIA A100" in page


def test_method_jsons_own_search_comes_first(owner, demo: Demo, hardware_class) -> None:
    submission = submission_create(
        owner=owner, benchmark=demo.benchmark, name="m", description="", division="standard",
        tarball_path="submissions/x.tar", tarball_sha256="0" * 64, size_bytes=1, image_id="sha256:" + "0" * 64,
        declared_search={"device_type": "on the form", "device_count": 1, "hours": 1.0},
    )  # fmt: skip
    own = {"device_type": "in method.json", "device_count": 2, "hours": 3.0}
    run = make_run(
        submission=submission, hardware_class=hardware_class, figures={}, method={"name": "m", "search": own}
    )
    assert search_cost_for_result(result=run.result).declared.device_type == "in method.json"


def test_a_partial_declared_search_is_refused_beside_its_fields(owner_client: Client, demo: Demo, upload_env) -> None:
    response = owner_client.post("/submissions/new/", _form(demo, search_device_type="TPU v4"))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="form-errors"' in body
    assert body.count('<span class="field-error" data-field="search_') == 2  # how many, how long
    assert 'value="TPU v4"' in body  # what was typed stays


def test_a_description_over_the_limit_is_refused_with_the_limit(owner_client: Client, demo: Demo, upload_env) -> None:
    count = Submission.objects.count()
    response = owner_client.post("/submissions/new/", _form(demo, description="x" * 5001))
    assert response.status_code == 400
    assert "Ensure this value has at most 5000 characters (it has 5001)." in response.content.decode()
    assert Submission.objects.count() == count


def test_the_service_refuses_a_description_over_the_limit_too(owner, demo: Demo) -> None:
    with pytest.raises(ValueError, match="at most 5000 are kept"):
        submission_create(
            owner=owner, benchmark=demo.benchmark, name="m", description="x" * 5001, division="standard",
            tarball_path="submissions/x.tar", tarball_sha256="0" * 64, size_bytes=1, image_id="sha256:" + "0" * 64,
        )  # fmt: skip
    assert not Run.objects.filter(submission__name="m").exists()


def test_a_long_stored_description_is_cut_on_its_page(client: Client, demo: Demo) -> None:
    Submission.objects.filter(pk=demo.fast.pk).update(description="y" * 870_000)
    body = client.get(f"/submissions/{demo.fast.pk}/").content.decode()
    assert len(body) < 60_000
    assert HardwareClass.objects.exists()
