"""A small server-side SVG line chart: no JavaScript, no library, text escaped.

Pages embed the returned string inline (mark it safe only as produced here: every piece of
text that reaches it goes through `_text`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

PALETTE = ("#1f6feb", "#d1242f", "#1a7f37", "#8250df", "#bc4c00")
MARKER_MAX_POINTS = 40  # markers on each point only while they stay readable


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]  # (x, y), in drawing order
    step: bool = False  # a staircase (a best-so-far value holds until the next trial)
    dashed: bool = False


def _text(value: str) -> str:
    """Escaped for element content and double-quoted attributes alike."""
    return escape(str(value), {'"': "&quot;", "'": "&#x27;"})


def _nice(value: float, *, round_up: bool) -> float:
    exponent = math.floor(math.log10(value))
    fraction = value / 10**exponent
    steps = (1, 2, 5, 10)
    if round_up:
        nice = next(s for s in steps if fraction <= s)
    else:
        nice = next((s for s in steps if fraction < s * 1.5), 10)
    return nice * 10**exponent


def nice_ticks(low: float, high: float, *, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 5 x 10^k steps)."""
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(low) * 0.05 or 1.0
        low, high = low - pad, high + pad
    # Heckbert, "Nice numbers for graph labels" (Graphics Gems, 1990).
    step = _nice(_nice(high - low, round_up=True) / max(count - 1, 1), round_up=False)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    digits = max(0, 2 - math.floor(math.log10(step)))  # drop the float noise of n * step
    ticks, n = [], 0
    while first + n * step <= last + step * 1e-9:
        ticks.append(round(first + n * step, digits))
        n += 1
    return ticks


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:.4g}"


def curve_svg(
    *,
    series: Sequence[Series],
    x_label: str,
    y_label: str,
    title: str = "",
    width_px: int = 560,
    height_px: int = 300,
) -> str:
    """An SVG document (a string) with one line per series, axes, ticks and a legend.

    Raises ValueError when there is no point to draw or a coordinate is not finite.
    """
    drawn = [s for s in series if len(s.points)]
    if not drawn:
        raise ValueError("curve_svg needs at least one series with a point")
    xs = [float(x) for s in drawn for x, _ in s.points]
    ys = [float(y) for s in drawn for _, y in s.points]
    if not all(math.isfinite(v) for v in xs + ys):
        raise ValueError("curve_svg draws finite coordinates only")

    x_ticks = nice_ticks(min(xs), max(xs))
    y_ticks = nice_ticks(min(ys), max(ys))
    x_low, x_high = x_ticks[0], x_ticks[-1]
    y_low, y_high = y_ticks[0], y_ticks[-1]

    left, right, top, bottom = 64.0, 16.0, 16.0 + 16.0 * len(drawn), 48.0
    plot_w = width_px - left - right
    plot_h = height_px - top - bottom

    def px(x: float) -> float:
        return left + (x - x_low) / (x_high - x_low) * plot_w

    def py(y: float) -> float:
        return top + plot_h - (y - y_low) / (y_high - y_low) * plot_h

    label = title or f"{y_label} versus {x_label}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
        f'viewBox="0 0 {width_px} {height_px}" role="img" aria-label="{_text(label)}" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{_text(label)}</title>",
        f'<rect x="0" y="0" width="{width_px}" height="{height_px}" fill="#ffffff"/>',
    ]
    for tick in x_ticks:
        x = px(tick)
        parts.append(
            f'<line x1="{x:.2f}" y1="{top:.2f}" x2="{x:.2f}" y2="{top + plot_h:.2f}" stroke="#e5e7eb"/>'
            f'<text x="{x:.2f}" y="{top + plot_h + 14:.2f}" text-anchor="middle" fill="#374151">'
            f"{_text(_fmt(tick))}</text>"
        )
    for tick in y_ticks:
        y = py(tick)
        parts.append(
            f'<line x1="{left:.2f}" y1="{y:.2f}" x2="{left + plot_w:.2f}" y2="{y:.2f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 6:.2f}" y="{y + 4:.2f}" text-anchor="end" fill="#374151">{_text(_fmt(tick))}</text>'
        )
    parts.append(
        f'<rect x="{left:.2f}" y="{top:.2f}" width="{plot_w:.2f}" height="{plot_h:.2f}" fill="none" stroke="#6b7280"/>'
    )
    parts.append(
        f'<text x="{left + plot_w / 2:.2f}" y="{height_px - 10:.2f}" text-anchor="middle" fill="#111827">'
        f"{_text(x_label)}</text>"
    )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.2f}" text-anchor="middle" fill="#111827" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.2f})">{_text(y_label)}</text>'
    )

    for number, one in enumerate(drawn):
        colour = PALETTE[number % len(PALETTE)]
        points = [(float(x), float(y)) for x, y in one.points]
        if one.step:
            stepped = [points[0]]
            for x, y in points[1:]:
                stepped.append((x, stepped[-1][1]))
                stepped.append((x, y))
            points_to_draw = stepped
        else:
            points_to_draw = points
        dash = ' stroke-dasharray="5 3"' if one.dashed else ""
        parts.append(f'<g class="series"><title>{_text(one.name)}</title>')
        if len(points_to_draw) > 1:
            coordinates = " ".join(f"{px(x):.2f},{py(y):.2f}" for x, y in points_to_draw)
            parts.append(f'<polyline points="{coordinates}" fill="none" stroke="{colour}" stroke-width="1.6"{dash}/>')
        if len(points) <= MARKER_MAX_POINTS:
            parts.extend(f'<circle cx="{px(x):.2f}" cy="{py(y):.2f}" r="2.4" fill="{colour}"/>' for x, y in points)
        parts.append("</g>")
        legend_y = 14.0 + 16.0 * number
        parts.append(
            f'<line x1="{left:.2f}" y1="{legend_y - 4:.2f}" x2="{left + 18:.2f}" y2="{legend_y - 4:.2f}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{left + 24:.2f}" y="{legend_y:.2f}" fill="#111827">{_text(one.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
