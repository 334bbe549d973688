"""The leaderboard's energy column: values with their label, the reference's beside them, grouped sorting."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.factories.figures import result_figures
from tests.factories.rows import make_run, make_submission
from tests.factories.scenes import Demo

pytestmark = pytest.mark.django_db


def _with_energy(demo: Demo, name: str, mj: float, label: str, *, reference_mj: float = 0.52) -> None:
    figures = result_figures(accuracy=0.965, latency_p50_us=150.0, speedup=1.33)
    figures[("submission", "energy_per_inference")] = (mj, "mJ", label)
    figures[("reference", "energy_per_inference")] = (reference_mj, "mJ", label)
    submission = make_submission(owner=demo.owner, benchmark=demo.benchmark, name=name)
    make_run(submission=submission, hardware_class=demo.hardware_class, figures=figures, meets_accuracy_floor=True)


def _ranked(body: str) -> str:
    return re.search(r'<table id="leaderboard">(.*?)</table>', body, re.DOTALL).group(1)


def _row(table: str, name: str) -> str:
    for row in re.findall(r"<tr data-submission=.*?</tr>", table, re.DOTALL):
        if f'class="method">{name}</a>' in row:
            return row
    raise AssertionError(f"no row {name}")


def test_the_column_shows_estimated_energy_as_approximate_with_the_reference_below(client: Client, demo: Demo) -> None:
    _with_energy(demo, "estimated one", 0.41234, "estimated")
    table = _ranked(client.get(demo.leaderboard_url).content.decode())
    assert 'data-sort-key="energy_per_inference_mj"' in table
    row = _row(table, "estimated one")
    assert re.search(
        r'&asymp;&nbsp;0\.41&nbsp;mJ<span class="label" title="estimated from CPU time[^"]*">est\.</span>', row
    )
    assert re.search(r'ref <span class="energy-estimated" data-label="estimated">&asymp;&nbsp;0\.52&nbsp;mJ', row)


def test_measured_energy_has_no_marker(client: Client, demo: Demo) -> None:
    _with_energy(demo, "measured one", 0.35, "measured", reference_mj=0.5)
    row = _row(_ranked(client.get(demo.leaderboard_url).content.decode()), "measured one")
    assert '<span data-label="measured">0.35&nbsp;mJ</span>' in row
    assert "est." not in row


def test_an_entry_without_energy_shows_a_dash(client: Client, demo: Demo) -> None:
    row = _row(_ranked(client.get(demo.leaderboard_url).content.decode()), "int8 dynamic")
    assert 'title="no energy figure in this result">&mdash;</span>' in row


def test_sorting_by_energy_puts_estimated_ones_under_a_caption_after_the_measured_ones(
    client: Client, demo: Demo
) -> None:
    _with_energy(demo, "est low", 0.10, "estimated")
    _with_energy(demo, "meas high", 0.60, "measured")
    _with_energy(demo, "est high", 0.90, "estimated")
    _with_energy(demo, "meas low", 0.30, "measured")
    body = client.get(demo.leaderboard_url, {"sort": "energy_per_inference_mj"}).content.decode()
    table = _ranked(body)
    order = re.findall(
        r'class="method">([^<]+)</a>|<tr class="sort-caption"><td colspan="9"><strong>([^<]+)</strong>', table
    )
    assert [name or caption for name, caption in order] == [
        "meas low",
        "meas high",
        "estimated \u2014 not ranked against measured",
        "est low",
        "est high",
        "without this figure",
        "int8 dynamic",
        "magnitude pruning 50%",
    ]


def test_the_baseline_row_has_the_references_energy_and_every_row_has_a_cell_per_header(
    client: Client, demo: Demo
) -> None:
    _with_energy(demo, "estimated one", 0.41, "estimated", reference_mj=0.52)
    table = _ranked(client.get(demo.leaderboard_url).content.decode())
    header = re.search(r"<thead>(.*?)</thead>", table, re.DOTALL).group(1)
    cells_in_header = header.count("<th")
    baseline = re.search(r'<tr class="baseline">(.*?)</tr>', table, re.DOTALL).group(1)
    assert "&asymp;&nbsp;0.52&nbsp;mJ" in baseline  # the newest job's reference
    for row in re.findall(r"<tr (?:data-submission|class=\"baseline\").*?</tr>", table, re.DOTALL):
        assert row.count("<td") == cells_in_header == 9  # rank, method, six figure columns, the search cost
