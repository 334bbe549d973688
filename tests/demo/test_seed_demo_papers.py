"""The demo paper: seeded once, and with the examples' usual figures it shows every status."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from demo.digits import SLUG as DIGITS_SLUG
from demo.papers import DEMO_PAPER_SLUG, EXAMPLE_METHODS, UNSUBMITTED_METHOD, seed_demo_papers
from demo.services import DEMO_HARDWARE_CLASS
from papers.claims import Status, paper_check
from papers.models import Claim, Paper
from tests.factories.figures import figures
from tests.factories.rows import make_benchmark, make_hardware_class, make_run, make_submission

pytestmark = pytest.mark.django_db

# What the examples measure on digits on a CPU runner (examples/README.md, at the low end of
# the speed-ups seen); the reference reaches the benchmark's stored accuracy.
TYPICAL = {
    "identity": {"accuracy": 0.97, "speedup": 0.98, "compression_ratio": 1.0},
    "int8-dynamic": {"accuracy": 0.969, "speedup": 1.02, "compression_ratio": 1.0},
    "unstructured-prune": {"accuracy": 0.976, "speedup": 1.0, "compression_ratio": 9.9},
    "structured-prune": {"accuracy": 0.979, "speedup": 1.2, "compression_ratio": 4.1},
    "distill": {"accuracy": 0.965, "speedup": 1.4, "compression_ratio": 33.1},
}


@pytest.fixture
def benchmark(db):
    """The demo's benchmark and class, by the names the command looks for (not the files)."""
    return make_benchmark(slug=DIGITS_SLUG, name="Digits", reference_accuracy=0.97)


@pytest.fixture
def hardware_class(db):
    return make_hardware_class(name=DEMO_HARDWARE_CLASS)


@pytest.fixture
def demo_user(db):
    return get_user_model().objects.create_user(username="demo")


@pytest.fixture
def examples(demo_user, benchmark, hardware_class) -> dict:
    submissions = {}
    for method, values in TYPICAL.items():
        submission = make_submission(owner=demo_user, benchmark=benchmark, name=method)
        make_run(
            submission=submission,
            hardware_class=hardware_class,
            figures=figures(
                accuracy=(values["accuracy"], "fraction"),
                speedup=(values["speedup"], "ratio"),
                compression_ratio=(values["compression_ratio"], "ratio"),
            ),
        )
        submissions[method] = submission
    return submissions


def test_the_demo_paper_shows_every_status_with_the_examples_usual_figures(
    benchmark, hardware_class, examples, demo_user
) -> None:
    paper = seed_demo_papers(benchmark=benchmark, hardware_class=hardware_class, submissions_by_method=examples)
    assert paper.venue == "demo" and "demo" in paper.title.lower()
    check = paper_check(paper=paper, viewer=demo_user)
    statuses = {c.claim.method: c.status for c in check.claims}
    assert statuses == {
        "identity": Status.REPRODUCED,
        "int8-dynamic": Status.REPRODUCED,
        "unstructured-prune": Status.NOT_REPRODUCED,
        "structured-prune": Status.REPRODUCED,
        "distill": Status.PARTIALLY_REPRODUCED,
        UNSUBMITTED_METHOD: Status.PENDING,
    }
    assert check.status == Status.PARTIALLY_REPRODUCED
    assert set(paper.submissions.all()) == set(examples.values())


def test_seeding_twice_creates_nothing_twice(benchmark, hardware_class, examples) -> None:
    seed_demo_papers(benchmark=benchmark, hardware_class=hardware_class, submissions_by_method=examples)
    Claim.objects.filter(method="distill").update(claimed_accuracy=0.5)
    seed_demo_papers(benchmark=benchmark, hardware_class=hardware_class, submissions_by_method=examples)
    assert Paper.objects.count() == 1
    assert Claim.objects.count() == len(EXAMPLE_METHODS) + 1
    assert Paper.objects.get().submissions.count() == len(EXAMPLE_METHODS)
    # The seed's figures are restored on a re-run.
    assert Claim.objects.get(method="distill").claimed_accuracy == 0.99


def test_only_the_methods_present_get_claims(benchmark, hardware_class, examples) -> None:
    paper = seed_demo_papers(
        benchmark=benchmark,
        hardware_class=hardware_class,
        submissions_by_method={"distill": examples["distill"], "not-an-example": examples["identity"]},
    )
    assert sorted(paper.claims.values_list("method", flat=True)) == ["distill", UNSUBMITTED_METHOD]
    assert list(paper.submissions.all()) == [examples["distill"]]


def test_the_command_finds_the_demo_submissions_by_name(benchmark, hardware_class, examples) -> None:
    out = StringIO()
    call_command("seed_demo_papers", stdout=out)
    call_command("seed_demo_papers", stdout=out)
    paper = Paper.objects.get(slug=DEMO_PAPER_SLUG)
    assert paper.claims.count() == len(EXAMPLE_METHODS) + 1
    assert {c.method: c.submission for c in paper.claims.all() if c.submission} == examples
    assert "6 claim(s), 5 example submission(s) linked" in out.getvalue()


def test_the_command_says_to_seed_the_demo_first(db) -> None:
    with pytest.raises(CommandError, match="run `manage.py seed_demo` first"):
        call_command("seed_demo_papers", stdout=StringIO())
