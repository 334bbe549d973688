"""manage.py seed_demo: benchmark, hardware class, demo user and example submissions, once."""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from benchmarks.models import Benchmark, HardwareClass
from submissions.models import Run, Submission
from tests.factories.tarballs import docker_save_tarball

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_dispatch(monkeypatch):
    from submissions import tasks

    monkeypatch.setattr(tasks.dispatch_run, "delay", lambda run_id: None)


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_it_seeds_the_benchmark_the_local_class_and_a_demo_user_without_a_password(digits_storage, monkeypatch):
    monkeypatch.delenv("FOOTPRINT_DEMO_PASSWORD", raising=False)
    _seed()
    assert Benchmark.objects.filter(slug="digits").count() == 1
    hardware_class = HardwareClass.objects.get(name="cpu-local")
    assert (hardware_class.cores, hardware_class.cpuset) == (1, str(max(os.sched_getaffinity(0))))
    assert hardware_class.cpu_description
    assert not get_user_model().objects.get(username="demo").has_usable_password()


def test_the_demo_password_comes_from_the_environment(digits_storage, monkeypatch):
    monkeypatch.setenv("FOOTPRINT_DEMO_PASSWORD", "a-demo-password-9")
    _seed()
    assert get_user_model().objects.get(username="demo").check_password("a-demo-password-9")


def test_example_tarballs_become_published_submissions_once(digits_storage, tmp_path, no_dispatch):
    tarball, image_id = docker_save_tarball()
    examples = tmp_path / "examples"
    examples.mkdir()
    (examples / "identity.tar").write_bytes(tarball)
    _seed("--examples", str(examples))
    output = _seed("--examples", str(examples))
    submission = Submission.objects.get()
    assert (submission.name, submission.image_id, submission.published) == ("method", image_id, True)
    assert submission.owner.username == "demo"
    assert submission.benchmark.slug == "digits"
    stored = digits_storage / submission.tarball_path
    assert stored.read_bytes() == tarball and stored.name != "identity.tar"
    assert [(r.hardware_class.name, r.state) for r in Run.objects.all()] == [("cpu-local", "queued")]
    assert "already submitted" in output


def test_a_file_that_is_not_an_image_is_refused_with_the_reason(digits_storage, tmp_path, no_dispatch):
    bad = tmp_path / "notes.tar"
    bad.write_text("not a tarball")
    with pytest.raises(CommandError, match="notes.tar: this file is not a tar archive"):
        _seed("--examples", str(bad))
    assert not Submission.objects.exists()


def test_a_missing_examples_path_is_refused(digits_storage, tmp_path):
    with pytest.raises(CommandError, match="is neither a file nor a folder"):
        _seed("--examples", str(tmp_path / "nowhere"))


def test_seeding_again_queues_a_demo_run_that_did_not_finish(digits_storage, tmp_path, no_dispatch):
    tarball, _ = docker_save_tarball()
    examples = tmp_path / "examples"
    examples.mkdir()
    (examples / "identity.tar").write_bytes(tarball)
    _seed("--examples", str(examples))
    first = Run.objects.get()
    Run.objects.filter(pk=first.pk).update(state=Run.FAILED, failure_code="runner_lost")

    output = _seed("--examples", str(examples))

    assert "queued again on cpu-local" in output
    assert Run.objects.filter(state=Run.QUEUED).count() == 1
    assert Submission.objects.count() == 1
    _seed("--examples", str(examples))
    assert Run.objects.count() == 2
