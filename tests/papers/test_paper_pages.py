"""/papers/ and /papers/<slug>/: claimed vs measured, gaps, statuses, and nothing private leaks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from papers.models import Claim, Paper
from submissions.models import Run, Submission
from tests.factories.figures import figures
from tests.factories.rows import make_claim, submission_with_run

pytestmark = pytest.mark.django_db


@dataclass
class Page:
    paper: Paper
    public: Submission
    public_run: Run
    private: Submission
    private_run: Run
    measured_claim: Claim
    private_claim: Claim


@pytest.fixture
def page(paper, benchmark, hardware_class, owner) -> Page:
    public, public_run = submission_with_run(
        owner=owner,
        benchmark=benchmark,
        hardware_class=hardware_class,
        paper=paper,
        name="pruned-public",
        run_figures=figures(
            accuracy=(0.9712, "fraction"),
            speedup=(1.04, "ratio"),
            compression_ratio=(9.9, "ratio"),
            compress_energy_net=(7200.0, "J", "estimated"),
        ),
    )
    private, private_run = submission_with_run(
        owner=owner,
        benchmark=benchmark,
        hardware_class=hardware_class,
        paper=paper,
        name="secret-method",
        published=False,
        run_figures=figures(speedup=(7.77, "ratio")),
    )
    measured_claim = make_claim(
        paper=paper,
        benchmark=benchmark,
        hardware_class=hardware_class,
        submission=public,
        method="90% magnitude pruning",
        claimed_accuracy=0.975,
        claimed_speedup=3.0,
        claimed_compression_ratio=10.0,
        claimed_search_kwh=0.002,
        note="Table 2, <b>row 3</b>",
    )
    private_claim = make_claim(
        paper=paper,
        benchmark=benchmark,
        hardware_class=hardware_class,
        submission=private,
        method="secret trick",
        claimed_speedup=7.5,
    )
    return Page(paper, public, public_run, private, private_run, measured_claim, private_claim)


def _section(body: str, claim: Claim) -> str:
    match = re.search(rf'<section class="claim" id="claim-{claim.pk}".*?</section>', body, re.S)
    assert match, f"no section for claim {claim.pk}"
    return match.group(0)


def _row(section: str, quantity: str) -> str:
    match = re.search(rf'<tr data-quantity="{quantity}".*?</tr>', section, re.S)
    assert match, f"no row for {quantity}"
    return re.sub(r"\s+", " ", match.group(0))


def test_the_paper_page_shows_claimed_measured_gap_and_status_per_quantity(client: Client, page: Page) -> None:
    response = client.get(f"/papers/{page.paper.slug}/")
    assert response.status_code == 200
    section = _section(response.content.decode(), page.measured_claim)
    assert 'data-status="partially reproduced"' in section

    accuracy = _row(section, "accuracy")
    assert "97.50 %" in accuracy and "97.12 %" in accuracy and "-0.38 pt" in accuracy
    assert 'data-status="reproduced"' in accuracy
    assert 'figure-label">measured</span>' in accuracy

    speedup = _row(section, "speedup")
    assert "3.00×" in speedup and "1.04×" in speedup and "-65.3 %" in speedup
    assert 'data-status="not reproduced"' in speedup

    compression = _row(section, "compression_ratio")
    assert "10.00×" in compression and "9.90×" in compression and "-1.0 %" in compression

    energy = _row(section, "search_energy")
    # 7200 J = 0.002 kWh, estimated: the label is shown next to the figure.
    assert "0.00200 kWh" in energy and "7,200 J" in energy
    assert 'class="label figure-label"' in energy and "estimated" in energy
    assert 'data-status="reproduced"' in energy


def test_the_paper_page_links_the_run_and_the_identifiers(client: Client, page: Page) -> None:
    body = client.get(f"/papers/{page.paper.slug}/").content.decode()
    section = _section(body, page.measured_claim)
    assert f'href="/runs/{page.public_run.pk}/"' in section
    assert 'href="https://arxiv.org/abs/2101.00001v2"' in body
    assert 'href="https://doi.org/10.1145/3292500.3330701"' in body
    # The note is the operator's text, escaped like everything else.
    assert "Table 2, &lt;b&gt;row 3&lt;/b&gt;" in section


def test_a_claim_on_a_private_submission_is_pending_and_shows_nothing_private(
    client: Client, stranger_client: Client, page: Page
) -> None:
    for visitor in (client, stranger_client):
        body = visitor.get(f"/papers/{page.paper.slug}/").content.decode()
        section = _section(body, page.private_claim)
        assert 'data-status="pending"' in section
        assert "no submission measures it yet" in section
        assert "7.50×" in section  # the claim itself is public
        for secret in ("7.77", "secret-method", f"/runs/{page.private_run.pk}/", f"/submissions/{page.private.pk}/"):
            assert secret not in body
        assert 'id="paper-status"' in body
        assert "partially reproduced" in re.search(r'id="paper-status">.*?</dd>', body, re.S).group(0)


def test_the_owner_sees_the_claim_measured_by_their_private_submission(owner_client: Client, page: Page) -> None:
    body = owner_client.get(f"/papers/{page.paper.slug}/").content.decode()
    section = _section(body, page.private_claim)
    assert 'data-status="reproduced"' in section
    assert "7.77×" in section
    assert f'href="/runs/{page.private_run.pk}/"' in section


def test_the_paper_page_shows_the_badge_and_its_markdown(client: Client, page: Page) -> None:
    body = client.get(f"/papers/{page.paper.slug}/").content.decode()
    badge = f"http://testserver/papers/{page.paper.slug}/badge.svg"
    assert f'src="{badge}"' in body
    assert f"[![Footprint: partially reproduced]({badge})](http://testserver/papers/{page.paper.slug}/)" in body


def test_the_paper_list_shows_each_paper_with_its_status(client: Client, page: Page) -> None:
    Paper.objects.create(slug="empty", title="A paper without claims", authors="B. Author")
    body = client.get("/papers/").content.decode()
    assert re.search(r'data-paper="sparse-and-fast" data-status="partially reproduced"', body)
    assert re.search(r'data-paper="empty" data-status="pending"', body)
    assert "1 partially reproduced, 1 pending" in body
    # Dated papers first, newest first; undated ones after.
    assert body.index('data-paper="sparse-and-fast"') < body.index('data-paper="empty"')
    assert "secret" not in body


def test_an_unknown_paper_is_a_404(client: Client, db: Any) -> None:
    assert client.get("/papers/no-such-paper/").status_code == 404
    assert client.get("/papers/no-such-paper/badge.svg").status_code == 404


def test_a_pending_claim_lists_what_it_claims(client: Client, paper, benchmark, hardware_class) -> None:
    claim = make_claim(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, claimed_size_bytes=1_500_000, claimed_speedup=2
    )
    section = _section(client.get(f"/papers/{paper.slug}/").content.decode(), claim)
    assert "1.4 MiB (1,500,000 bytes)" in _row(section, "size")
    assert "2.00×" in _row(section, "speedup")
    assert 'data-status="pending"' in section
