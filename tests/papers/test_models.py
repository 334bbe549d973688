"""Paper identifiers and claim validation, in the models and through the admin."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from papers.models import Claim, Paper, validate_arxiv_id, validate_doi
from tests.factories.rows import make_benchmark, make_claim, make_submission

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "identifier",
    ["2101.00001", "2101.00001v2", "0704.0001", "1412.6980v9", "cs/0101001", "hep-th/9901001v3", "math.AG/0601001"],
)
def test_it_accepts_arxiv_identifiers(identifier: str) -> None:
    validate_arxiv_id(identifier)


@pytest.mark.parametrize(
    "identifier",
    [
        "2101.001",  # too few digits
        "2113.00001",  # month 13
        "2101.00001v",  # version without a number
        "2101.000012",  # six digits
        "arXiv:2101.00001",  # prefixed
        "https://arxiv.org/abs/2101.00001",
        "cs/01010",  # old style, too short
        "CS/0101001",
        "2101.00001 ",
        "2101.00001\n",
    ],
)
def test_it_rejects_what_is_not_an_arxiv_identifier(identifier: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_arxiv_id(identifier)
    assert "e.g. 2101.00001" in str(error.value)


@pytest.mark.parametrize("doi", ["10.1145/3292500.3330701", "10.48550/arXiv.2101.00001", "10.1000/xyz(123)<456>"])
def test_it_accepts_dois(doi: str) -> None:
    validate_doi(doi)


@pytest.mark.parametrize(
    "doi",
    [
        "10.12/abc",
        "11.1145/3292500",
        "10.1145",
        "10.1145/",
        "doi:10.1145/1",
        "https://doi.org/10.1145/1",
        "10.1145/a b",
    ],
)
def test_it_rejects_what_is_not_a_doi(doi: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_doi(doi)
    assert "10.1145/3292500.3330701" in str(error.value)


def test_a_paper_links_to_arxiv_and_doi_with_the_doi_quoted() -> None:
    paper = Paper(slug="p", title="P", authors="A", arxiv_id="2101.00001v2", doi="10.1000/a#b?c")
    assert paper.arxiv_url == "https://arxiv.org/abs/2101.00001v2"
    assert paper.doi_url == "https://doi.org/10.1000/a%23b%3Fc"


def test_a_paper_url_must_be_http(paper) -> None:
    paper.url = "javascript:alert(1)"
    with pytest.raises(ValidationError) as error:
        paper.full_clean()
    assert "url" in error.value.message_dict


def test_a_claim_needs_a_claimed_figure(paper, benchmark, hardware_class) -> None:
    with pytest.raises(ValidationError) as error:
        make_claim(paper=paper, benchmark=benchmark, hardware_class=hardware_class)
    assert "at least one claimed figure" in str(error.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("claimed_accuracy", 1.2),
        ("claimed_accuracy", -0.1),
        ("claimed_speedup", 0.0),
        ("claimed_compression_ratio", -2.0),
        ("claimed_size_bytes", 0),
        ("claimed_search_kwh", -1.0),
    ],
)
def test_a_claimed_figure_out_of_range_is_refused(paper, benchmark, hardware_class, field: str, value: float) -> None:
    with pytest.raises(ValidationError) as error:
        make_claim(paper=paper, benchmark=benchmark, hardware_class=hardware_class, **{field: value})
    assert field in error.value.message_dict


def test_a_claims_submission_must_be_linked_to_the_paper(paper, benchmark, hardware_class, owner) -> None:
    submission = make_submission(owner=owner, benchmark=benchmark)
    with pytest.raises(ValidationError) as error:
        make_claim(
            paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2
        )
    assert "not linked to this paper" in error.value.message_dict["submission"][0]
    paper.submissions.add(submission)
    make_claim(
        paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2
    )


def test_a_claims_submission_must_be_of_the_claims_benchmark(paper, benchmark, hardware_class, owner) -> None:
    submission = make_submission(owner=owner, benchmark=make_benchmark(slug="cifar", name="CIFAR"))
    paper.submissions.add(submission)
    with pytest.raises(ValidationError) as error:
        make_claim(
            paper=paper, benchmark=benchmark, hardware_class=hardware_class, submission=submission, claimed_speedup=2
        )
    assert "another benchmark" in error.value.message_dict["submission"][0]


def _admin_client(django_user_model) -> Client:
    admin = django_user_model.objects.create_superuser(username="root", password="root-pw-123")
    client = Client()
    client.force_login(admin)
    return client


def _paper_form(*, submissions: list[int], claim_submission: int | str) -> dict[str, object]:
    return {
        "slug": "new-paper",
        "title": "A new paper",
        "authors": "A. Author",
        "venue": "",
        "year": "2025",
        "arxiv_id": "2101.00001",
        "doi": "",
        "url": "",
        "submissions": [str(pk) for pk in submissions],
        "claims-TOTAL_FORMS": "1",
        "claims-INITIAL_FORMS": "0",
        "claims-MIN_NUM_FORMS": "0",
        "claims-MAX_NUM_FORMS": "1000",
        "claims-0-method": "pruning",
        "claims-0-benchmark": "",
        "claims-0-hardware_class": "",
        "claims-0-submission": str(claim_submission),
        "claims-0-claimed_speedup": "2.0",
    }


def test_the_admin_accepts_a_claim_on_a_submission_linked_in_the_same_form(
    django_user_model, benchmark, hardware_class, owner
) -> None:
    submission = make_submission(owner=owner, benchmark=benchmark)
    data = _paper_form(submissions=[submission.pk], claim_submission=submission.pk)
    data.update({"claims-0-benchmark": str(benchmark.pk), "claims-0-hardware_class": str(hardware_class.pk)})
    response = _admin_client(django_user_model).post("/admin/papers/paper/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    claim = Claim.objects.get()
    assert (claim.paper.slug, claim.submission, claim.claimed_speedup) == ("new-paper", submission, 2.0)


def test_the_admin_refuses_a_claim_on_a_submission_the_form_does_not_link(
    django_user_model, benchmark, hardware_class, owner
) -> None:
    submission = make_submission(owner=owner, benchmark=benchmark)
    data = _paper_form(submissions=[], claim_submission=submission.pk)
    data.update({"claims-0-benchmark": str(benchmark.pk), "claims-0-hardware_class": str(hardware_class.pk)})
    response = _admin_client(django_user_model).post("/admin/papers/paper/add/", data)
    assert response.status_code == 200
    assert "is not linked to this paper" in response.content.decode()
    assert not Paper.objects.exists()
