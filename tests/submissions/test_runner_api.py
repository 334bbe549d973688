"""runner-api/v1: a runner's credential, its claim of a job, and the job token that opens only
that job's files; revoking a credential; the runner's own HTTP client against a live server."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from benchmarks.credentials import runner_credential_create
from benchmarks.models import RunnerStatus
from runners.platform_client import PlatformClient, PlatformError, prune_cache
from submissions.claims import runner_credential_revoke
from submissions.models import JobToken, Run
from tests.factories.rows import make_hardware_class, make_run, make_submission

pytestmark = pytest.mark.django_db


def claim(client, secret: str, run: Run, attempt: int = 1):
    return client.post(
        f"/runner-api/v1/runs/{run.pk}/claim",
        {"attempt": attempt, "execution": "e1"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )


def fetch(client, secret: str, run: Run, name: str):
    return client.get(f"/runner-api/v1/runs/{run.pk}/files/{name}", headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def job_files(storage_root: Path, run: Run) -> dict[str, bytes]:
    """The run's tarball and its benchmark's files in the storage, with known bytes."""
    files = {
        run.submission.tarball_path: b"tarball bytes",
        f"{run.submission.benchmark.data_dir}/train.npz": b"train",
        f"{run.submission.benchmark.data_dir}/test.npz": b"test split: labels the runner keeps",
        f"{run.submission.benchmark.data_dir}/reference/model.pt": b"reference",
    }
    for relative, content in files.items():
        (storage_root / relative).parent.mkdir(parents=True, exist_ok=True)
        (storage_root / relative).write_bytes(content)
    return files


def test_a_runner_learns_who_it_is_and_an_unknown_secret_is_refused(client, hardware_class, settings):
    settings.FOOTPRINT_RUNTIME_IMAGE = "sha256:" + "a" * 64
    issued = runner_credential_create(name="lab-a-1", hardware_class=hardware_class)
    answer = client.get("/runner-api/v1/runner", headers={"Authorization": f"Bearer {issued.secret}"})
    assert answer.status_code == 200
    assert answer.json() == {
        "runner": "lab-a-1",
        "hardware_class": hardware_class.name,
        "runtime_image": "sha256:" + "a" * 64,
        "key": issued.credential.pk,
    }
    forged = client.get("/runner-api/v1/runner", headers={"Authorization": "Bearer lab-a-1.guessed"})
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "credential_unknown"
    assert client.get("/runner-api/v1/runner").status_code == 401


def test_a_claim_gives_a_token_that_opens_this_jobs_files_and_no_other(client, run, hardware_class, job_files, owner):
    issued = runner_credential_create(name="lab-a-1", hardware_class=hardware_class)
    answer = claim(client, issued.secret, run)
    assert answer.status_code == 200, answer.content
    token = answer.json()["token"]
    run.refresh_from_db()
    assert run.runner_host == "lab-a-1"
    assert JobToken.objects.get().credential == issued.credential

    tarball = fetch(client, token, run, "submission.tar")
    assert tarball.status_code == 200 and b"".join(tarball.streaming_content) == b"tarball bytes"
    assert b"".join(fetch(client, token, run, "benchmark/test.npz").streaming_content).startswith(b"test split")
    assert fetch(client, token, run, "benchmark/../../../etc/passwd").status_code == 404
    assert fetch(client, token, run, "benchmark/manifest.json").status_code == 404
    # Another run's files: the token opens nothing of them, nor does the credential itself.
    other = make_run(
        submission=make_submission(owner=owner, benchmark=run.submission.benchmark), hardware_class=hardware_class
    )
    assert fetch(client, token, other, "submission.tar").status_code == 403
    assert fetch(client, issued.secret, run, "submission.tar").status_code == 403


def test_an_expired_token_opens_nothing(client, run, hardware_class, job_files):
    issued = runner_credential_create(name="lab-a-1", hardware_class=hardware_class)
    token = claim(client, issued.secret, run).json()["token"]
    JobToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = fetch(client, token, run, "submission.tar")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "token_expired"


def test_a_runner_of_another_class_cannot_claim(client, run):
    other_class = make_hardware_class(name="gpu-other", cpuset="2")
    issued = runner_credential_create(name="gpu-1", hardware_class=other_class)
    refused = claim(client, issued.secret, run)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "wrong_hardware_class"
    assert not JobToken.objects.exists()


def test_a_finished_run_is_not_claimed_and_the_late_delivery_is_recorded(client, owner, benchmark, hardware_class):
    finished = make_run(submission=make_submission(owner=owner, benchmark=benchmark), hardware_class=hardware_class)
    issued = runner_credential_create(name="lab-a-1", hardware_class=hardware_class)
    refused = claim(client, issued.secret, finished)
    assert refused.status_code == 410 and refused.json()["error"]["code"] == "run_finished"
    assert finished.transitions.filter(ignored=True, reason__contains="lab-a-1 was given the job again").exists()


def test_a_stale_attempt_is_refused(client, run, hardware_class):
    issued = runner_credential_create(name="lab-a-1", hardware_class=hardware_class)
    Run.objects.filter(pk=run.pk).update(attempt=2)
    assert claim(client, issued.secret, run, attempt=1).json()["error"]["code"] == "stale_attempt"


def test_a_second_runner_is_refused_while_the_holder_works_and_takes_over_once_it_is_gone(client, run, hardware_class):
    first = runner_credential_create(name="lab-a-1", hardware_class=hardware_class)
    second = runner_credential_create(name="lab-a-2", hardware_class=hardware_class)
    assert claim(client, first.secret, run).status_code == 200
    # The holder's heartbeat lists the run: it is working on it.
    RunnerStatus.objects.create(
        runner_id="lab-a-1", host="h", hardware_class_name=hardware_class.name, state="busy", running=[run.pk]
    )
    refused = claim(client, second.secret, run)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "held_by_another_runner"
    # Its next heartbeat no longer lists the run (it was restarted): the other runner takes it.
    RunnerStatus.objects.filter(runner_id="lab-a-1").update(running=[], last_seen=timezone.now() + timedelta(seconds=1))
    assert claim(client, second.secret, run).status_code == 200
    first_token, second_token = JobToken.objects.order_by("created", "id")
    assert first_token.superseded_at is not None and second_token.superseded_at is None
    run.refresh_from_db()
    assert run.runner_host == "lab-a-2"


def test_a_revoked_credential_claims_and_fetches_nothing_and_its_run_goes_to_others(
    client, run, hardware_class, job_files, owner, no_dispatch, django_capture_on_commit_callbacks
):
    issued = runner_credential_create(name="lab-a-1", hardware_class=hardware_class)
    token = claim(client, issued.secret, run).json()["token"]
    Run.objects.filter(pk=run.pk).update(state=Run.COMPRESSING)
    with django_capture_on_commit_callbacks(execute=True):
        counts = runner_credential_revoke(credential=issued.credential, by=owner)
    assert counts == {"requeued": 1, "failed": 0}
    run.refresh_from_db()
    assert (run.state, run.attempt) == (Run.QUEUED, 2) and no_dispatch == [run.pk]
    assert fetch(client, token, run, "submission.tar").json()["error"]["code"] == "credential_revoked"
    refused = claim(client, issued.secret, run, attempt=2)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "credential_revoked"
    assert client.get("/runner-api/v1/runner", headers={"Authorization": f"Bearer {issued.secret}"}).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_runners_client_claims_fetches_checks_and_caches_by_hash(live_server, tmp_path, settings):
    from django.contrib.auth import get_user_model

    from benchmarks.models import HardwareClass
    from tests.factories.rows import make_benchmark

    settings.FOOTPRINT_STORAGE_ROOT = tmp_path / "storage"
    owner = get_user_model().objects.create_user(username="ada", password="unused-password-1")
    hardware_class = HardwareClass.objects.create(name="cpu-live", cpuset="0")
    run = Run.objects.create(
        submission=make_submission(owner=owner, benchmark=make_benchmark()), hardware_class=hardware_class
    )
    stored = settings.FOOTPRINT_STORAGE_ROOT / run.submission.tarball_path
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"x" * 3_000_000)
    sha256 = hashlib.sha256(stored.read_bytes()).hexdigest()
    issued = runner_credential_create(name="lab-live", hardware_class=hardware_class)

    client = PlatformClient(live_server.url, issued.secret)
    assert client.whoami().runner_id == "lab-live"
    token = client.claim(run_id=run.pk, attempt=1, execution="e1")
    url = f"{live_server.url}/runner-api/v1/runs/{run.pk}/files/submission.tar"
    cache = tmp_path / "cache"
    path = client.fetch(url, sha256=sha256, token=token, cache_dir=cache)
    assert path == cache / sha256 and path.read_bytes() == stored.read_bytes()
    stored.write_bytes(b"changed on the platform")  # cached by hash: not fetched again
    assert client.fetch(url, sha256=sha256, token=token, cache_dir=cache).read_bytes()[:1] == b"x"
    with pytest.raises(PlatformError) as wrong:
        client.fetch(url, sha256="0" * 64, token=token, cache_dir=cache)
    assert wrong.value.code == "checksum_mismatch" and sorted(p.name for p in cache.iterdir()) == [sha256]
    with pytest.raises(PlatformError) as foreign:
        client.fetch("http://example.invalid/x", sha256="0" * 64, token=token, cache_dir=cache)
    assert foreign.value.code == "foreign_location"
    runner_credential_revoke(credential=issued.credential, by=None)
    with pytest.raises(PlatformError) as revoked:
        client.claim(run_id=run.pk, attempt=1, execution="e2")
    assert revoked.value.credential_refused


def test_the_cache_keeps_its_size_by_dropping_the_least_recently_used(tmp_path):
    import os

    for n, name in enumerate(["a" * 64, "b" * 64, "c" * 64]):
        (tmp_path / name).write_bytes(b"." * 100)
        os.utime(tmp_path / name, (1000 + n, 1000 + n))
    assert prune_cache(tmp_path, max_bytes=200, keep={"a" * 64}) == ["b" * 64]
    assert sorted(p.name[0] for p in tmp_path.iterdir()) == ["a", "c"]
