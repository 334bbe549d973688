"""Trial-log curves as chart data: finite points only, text left to the page to escape."""

from __future__ import annotations

import json
import math

import pytest

from budgets.selectors import Series, curve


def test_a_curve_keeps_its_series_and_labels_as_data() -> None:
    chart = curve(
        series=[Series(name="best so far", points=[(1, 0.5), (2, 0.7)], step=True)],
        x_label="trials",
        y_label="score (declared)",
        title="Best score versus trials",
    )
    assert chart.as_dict() == {
        "title": "Best score versus trials",
        "x_label": "trials",
        "y_label": "score (declared)",
        "series": [
            {"name": "best so far", "points": [{"x": 1, "y": 0.5}, {"x": 2, "y": 0.7}], "step": True, "dashed": False}
        ],
    }


def test_hostile_text_stays_text_in_the_data() -> None:
    nasty = '</script><script>alert("x")</script>'
    chart = curve(series=[Series(name=nasty, points=[(0, 1)])], x_label=nasty, y_label="y", title=nasty)
    # The page puts it in a json_script element, which escapes <, > and &.
    assert chart.as_dict()["series"][0]["name"] == nasty
    assert json.loads(json.dumps(chart.as_dict()))["title"] == nasty


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_it_refuses_coordinates_that_are_not_finite(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        curve(series=[Series(name="s", points=[(1, bad)])], x_label="x", y_label="y", title="t")


def test_it_refuses_a_chart_without_a_point() -> None:
    with pytest.raises(ValueError, match="at least one"):
        curve(series=[Series(name="empty", points=[])], x_label="x", y_label="y", title="t")
