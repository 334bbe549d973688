"""Quotas (in the database), throttles and rate limits (in the shared cache).

A quota refuses with 429 and Retry-After saying when it frees, for the API and the web
upload alike; a run that failed for the platform's reasons is not charged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from submissions.models import Quota, Run, Submission
from submissions.services import run_ingest_result
from tests.factories.documents import failed_document
from tests.factories.rows import make_submission
from tests.factories.tarballs import docker_save_tarball

pytestmark = pytest.mark.django_db


def submit(api: Any, benchmark: Any, name: str = "m") -> Any:
    data, _ = docker_save_tarball()
    return api.post(
        "/api/v1/submissions/",
        {"name": name, "benchmark": benchmark.slug, "tarball": SimpleUploadedFile("m.tar", data)},
        format="multipart",
    )


@pytest.fixture
def two_a_day(settings: Any) -> None:
    settings.FOOTPRINT_QUOTA_SUBMISSIONS_PER_DAY = 2
    settings.FOOTPRINT_QUOTA_ACTIVE_RUNS = 100


def test_the_daily_quota_answers_429_with_when_it_frees(
    owner_api, owner, benchmark, hardware_class, storage_root, no_dispatch, two_a_day, roomy_throttles
):
    assert submit(owner_api, benchmark).status_code == 201
    assert submit(owner_api, benchmark).status_code == 201
    oldest = Submission.objects.order_by("created").first()
    Submission.objects.filter(pk=oldest.pk).update(created=timezone.now() - timedelta(hours=23))
    refused = submit(owner_api, benchmark)
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"]["code"] == "quota_exceeded"
    assert body["quota"] == {
        "name": "submissions_per_day",
        "limit": 2,
        "used": 2,
        "retry_after_s": body["quota"]["retry_after_s"],
    }
    # The oldest of the two leaves the 24 hours in one hour.
    assert 3500 <= int(refused["Retry-After"]) <= 3602
    assert Submission.objects.count() == 2
    assert list((storage_root / "submissions").iterdir()).__len__() == 2


def test_a_submission_whose_runs_failed_for_the_platforms_reasons_is_not_charged(
    owner_api, owner, benchmark, hardware_class, storage_root, no_dispatch, two_a_day, roomy_throttles
):
    for _ in range(2):
        assert submit(owner_api, benchmark).status_code == 201
    assert submit(owner_api, benchmark).status_code == 429
    # The runner loses its sandbox (an infrastructure failure) on the first one's run...
    lost = Run.objects.order_by("id").first()
    run_ingest_result(
        document=failed_document(
            lost.pk, phase_name="staging", code="runner_error", reason="the runner failed (OSError: disk full)"
        )
    )
    lost.refresh_from_db()
    assert (lost.state, lost.failure_code) == (Run.FAILED, "runner_error")
    # ... so it is not charged, and the next submission passes.
    assert submit(owner_api, benchmark).status_code == 201
    # A failure of the submission's own is charged.
    own = Run.objects.filter(state=Run.QUEUED).order_by("id").first()
    run_ingest_result(document=failed_document(own.pk))
    assert submit(owner_api, benchmark).status_code == 429


def test_active_runs_are_limited_per_user_and_per_benchmark_by_an_operators_row(
    owner_api, owner, stranger_api, benchmark, hardware_class, storage_root, no_dispatch, roomy_throttles
):
    Quota.objects.create(user=owner, benchmark=benchmark, active_runs=1, note="a test")
    assert submit(owner_api, benchmark).status_code == 201
    refused = submit(owner_api, benchmark)
    assert refused.status_code == 429
    assert refused.json()["quota"]["name"] == "active_runs"
    assert refused["Retry-After"] == "60"
    # Another user is not limited by the owner's row.
    assert submit(stranger_api, benchmark).status_code == 201
    # A re-run is a new run: refused too while the first is active, allowed once it finished.
    run = Run.objects.filter(submission__owner=owner).get()
    Run.objects.filter(pk=run.pk).update(state=Run.SUCCEEDED)
    again = owner_api.post(f"/api/v1/runs/{run.pk}/rerun/")
    assert again.status_code == 201, again.json()
    assert owner_api.post(f"/api/v1/runs/{run.pk}/rerun/").status_code == 200  # the one in flight
    other = make_submission(owner=owner, benchmark=benchmark)
    finished = Run.objects.create(submission=other, hardware_class=hardware_class, state=Run.SUCCEEDED)
    assert owner_api.post(f"/api/v1/runs/{finished.pk}/rerun/").status_code == 429


def test_the_web_upload_is_refused_by_the_same_quota_before_it_reads_the_file(
    owner, owner_client: Client, benchmark, hardware_class, storage_root, upload_tmp, no_dispatch, settings
):
    settings.FOOTPRINT_QUOTA_SUBMISSIONS_PER_DAY = 0
    data, _ = docker_save_tarball()
    answer = owner_client.post(
        "/submissions/new/",
        {
            "name": "x",
            "benchmark": benchmark.slug,
            "division": "standard",
            "tarball": SimpleUploadedFile("m.tar", data),
        },
    )
    assert answer.status_code == 429
    assert b"an operator has to raise it" in answer.content
    assert not Submission.objects.exists()
    assert list(upload_tmp.iterdir()) == []


@pytest.fixture(params=["db", "redis"])
def shared_cache(request: pytest.FixtureRequest, settings: Any) -> Any:
    """The database cache (the default), or Redis as in a deployment (FOOTPRINT_CACHE_URL)."""
    if request.param == "db":
        assert settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
        yield
        return
    import os
    import uuid

    import redis

    url = os.environ.get("FOOTPRINT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    prefix = f"footprint-test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}
    }
    yield
    # Only this test's keys: the Redis database may hold others' (never FLUSHDB).
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_throttles_count_in_the_shared_cache_and_say_when_to_come_back(anon_api, benchmark, settings, shared_cache):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "1000/min", "uploads": "1000/min"},
    }
    from rest_framework.test import APIClient

    # Two clients from one address share the count: it lives in the shared cache.
    codes = [anon_api.get("/api/v1/benchmarks/").status_code for _ in range(2)]
    codes += [APIClient().get("/api/v1/benchmarks/").status_code for _ in range(2)]
    assert codes == [200, 200, 200, 429]
    refused = anon_api.get("/api/v1/benchmarks/")
    assert refused.json()["error"]["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60


def test_uploads_have_a_throttle_of_their_own(owner_api, settings, storage_root):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "user": "1000/min", "uploads": "2/h"},
    }
    codes = [owner_api.post("/api/v1/uploads/", {"size_bytes": 10}, format="json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    # Reading is not an upload.
    assert owner_api.get("/api/v1/uploads/").status_code == 200


@pytest.mark.parametrize(
    ("url", "data", "rate"),
    [
        ("/accounts/login/", {"username": "ada", "password": "wrong"}, "FOOTPRINT_RATE_LOGIN"),
        ("/accounts/signup/", {"username": "x", "password1": "a", "password2": "b"}, "FOOTPRINT_RATE_SIGNUP"),
        ("/api/v1/auth/token/", {"username": "ada", "password": "wrong"}, "FOOTPRINT_RATE_LOGIN"),
    ],
)
def test_login_and_sign_up_are_rate_limited(owner, settings, url, data, rate):
    setattr(settings, rate, "2/h")
    client = Client()
    codes = [client.post(url, data).status_code for _ in range(3)]
    assert codes[2] == 429, codes
    assert codes[:2] != [429, 429]
    assert client.post(url, data)["Retry-After"] == "3600"


def test_the_web_upload_is_rate_limited(owner_client, benchmark, settings, storage_root, upload_tmp, no_dispatch):
    settings.FOOTPRINT_RATE_UPLOAD = "1/h"
    form = {"name": "x", "benchmark": benchmark.slug, "division": "standard"}
    first = owner_client.post("/submissions/new/", form)
    assert first.status_code == 400  # no tarball: refused by the form, but counted
    assert owner_client.post("/submissions/new/", form).status_code == 429


def test_one_upload_rate_counts_the_web_form_and_both_api_paths(
    owner, owner_api, owner_client, benchmark, settings, storage_root, upload_tmp, no_dispatch, roomy_throttles
):
    settings.FOOTPRINT_RATE_UPLOAD = "2/h"
    assert owner_api.post("/api/v1/uploads/", {"size_bytes": 10}, format="json").status_code == 201
    assert owner_client.post("/submissions/new/", {"name": "x"}).status_code == 400  # counted, then refused
    refused = submit(owner_api, benchmark)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert owner_api.post("/api/v1/uploads/", {"size_bytes": 10}, format="json").status_code == 429
