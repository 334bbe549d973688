"""The leaderboard page: ranking, the accuracy floor, labels, sorting, empty states."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from submissions.models import Run
from submissions.services import result_invalidate
from tests.factories.documents import failed_timed_predictions
from tests.factories.figures import result_figures
from tests.factories.rows import make_benchmark, make_hardware_class, make_run, make_submission
from tests.factories.scenes import Demo

pytestmark = pytest.mark.django_db


def _table(body: str, table_id: str) -> str:
    match = re.search(rf'<table id="{table_id}">(.*?)</table>', body, re.DOTALL)
    assert match, f"no table {table_id}"
    return match.group(1)


def _methods(table: str) -> list[str]:
    return re.findall(r'class="method">([^<]+)</a>', table)


def test_it_ranks_entries_above_the_floor_by_measured_speedup(client: Client, demo: Demo) -> None:
    body = client.get(demo.leaderboard_url).content.decode()
    ranked = _table(body, "leaderboard")
    assert _methods(ranked) == ["int8 dynamic", "magnitude pruning 50%"]
    assert "2.00\u00d7" in ranked and "1.20\u00d7" in ranked
    # accuracy and its change from the reference of the same job, in points
    assert "96.20 %" in ranked and "-0.80 pt" in ranked
    assert "97.50 %" in ranked and "+0.50 pt" in ranked
    # latency in us, memory in MiB, the compress phase as time on the class's core
    assert "100.0\u00a0\u00b5s" in ranked and "p90 120.0" in ranked and "25.0\u00a0MiB" in ranked
    assert "25 s of one core" in ranked


def test_it_shows_the_reference_as_a_baseline_row(client: Client, demo: Demo) -> None:
    ranked = _table(client.get(demo.leaderboard_url).content.decode(), "leaderboard")
    baseline = re.search(r'<tr class="baseline">(.*?)</tr>', ranked, re.DOTALL)
    assert baseline
    assert "Reference model" in baseline.group(1)
    assert "97.00 %" in baseline.group(1) and "200.0" in baseline.group(1)


def test_it_lists_entries_under_the_floor_apart_and_says_the_floor(client: Client, demo: Demo) -> None:
    body = client.get(demo.leaderboard_url).content.decode()
    assert "binary net" not in _table(body, "leaderboard")
    under = _table(body, "under-floor")
    assert _methods(under) == ["binary net"]
    assert "Below the accuracy floor" in body
    assert "less than 98 % of the reference" in body


def test_a_figure_that_is_not_measured_shows_its_label(client: Client, demo: Demo) -> None:
    under = _table(client.get(demo.leaderboard_url).content.decode(), "under-floor")
    assert re.search(r"5\.00\u00d7<span class=\"label\"[^>]*>estimated</span>", under)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("latency_p50_us", ["int8 dynamic", "magnitude pruning 50%"]),
        ("-latency_p50_us", ["magnitude pruning 50%", "int8 dynamic"]),
        ("accuracy", ["magnitude pruning 50%", "int8 dynamic"]),
        ("-accuracy", ["int8 dynamic", "magnitude pruning 50%"]),
        ("name", ["int8 dynamic", "magnitude pruning 50%"]),
        ("-name", ["magnitude pruning 50%", "int8 dynamic"]),
    ],
)
def test_it_sorts_by_a_column_on_the_server(client: Client, demo: Demo, sort: str, expected: list[str]) -> None:
    response = client.get(demo.leaderboard_url, {"sort": sort})
    assert response.status_code == 200
    assert _methods(_table(response.content.decode(), "leaderboard")) == expected


def test_it_marks_the_active_sort_and_links_the_reverse(client: Client, demo: Demo) -> None:
    body = client.get(demo.leaderboard_url, {"sort": "accuracy"}).content.decode()
    active = re.findall(r'<th class="[^"]*sorted"[^>]*>\s*<a href="\?sort=([^"]*)" data-sort-key="(\w+)"', body)
    assert ("-accuracy", "accuracy") in active
    assert all(key == "accuracy" for _, key in active)


@pytest.mark.parametrize(
    "sort",
    ["bogus", "--speedup", "speedup;drop table", "", "-", "submission__owner__password", "%00"],
)
def test_a_bogus_sort_falls_back_to_the_ranking(client: Client, demo: Demo, sort: str) -> None:
    response = client.get(demo.leaderboard_url, {"sort": sort})
    assert response.status_code == 200
    body = response.content.decode()
    assert _methods(_table(body, "leaderboard")) == ["int8 dynamic", "magnitude pruning 50%"]
    assert re.search(r'<th class="num sorted"[^>]*>\s*<a href="\?sort=rank"', body)


def test_the_empty_state_says_no_result_was_published(client: Client, db: None, owner) -> None:
    benchmark = make_benchmark()
    hardware_class = make_hardware_class()
    body = client.get(f"/benchmarks/{benchmark.slug}/{hardware_class.name}/").content.decode()
    assert 'id="empty-state"' in body
    assert "No published results yet." in body
    assert "No submission of this benchmark has run on cpu-test." in body


def test_the_empty_state_says_runs_are_queued(client: Client, db: None, owner) -> None:
    benchmark = make_benchmark()
    hardware_class = make_hardware_class()
    for _ in range(2):
        submission = make_submission(owner=owner, benchmark=benchmark)
        make_run(submission=submission, hardware_class=hardware_class, state=Run.QUEUED)
    body = client.get(f"/benchmarks/{benchmark.slug}/{hardware_class.name}/").content.decode()
    assert "No published results yet." in body
    assert "2 runs of this benchmark are queued or running on cpu-test" in body
    assert 'href="/runners/"' in body


def _footprint_board(owner) -> str:
    """Unstructured (smaller, not faster), structured (faster), and a declared own runtime."""
    benchmark = make_benchmark()
    hardware_class = make_hardware_class()
    for name, speedup, ratio, theory, label in (
        ("unstructured prune", 1.0, 9.86, 2.58, "measured"),
        ("structured prune", 1.8, 1.0, 1.0, "measured"),
        ("own sparse kernel", 3.0, 4.0, 2.5, "declared"),
    ):
        figures = result_figures(accuracy=0.97, latency_p50_us=200.0 / speedup, speedup=speedup)
        figures[("submission", "compression_ratio")] = (ratio, "ratio", label)
        figures[("submission", "theoretical_speedup")] = (theory, "ratio", label)
        make_run(
            submission=make_submission(owner=owner, benchmark=benchmark, name=name),
            hardware_class=hardware_class,
            figures=figures,
            meets_accuracy_floor=True,
        )
    return f"/benchmarks/{benchmark.slug}/{hardware_class.name}/"


def _row(table: str, name: str) -> str:
    match = re.search(rf'<tr data-submission="\d+">((?:(?!</tr>).)*?>{re.escape(name)}</a>.*?)</tr>', table, re.DOTALL)
    assert match, f"no row {name}"
    return match.group(1)


def _cells(row: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
    ]


def test_it_shows_compression_theoretical_and_measured_speedup_side_by_side(client: Client, db: None, owner) -> None:
    body = client.get(_footprint_board(owner)).content.decode()
    headers = re.findall(r'data-sort-key="(\w+)"', _table(body, "leaderboard"))
    at = headers.index("speedup")
    assert headers[at : at + 5] == [
        "speedup",
        "latency_p50_us",
        "latency_p90_us",
        "theoretical_speedup",
        "compression_ratio",
    ]
    cells = _cells(_row(_table(body, "leaderboard"), "unstructured prune"))
    # rank, method, accuracy, the measured speed-up, latency, then the footprint's two ratios
    assert cells[3] == "1.00\u00d7 smaller, not faster"
    assert cells[5] == "2.58\u00d7 9.86\u00d7 smaller"


def test_it_flags_only_the_entries_whose_measured_speedup_is_far_below_the_theoretical(
    client: Client, db: None, owner
) -> None:
    ranked = _table(client.get(_footprint_board(owner)).content.decode(), "leaderboard")
    flag = re.search(r'<span class="label speedup-short" title="([^"]+)">smaller, not faster</span>', ranked)
    assert flag and "promise 2.58\u00d7" in flag.group(1) and "measured 1.00\u00d7" in flag.group(1)
    assert "smaller, not faster" in _row(ranked, "unstructured prune")
    assert "smaller, not faster" not in _row(ranked, "structured prune")
    assert "smaller, not faster" not in _row(ranked, "own sparse kernel")


def test_a_declared_footprint_shows_its_label(client: Client, db: None, owner) -> None:
    ranked = _table(client.get(_footprint_board(owner)).content.decode(), "leaderboard")
    declared = _row(ranked, "own sparse kernel")
    assert re.search(r"4\.00\u00d7<span class=\"label\"[^>]*>declared</span>", declared)
    assert re.search(r"2\.50\u00d7<span class=\"label\"[^>]*>declared</span>", declared)
    assert "declared" not in _row(ranked, "structured prune")


def _withheld_entry(demo: Demo, name: str, **run_fields) -> Run:
    submission = make_submission(owner=demo.owner, benchmark=demo.benchmark, name=name)
    figures = result_figures(accuracy=0.97, latency_p50_us=10.0, speedup=20.0)  # the fastest on the board
    return make_run(
        submission=submission,
        hardware_class=demo.hardware_class,
        figures=figures,
        meets_accuracy_floor=True,
        **run_fields,
    )


def test_an_entry_whose_audit_failed_is_listed_apart_with_the_audit_its_figure_and_sentence(
    client: Client, demo: Demo
) -> None:
    hostile = failed_timed_predictions(rate=0.9)
    hostile["sentence"] += ' <script>alert("x")</script>'
    _withheld_entry(demo, "replies ahead", audits=[hostile])
    body = client.get(demo.leaderboard_url).content.decode()
    assert _methods(_table(body, "leaderboard")) == ["int8 dynamic", "magnitude pruning 50%"]
    withheld = _table(body, "withheld")
    assert _methods(withheld) == ["replies ahead"]
    assert 'data-audit="timed_predictions"' in withheld
    assert "Audit timed_predictions failed" in withheld and "timed replies against the accuracy pass" in withheld
    assert "<code>prediction_mismatch_rate</code> 90.00 %, threshold 0.10 %" in withheld
    assert "90% of the timed replies differ from the accuracy pass" in withheld
    assert "&lt;script&gt;" in withheld and "<script>alert" not in body
    assert "Not ranked: failed audits and invalidated results" in body


def test_an_invalidated_entry_is_listed_apart_with_the_operators_reason(client: Client, demo: Demo) -> None:
    run = _withheld_entry(demo, "precomputed")
    result_invalidate(result=run.result, by=demo.owner, reason="the server ships the test labels in its image")
    withheld = _table(client.get(demo.leaderboard_url).content.decode(), "withheld")
    assert _methods(withheld) == ["precomputed"]
    assert 'data-standing="invalidated"' in withheld
    assert "Invalidated by an operator</strong> on " in withheld
    assert "the server ships the test labels in its image" in withheld


def test_a_board_without_withheld_entries_has_no_such_table(client: Client, demo: Demo) -> None:
    body = client.get(demo.leaderboard_url).content.decode()
    assert 'id="withheld"' not in body
