"""The server-side SVG chart: valid XML, escaped text, points inside the picture."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from budgets.svg import Series, curve_svg

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def polyline_points(root: ET.Element) -> list[list[tuple[float, float]]]:
    return [
        [tuple(float(v) for v in pair.split(",")) for pair in line.get("points").split()]
        for line in root.iter(f"{SVG}polyline")
    ]


def test_it_draws_one_polyline_per_series_inside_the_view_box():
    svg = curve_svg(
        series=[
            Series(name="a", points=[(1, 0.5), (2, 0.7), (3, 0.9)]),
            Series(name="b", points=[(1, 0.6), (3, 0.65)]),
        ],
        x_label="trials",
        y_label="score",
    )
    root = parse(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    lines = polyline_points(root)
    assert [len(line) for line in lines] == [3, 2]
    for x, y in (p for line in lines for p in line):
        assert 0 <= x <= width and 0 <= y <= height
    # Larger scores are drawn higher (smaller y).
    assert lines[0][0][1] > lines[0][1][1] > lines[0][2][1]


def test_it_escapes_every_piece_of_text():
    nasty = "<script>alert(\"x\")</script> & 'q'"
    svg = curve_svg(series=[Series(name=nasty, points=[(0, 1), (1, 2)])], x_label=nasty, y_label="y&", title=nasty)
    assert "<script>" not in svg
    root = parse(svg)
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert nasty in texts and "y&" in texts
    assert root.find(f"{SVG}title").text == nasty
    assert root.get("aria-label") == nasty


def test_a_step_series_is_drawn_as_a_staircase():
    root = parse(
        curve_svg(series=[Series(name="best", points=[(1, 1), (2, 3), (4, 5)], step=True)], x_label="x", y_label="y")
    )
    (line,) = polyline_points(root)
    assert len(line) == 5  # (1,1) (2,1) (2,3) (4,3) (4,5)
    assert line[1][1] == line[0][1] and line[1][0] == line[2][0]


def test_a_single_point_or_a_flat_line_still_draws():
    root = parse(curve_svg(series=[Series(name="one", points=[(3, 0.9)])], x_label="x", y_label="y"))
    assert not list(root.iter(f"{SVG}polyline")) and len(list(root.iter(f"{SVG}circle"))) == 1
    parse(curve_svg(series=[Series(name="flat", points=[(1, 0.5), (2, 0.5)])], x_label="x", y_label="y"))


@pytest.mark.parametrize(
    "series",
    [[], [Series(name="empty", points=[])], [Series(name="nan", points=[(1, float("nan"))])]],
)
def test_it_refuses_nothing_to_draw_or_a_coordinate_that_is_not_finite(series):
    with pytest.raises(ValueError):
        curve_svg(series=series, x_label="x", y_label="y")
