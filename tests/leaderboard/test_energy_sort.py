"""Energy per inference on the leaderboard: measured and estimated values are never ordered together."""

from __future__ import annotations

import pytest

from leaderboard.rows import LABEL_GROUP_CAPTIONS
from leaderboard.selectors import leaderboard_rows, normalize_sort
from submissions.models import Run
from submissions.services import run_ingest_result
from tests.factories.documents import energy_result_document, result_document
from tests.factories.rows import make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def measure(owner, benchmark, hardware_class):
    def make(name: str, *, energy: str | None, submission_mj: float = 0.4, reference_mj: float = 0.5) -> Run:
        submission = make_submission(owner=owner, benchmark=benchmark, name=name)
        run = Run.objects.create(submission=submission, hardware_class=hardware_class)
        if energy is None:
            document = result_document(run.pk)
        else:
            document = energy_result_document(
                run.pk, measured=energy == "measured", submission_mj=submission_mj, reference_mj=reference_mj
            )
        run_ingest_result(document=document)
        assert Run.objects.get(pk=run.pk).state == Run.SUCCEEDED
        return run

    return make


@pytest.fixture
def mixed(measure) -> None:
    # The estimated values sit between and around the measured ones: sorting on value
    # alone would interleave them.
    measure("measured-0.30", energy="measured", submission_mj=0.30)
    measure("estimated-0.10", energy="estimated", submission_mj=0.10)
    measure("no-energy", energy=None)
    measure("measured-0.60", energy="measured", submission_mj=0.60)
    measure("estimated-0.45", energy="estimated", submission_mj=0.45)
    measure("estimated-0.90", energy="estimated", submission_mj=0.90)


def _order(benchmark, hardware_class, sort: str) -> list[tuple[str, str]]:
    board = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class, sort=sort)
    return [(row.name, row.sort_caption) for row in board.rows]


def test_rows_carry_the_energy_its_label_and_the_references(benchmark, hardware_class, measure):
    measure("int8", energy="estimated", submission_mj=0.41, reference_mj=0.52)
    [row] = leaderboard_rows(benchmark=benchmark, hardware_class=hardware_class).rows
    assert (row.energy_per_inference_mj, row.labels["energy_per_inference_mj"]) == (0.41, "estimated")
    assert row.reference_energy_per_inference_mj == 0.52
    assert row.labels["reference_energy_per_inference_mj"] == "estimated"


def test_sorting_by_energy_ranks_measured_then_estimated_then_none(benchmark, hardware_class, mixed):
    assert _order(benchmark, hardware_class, "energy_per_inference_mj") == [
        ("measured-0.30", ""),
        ("measured-0.60", ""),
        ("estimated-0.10", LABEL_GROUP_CAPTIONS["estimated"]),
        ("estimated-0.45", ""),
        ("estimated-0.90", ""),
        ("no-energy", LABEL_GROUP_CAPTIONS["missing"]),
    ]
    assert LABEL_GROUP_CAPTIONS["estimated"] == "estimated \u2014 not ranked against measured"


def test_the_reverse_sort_reverses_inside_each_group_only(benchmark, hardware_class, mixed):
    assert [name for name, _ in _order(benchmark, hardware_class, "-energy_per_inference_mj")] == [
        "measured-0.60",
        "measured-0.30",
        "estimated-0.90",
        "estimated-0.45",
        "estimated-0.10",
        "no-energy",
    ]


def test_only_estimated_values_still_say_they_are_not_ranked_against_measured(benchmark, hardware_class, measure):
    measure("b", energy="estimated", submission_mj=0.5)
    measure("a", energy="estimated", submission_mj=0.2)
    assert _order(benchmark, hardware_class, "energy_per_inference_mj") == [
        ("a", LABEL_GROUP_CAPTIONS["estimated"]),
        ("b", ""),
    ]


def test_a_board_without_energy_gets_no_caption(benchmark, hardware_class, measure):
    measure("a", energy=None)
    measure("b", energy=None)
    assert [caption for _, caption in _order(benchmark, hardware_class, "energy_per_inference_mj")] == ["", ""]


def test_other_sorts_and_the_ranking_carry_no_caption(benchmark, hardware_class, mixed):
    for sort in ("rank", "speedup", "-name"):
        assert all(caption == "" for _, caption in _order(benchmark, hardware_class, sort))


def test_energy_is_a_known_sort_key():
    assert normalize_sort("energy_per_inference_mj") == "energy_per_inference_mj"
    assert normalize_sort("-energy_per_inference_mj") == "-energy_per_inference_mj"
