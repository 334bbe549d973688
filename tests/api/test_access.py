"""Another user's private submission, its runs, logs, results and the claims that measure it
are invisible and unmodifiable through every endpoint of the API (404: as if they did not
exist); a published one that is not yours is visible and still unmodifiable (403)."""

from __future__ import annotations

from typing import Any

import pytest

from papers.models import Claim
from submissions.models import Run
from tests.factories.figures import entry_figures
from tests.factories.rows import make_paper, make_run, make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def private(owner: Any, benchmark: Any, hardware_class: Any, storage_root: Any) -> dict[str, Any]:
    submission = make_submission(owner=owner, benchmark=benchmark, published=False, name="secret method")
    tarball = storage_root / submission.tarball_path
    tarball.parent.mkdir(parents=True)
    tarball.write_bytes(b"the owner's image")
    run = make_run(
        submission=submission,
        hardware_class=hardware_class,
        figures=entry_figures(),
        meets_accuracy_floor=True,
        logs={"compress": "private log line"},
        provenance={"latency_samples_us": {"submission": [10.0, 11.0]}},
    )
    queued = Run.objects.create(submission=submission, hardware_class=hardware_class, state=Run.FAILED)
    paper = make_paper(slug="ada-paper", owner=owner)
    paper.submissions.add(submission)
    claim = Claim.objects.create(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission,
        method="secret", claimed_speedup=2.0,
    )  # fmt: skip
    return {"submission": submission, "run": run, "other_run": queued, "paper": paper, "claim": claim}


def _reads(ids: dict[str, Any]) -> list[str]:
    s, r = ids["submission"].pk, ids["run"].pk
    return [
        f"/api/v1/submissions/{s}/",
        f"/api/v1/runs/{r}/",
        f"/api/v1/runs/{r}/logs/",
        f"/api/v1/runs/{r}/latencies/",
        f"/api/v1/runs/{r}/latencies/?format=csv",
        f"/api/v1/runs/{r}/job/",
        f"/api/v1/runs/{r}/job/tarball/",
        f"/api/v1/results/{ids['run'].result.pk}/",
        f"/api/v1/results/{ids['run'].result.pk}/?format=csv",
    ]


def _writes(ids: dict[str, Any]) -> list[str]:
    s, r = ids["submission"].pk, ids["run"].pk
    return [
        f"/api/v1/submissions/{s}/publish/",
        f"/api/v1/submissions/{s}/withdraw/",
        f"/api/v1/runs/{r}/cancel/",
        f"/api/v1/runs/{r}/rerun/",
    ]


@pytest.mark.parametrize("who", ["anonymous", "stranger"])
def test_a_private_submission_its_runs_logs_and_results_are_invisible(who, private, anon_api, stranger_api, owner_api):
    api = anon_api if who == "anonymous" else stranger_api
    for url in _reads(private):
        assert api.get(url).status_code == 404, url
        assert owner_api.get(url).status_code == 200, url
    expected_write = 401 if who == "anonymous" else 404
    for url in _writes(private):
        assert api.post(url).status_code == expected_write, url
    private["submission"].refresh_from_db()
    assert private["submission"].published is False
    # No list shows it, whatever the filter.
    for url in (
        "/api/v1/submissions/",
        "/api/v1/submissions/?owner=ada",
        "/api/v1/runs/",
        f"/api/v1/runs/?submission={private['submission'].pk}",
        "/api/v1/results/",
        "/api/v1/results/?owner=ada",
        "/api/v1/results/?paper=ada-paper",
    ):
        assert api.get(url).json()["count"] == 0, url
        assert owner_api.get(url).json()["count"] >= 1, url
    csv = api.get("/api/v1/results/?format=csv").getvalue().decode()
    assert (
        "secret method" not in csv
        and "secret method" in owner_api.get("/api/v1/results/?format=csv").getvalue().decode()
    )
    board = api.get(
        f"/api/v1/leaderboards/{private['run'].submission.benchmark.slug}/{private['run'].hardware_class.name}/"
    )
    assert board.json()["entries"] == []


