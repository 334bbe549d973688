"""The SVG badges of papers and runs: valid SVG, the right text, escaping, cache headers, ETag."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from papers.badges import Badge, badge_svg, text_width_px
from submissions.models import Run
from submissions.services import result_invalidate
from tests.factories.documents import failed_timed_predictions
from tests.factories.figures import figures
from tests.factories.rows import make_claim, make_hardware_class, make_run, make_submission, submission_with_run

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: bytes | str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    """The visible texts (the shadow copies are aria-hidden)."""
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("aria-hidden") != "true"]


def test_a_badge_is_valid_svg_with_its_title_and_texts() -> None:
    root = parse(badge_svg(Badge(message="reproduced", color="#2e7d32")))
    assert root.find(f"{SVG}title").text == "Footprint: reproduced"
    assert root.get("aria-label") == "Footprint: reproduced"
    assert texts(root) == ["Footprint", "reproduced"]


def test_a_badge_escapes_its_text() -> None:
    hostile = '<script>alert("x")</script> & "quotes"'
    svg = badge_svg(Badge(message=hostile, color="#555", label="a&b<"))
    assert "<script>" not in svg
    root = parse(svg)
    assert texts(root) == ["a&b<", hostile]
    assert root.get("aria-label") == f"a&b<: {hostile}"


def test_a_badge_is_as_wide_as_its_texts() -> None:
    short = parse(badge_svg(Badge(message="failed", color="#555")))
    long = parse(badge_svg(Badge(message="partially reproduced", color="#555")))
    grown = int(long.get("width")) - int(short.get("width"))
    assert abs(grown - (text_width_px("partially reproduced") - text_width_px("failed"))) <= 1
    # The message's box: its text plus 6 px each side.
    message_rect = next(r for r in long.iter(f"{SVG}rect") if r.get("x"))
    assert abs(int(message_rect.get("width")) - (text_width_px("partially reproduced") + 12)) <= 0.5
    assert text_width_px("mmmm") > text_width_px("iiii")


def _paper_with_status(paper, benchmark, hardware_class, owner, *, measured_speedup: float) -> None:
    submission, _ = submission_with_run(
        owner=owner,
        benchmark=benchmark,
        hardware_class=hardware_class,
        paper=paper,
        run_figures=figures(speedup=(measured_speedup, "ratio")),
    )
    make_claim(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2.0
    )


@pytest.mark.parametrize(
    ("measured", "status", "color"), [(2.1, "reproduced", "#2e7d32"), (1.0, "not reproduced", "#c62828")]
)
def test_the_paper_badge_says_the_papers_status_in_its_colour(
    client: Client, paper, benchmark, hardware_class, owner, measured: float, status: str, color: str
) -> None:
    _paper_with_status(paper, benchmark, hardware_class, owner, measured_speedup=measured)
    response = client.get(f"/papers/{paper.slug}/badge.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert response["Cache-Control"] == "public, max-age=300"
    root = parse(response.content)
    assert texts(root) == ["Footprint", status]
    assert color in [rect.get("fill") for rect in root.iter(f"{SVG}rect")]


def test_a_paper_without_claims_has_a_pending_badge(client: Client, paper) -> None:
    assert texts(parse(client.get(f"/papers/{paper.slug}/badge.svg").content)) == ["Footprint", "pending"]


def test_the_paper_badge_is_the_public_one_even_for_the_owner(
    owner_client: Client, paper, benchmark, hardware_class, owner
) -> None:
    # Cached publicly, so it must not show what only the logged-in owner may see.
    submission, _ = submission_with_run(
        owner=owner,
        benchmark=benchmark,
        hardware_class=hardware_class,
        paper=paper,
        run_figures=figures(speedup=(2.0, "ratio")),
        published=False,
    )
    make_claim(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2.0
    )
    response = owner_client.get(f"/papers/{paper.slug}/badge.svg")
    assert texts(parse(response.content)) == ["Footprint", "pending"]
    assert "Cookie" not in response.get("Vary", "")


def test_the_paper_badge_answers_304_to_its_etag_and_changes_with_the_status(
    client: Client, paper, benchmark, hardware_class, owner
) -> None:
    url = f"/papers/{paper.slug}/badge.svg"
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert (again["ETag"], again["Cache-Control"]) == (etag, "public, max-age=300")
    assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200

    _paper_with_status(paper, benchmark, hardware_class, owner, measured_speedup=2.0)
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert texts(parse(changed.content)) == ["Footprint", "reproduced"]


def test_a_succeeded_run_badge_shows_its_speedup_on_its_class(client: Client, benchmark, hardware_class, owner) -> None:
    submission = make_submission(owner=owner, benchmark=benchmark)
    run = make_run(submission=submission, hardware_class=hardware_class, figures=figures(speedup=(2.1234, "ratio")))
    response = client.get(f"/runs/{run.pk}/badge.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert response["Cache-Control"] == "public, max-age=300"
    assert texts(parse(response.content)) == ["Footprint", "2.1× on cpu-test"]
    assert client.get(f"/runs/{run.pk}/badge.svg", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_an_estimated_speedup_says_so_on_the_badge(client: Client, benchmark, hardware_class, owner) -> None:
    submission = make_submission(owner=owner, benchmark=benchmark)
    run = make_run(
        submission=submission, hardware_class=hardware_class, figures=figures(speedup=(3.0, "ratio", "estimated"))
    )
    assert texts(parse(client.get(f"/runs/{run.pk}/badge.svg").content))[1] == "3.0× on cpu-test (estimated)"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (Run.FAILED, "failed"),
        (Run.QUEUED, "queued"),
        (Run.COMPRESSING, "running"),
        (Run.CANCELLED, "cancelled"),
    ],
)
def test_a_run_badge_says_the_state_of_an_unfinished_or_failed_run(
    client: Client, benchmark, hardware_class, owner, state: str, message: str
) -> None:
    submission = make_submission(owner=owner, benchmark=benchmark)
    run = make_run(submission=submission, hardware_class=hardware_class, state=state)
    assert texts(parse(client.get(f"/runs/{run.pk}/badge.svg").content)) == ["Footprint", message]


def test_a_run_badge_escapes_the_hardware_class_name(client: Client, benchmark, owner) -> None:
    # Slugs are checked by forms, not by the database: a row made otherwise may hold anything.
    hostile = make_hardware_class(name='cpu<&>"x', cpuset="0")
    submission = make_submission(owner=owner, benchmark=benchmark)
    run = make_run(submission=submission, hardware_class=hostile, figures=figures(speedup=(2.0, "ratio")))
    response = client.get(f"/runs/{run.pk}/badge.svg")
    assert b"cpu<&>" not in response.content
    assert texts(parse(response.content))[1] == '2.0× on cpu<&>"x'


def test_a_private_run_badge_is_a_404_for_anonymous_visitors_and_strangers(
    client: Client, stranger_client: Client, benchmark, hardware_class, owner
) -> None:
    submission = make_submission(owner=owner, benchmark=benchmark, published=False)
    run = make_run(submission=submission, hardware_class=hardware_class, figures=figures(speedup=(2.0, "ratio")))
    assert client.get(f"/runs/{run.pk}/badge.svg").status_code == 404
    assert stranger_client.get(f"/runs/{run.pk}/badge.svg").status_code == 404
    assert client.get("/runs/999999/badge.svg").status_code == 404


def test_the_owner_gets_a_private_run_badge_that_no_cache_keeps(
    owner_client: Client, benchmark, hardware_class, owner
) -> None:
    submission = make_submission(owner=owner, benchmark=benchmark, published=False)
    run = make_run(submission=submission, hardware_class=hardware_class, figures=figures(speedup=(2.0, "ratio")))
    response = owner_client.get(f"/runs/{run.pk}/badge.svg")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert texts(parse(response.content)) == ["Footprint", "2.0× on cpu-test"]


def test_a_run_badge_says_audit_failed_instead_of_a_speedup(client: Client, benchmark, hardware_class, owner) -> None:
    submission = make_submission(owner=owner, benchmark=benchmark)
    run = make_run(
        submission=submission,
        hardware_class=hardware_class,
        figures=figures(speedup=(9.8, "ratio")),
        audits=[failed_timed_predictions()],
    )
    assert texts(parse(client.get(f"/runs/{run.pk}/badge.svg").content)) == ["Footprint", "audit failed on cpu-test"]


def test_an_invalidated_run_badge_says_so(client: Client, benchmark, hardware_class, owner) -> None:
    submission = make_submission(owner=owner, benchmark=benchmark)
    run = make_run(submission=submission, hardware_class=hardware_class, figures=figures(speedup=(2.0, "ratio")))
    result_invalidate(result=run.result, by=owner, reason="replies sent ahead")
    assert texts(parse(client.get(f"/runs/{run.pk}/badge.svg").content)) == ["Footprint", "invalidated on cpu-test"]
