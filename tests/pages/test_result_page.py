"""The result page (the run page of a succeeded run): headline, side by side, latency
distribution from the raw latencies, figures in words, links and downloads."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.test import Client

from submissions.models import Run
from submissions.services import run_ingest_result
from tests.factories.documents import energy_result_document, figure
from tests.factories.rows import make_submission
from tests.factories.scenes import Demo

pytestmark = pytest.mark.django_db


def _measured(demo: Demo, **fields) -> Run:
    submission = make_submission(owner=demo.owner, benchmark=demo.benchmark, name="pruned and served")
    run = Run.objects.create(submission=submission, hardware_class=demo.hardware_class)
    document = energy_result_document(run.pk, compression_ratio=12.0, theoretical_speedup=147.0, **fields)
    document["figures"] += [
        figure("submission", "speedup_ci_low", 1.41, "ratio"),
        figure("submission", "speedup_ci_high", 1.58, "ratio"),
    ]
    run_ingest_result(document=document)
    run.refresh_from_db()
    assert run.state == Run.SUCCEEDED, run.failure_reason
    return run


def _section(body: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:section|table|div)>\s*(?:<|$)', body, re.DOTALL)
    assert match, f"no {element_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def test_the_headline_gives_accuracy_speedup_with_its_interval_footprint_energy_and_cost(
    client: Client, demo: Demo
) -> None:
    run = _measured(demo)
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert "<title>pruned and served: result on Digits, cpu-local" in body
    headline = re.search(r'<section class="headline" id="headline"(.*?)</section>', body, re.DOTALL).group(1)
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", headline)))
    assert "97.50 %" in text and "-0.50 pt against the reference" in text
    assert "1.50\u00d7" in text and "95% interval 1.41\u00d7\u20131.58\u00d7" in text
    assert "147.00\u00d7" in text and "12.00\u00d7 fewer non-zero parameters" in text
    assert "0.41 mJ" in text and "reference 0.52 mJ" in text
    # 12.5 s of compress on a one-core class, 36 J estimated: in human units, not device-hours
    assert "12 s of one core" in text and "36 J" in text and "device-h" not in text
    assert "327,273 inferences until the energy saved pays for the search" in text
    assert "Budget track" in text


def test_a_faster_entry_is_never_called_not_faster(client: Client, demo: Demo) -> None:
    run = _measured(demo)  # 1.50x measured, 147x promised
    headline = re.search(
        r'id="headline-speedup">(.*?)</div>\s*<div class="card"',
        client.get(f"/runs/{run.pk}/").content.decode(),
        re.DOTALL,
    ).group(1)
    assert "not faster" not in headline
    assert "faster, but 1% of its theoretical speed-up" in headline


def test_reference_and_submission_are_side_by_side_with_the_change(client: Client, demo: Demo) -> None:
    run = _measured(demo)
    body = client.get(f"/runs/{run.pk}/").content.decode()
    table = re.search(r'<table id="side-by-side">(.*?)</table>', body, re.DOTALL).group(1)
    latency = re.search(r'<tr data-figure="latency_p50">(.*?)</tr>', table, re.DOTALL).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", latency, re.DOTALL)]
    assert cells == ["latency, median (p50)", "150.0 \u00b5s", "100.0 \u00b5s", "1.50\u00d7 less", "measured"]
    assert 'class="num better"' in latency
    energy = re.search(r'<tr data-figure="energy_per_inference">(.*?)</tr>', table, re.DOTALL).group(1)
    assert "estimated" in energy


def test_the_latency_distribution_comes_from_every_raw_latency_of_both_servers(client: Client, demo: Demo) -> None:
    run = _measured(demo)
    body = client.get(f"/runs/{run.pk}/").content.decode()
    data = json.loads(
        re.search(r'<script id="latency-data" type="application/json">(.*?)</script>', body, re.DOTALL).group(1)
    )
    by_subject = {s["subject"]: s for s in data["subjects"]}
    assert sorted(by_subject) == ["reference", "submission"]
    assert by_subject["reference"]["queries"] == 5 and by_subject["submission"]["queries"] == 4
    for subject in by_subject.values():
        assert sum(subject["fraction"]) == pytest.approx(1.0)
        assert len(subject["cdf_us"]) == len(data["quantiles"]) == 101
    assert by_subject["submission"]["cdf_us"][0] == 98.0 and by_subject["submission"]["cdf_us"][-1] == 101.0
    assert len(data["edges_us"]) == 41
    assert 'id="latency-chart"' in body and "/static/js/result-charts.js" in body


def test_every_figure_is_in_words_with_its_stored_value_folded_below(client: Client, demo: Demo) -> None:
    run = _measured(demo)
    body = client.get(f"/runs/{run.pk}/").content.decode()
    table = re.search(r'<details id="figures-details">(.*?)</details>', body, re.DOTALL).group(1)
    row = re.search(r'<tr data-figure="compress_wall">(.*?)</tr>', table, re.DOTALL).group(1)
    assert "Compress phase, wall time" in row and "12 s" in row and "<code>12.5 s</code>" in row
    assert "Raw value" not in body
    assert f'href="/runs/{run.pk}/result.json"' in table and f'href="/runs/{run.pk}/latencies.csv"' in table


def test_it_links_the_submission_the_board_and_the_paper(client: Client, demo: Demo, paper) -> None:
    run = _measured(demo)
    paper.submissions.add(run.submission)
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert f'href="/submissions/{run.submission_id}/" id="submission-link"' in body
    assert 'id="leaderboard-link"' in body and f'href="/papers/{paper.slug}/" class="paper-link"' in body


def test_its_queries_are_few_and_fixed(client: Client, demo: Demo, django_assert_max_num_queries) -> None:
    run = _measured(demo)
    # run with submission, class and result; transitions; audits; figures; tracks; papers
    with django_assert_max_num_queries(8):
        assert client.get(f"/runs/{run.pk}/").status_code == 200