@pytest.mark.parametrize("who", ["anonymous", "stranger"])
def test_a_claim_does_not_reveal_the_private_submission_it_measures(who, private, anon_api, stranger_api, owner_api):
    api = anon_api if who == "anonymous" else stranger_api
    seen = api.get("/api/v1/papers/ada-paper/").json()
    assert seen["paper"]["submissions"] == []
    assert seen["claims"][0]["claim"]["submission"] is None
    assert seen["claims"][0]["run"] is None
    assert seen["claims"][0]["status"] == "pending"
    assert api.get(f"/api/v1/claims/{private['claim'].pk}/").json()["submission"] is None
    assert api.get("/api/v1/papers/ada-paper/claims/").json()[0]["submission"] is None
    own = owner_api.get("/api/v1/papers/ada-paper/").json()
    assert own["claims"][0]["claim"]["submission"] == private["submission"].pk
    assert own["claims"][0]["run"] == private["run"].pk


def test_another_users_paper_and_claims_cannot_be_changed(private, stranger_api, anon_api, benchmark, hardware_class):
    claim = private["claim"]
    assert stranger_api.patch(f"/api/v1/claims/{claim.pk}/", {"method": "x"}, format="json").status_code == 403
    assert stranger_api.delete(f"/api/v1/claims/{claim.pk}/").status_code == 403
    assert anon_api.delete(f"/api/v1/claims/{claim.pk}/").status_code == 401
    assert stranger_api.patch("/api/v1/papers/ada-paper/", {"title": "mine now"}, format="json").status_code == 403
    new_claim = {
        "benchmark": benchmark.slug,
        "hardware_class": hardware_class.name,
        "method": "m",
        "claimed_speedup": 3,
    }
    assert stranger_api.post("/api/v1/papers/ada-paper/claims/", new_claim, format="json").status_code == 403
    claim.refresh_from_db()
    assert (claim.method, claim.paper.title) != ("x", "mine now")
    assert Claim.objects.count() == 1


def test_creation_names_only_your_own_uploads_papers_and_submissions(private, stranger_api, benchmark, hardware_class):
    # A submission of the stranger may not join the owner's paper...
    made = stranger_api.post(
        "/api/v1/submissions/",
        {
            "name": "x",
            "benchmark": benchmark.slug,
            "image_reference": "ghcr.io/a/b@sha256:" + "0" * 64,
            "paper": "ada-paper",
        },
        format="json",
    )
    assert made.status_code == 400
    assert "paper" in made.json()["error"]["fields"]
    # ... and a claim on the stranger's own paper may not measure the owner's submission.
    assert (
        stranger_api.post(
            "/api/v1/papers/", {"slug": "mallory", "title": "T", "authors": "M"}, format="json"
        ).status_code
        == 201
    )
    claim = stranger_api.post(
        "/api/v1/papers/mallory/claims/",
        {"benchmark": benchmark.slug, "hardware_class": hardware_class.name, "method": "m", "claimed_speedup": 2,
         "submission": private["submission"].pk},
        format="json",
    )  # fmt: skip
    assert claim.status_code == 400
    assert "submission" in claim.json()["error"]["fields"]


def test_a_published_submission_of_another_user_is_visible_but_not_changeable(
    owner, benchmark, hardware_class, stranger_api, owner_api
):
    submission = make_submission(owner=owner, benchmark=benchmark, published=True)
    run = make_run(submission=submission, hardware_class=hardware_class, state=Run.QUEUED)
    assert stranger_api.get(f"/api/v1/submissions/{submission.pk}/").status_code == 200
    for url in (
        f"/api/v1/submissions/{submission.pk}/withdraw/",
        f"/api/v1/runs/{run.pk}/cancel/",
        f"/api/v1/runs/{run.pk}/rerun/",
    ):
        answer = stranger_api.post(url)
        assert answer.status_code == 403, url
        assert answer.json()["error"]["code"] == "permission_denied"
    # Its image is the owner's: the job spec names no file, the tarball is refused.
    assert "image_location" not in stranger_api.get(f"/api/v1/runs/{run.pk}/job/").json()["submission"]
    assert stranger_api.get(f"/api/v1/runs/{run.pk}/job/tarball/").status_code == 403
    run.refresh_from_db()
    assert run.state == Run.QUEUED
    assert owner_api.post(f"/api/v1/runs/{run.pk}/cancel/").json()["state"] == "cancelled"
