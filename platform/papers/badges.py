"""Embeddable SVG badges: "Footprint | reproduced", "Footprint | 2.1× on cpu-local".

The look is the common flat two-part badge (a grey label, a coloured message). No font is
embedded, so a text's width is estimated from per-character widths of Verdana at 11 px
(what most badges use) and the text is stretched to it with `textLength`: whatever font
the reader has, the text fills its box and never overflows it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from papers.claims import Status
from submissions.models import Figure, Run
from submissions.standing import Standing, result_standing

LABEL = "Footprint"
HEIGHT_PX = 20
PADDING_PX = 6  # each side of a text
LABEL_COLOR = "#555"
# Dark enough for white text (WCAG contrast >= 4.5 against #fff).
COLOR_GOOD = "#2e7d32"
COLOR_PARTIAL = "#a15c00"
COLOR_BAD = "#c62828"
COLOR_NEUTRAL = "#5f6b7a"
COLOR_INFO = "#1f5fa8"

STATUS_COLORS = {
    Status.REPRODUCED: COLOR_GOOD,
    Status.PARTIALLY_REPRODUCED: COLOR_PARTIAL,
    Status.NOT_REPRODUCED: COLOR_BAD,
    Status.PENDING: COLOR_NEUTRAL,
}

# Advance widths (px) of Verdana at 11 px for the characters badges use; others count as
# DEFAULT_CHAR_PX (wide enough for most Latin letters).
_CHAR_PX: dict[str, float] = {
    **dict.fromkeys("iljI.,:;'!|", 3.4),
    **dict.fromkeys("frt()[]/-", 4.9),
    **dict.fromkeys(" ", 3.9),
    **dict.fromkeys("abcdeghknopqsuvxyz", 6.8),
    **dict.fromkeys("0123456789", 7.0),
    **dict.fromkeys("mw", 10.6),
    **dict.fromkeys("MW", 11.0),
    **dict.fromkeys("ABCDEFGHJKLNOPQRSTUVXYZ", 7.9),
    "×": 9.2,
    "%": 12.0,
}
DEFAULT_CHAR_PX = 7.5


def text_width_px(text: str) -> float:
    return sum(_CHAR_PX.get(char, DEFAULT_CHAR_PX) for char in text)


@dataclass(frozen=True)
class Badge:
    message: str
    color: str
    label: str = LABEL

    @property
    def title(self) -> str:
        return f"{self.label}: {self.message}"


def badge_svg(badge: Badge) -> str:
    """The badge as a standalone SVG document; every text is escaped."""
    label_text_px = round(text_width_px(badge.label), 1)
    message_text_px = round(text_width_px(badge.message), 1)
    label_px = round(label_text_px + 2 * PADDING_PX)
    message_px = round(message_text_px + 2 * PADDING_PX)
    width_px = label_px + message_px
    label_x = label_px / 2
    message_x = label_px + message_px / 2

    def text(x: float, value: str, length: float) -> str:
        body = escape(value)
        common = f'x="{x:g}" textLength="{length:g}" lengthAdjust="spacingAndGlyphs"'
        return (
            f'<text {common} y="15" fill="#010101" fill-opacity=".3" aria-hidden="true">{body}</text>'
            f'<text {common} y="14">{body}</text>'
        )

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{HEIGHT_PX}" '
        f'role="img" aria-label={quoteattr(badge.title)}>'
        f"<title>{escape(badge.title)}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{width_px}" height="{HEIGHT_PX}" rx="3" fill="#fff"/></clipPath>'
        '<g clip-path="url(#r)">'
        f'<rect width="{label_px}" height="{HEIGHT_PX}" fill="{LABEL_COLOR}"/>'
        f'<rect x="{label_px}" width="{message_px}" height="{HEIGHT_PX}" fill="{badge.color}"/>'
        f'<rect width="{width_px}" height="{HEIGHT_PX}" fill="url(#s)"/>'
        "</g>"
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f"{text(label_x, badge.label, label_text_px)}"
        f"{text(message_x, badge.message, message_text_px)}"
        "</g></svg>"
    )


def badge_etag(svg: str) -> str:
    return '"' + hashlib.sha256(svg.encode()).hexdigest()[:32] + '"'


def paper_badge(*, status: str) -> Badge:
    return Badge(message=status, color=STATUS_COLORS.get(status, COLOR_NEUTRAL))


def run_badge(*, run: Run, speedup: Figure | None) -> Badge:
    """A run's badge: its measured speed-up on its class once it succeeded, else its state.

    `speedup` is the submission's speed-up figure of the run's result (None without one).
    A result that is never ranked shows why instead of a speed-up.
    """
    hardware = run.hardware_class.name
    if run.state == Run.SUCCEEDED and hasattr(run, "result"):
        standing = result_standing(result=run.result, speedup_measured=True)
        if standing.standing == Standing.INVALIDATED:
            return Badge(message=f"invalidated on {hardware}", color=COLOR_BAD)
        if standing.standing == Standing.AUDIT_FAILED:
            return Badge(message=f"audit failed on {hardware}", color=COLOR_BAD)
    if run.state == Run.SUCCEEDED:
        if speedup is None or speedup.unit != "ratio":
            return Badge(message=f"succeeded on {hardware}", color=COLOR_INFO)
        message = f"{speedup.value:.1f}× on {hardware}"
        if speedup.label != Figure.Label.MEASURED:
            message += f" ({speedup.label})"
        return Badge(message=message, color=COLOR_GOOD)
    if run.state == Run.FAILED:
        return Badge(message="failed", color=COLOR_BAD)
    if run.state == Run.CANCELLED:
        return Badge(message="cancelled", color=COLOR_NEUTRAL)
    if run.state == Run.QUEUED:
        return Badge(message="queued", color=COLOR_NEUTRAL)
    return Badge(message="running", color=COLOR_NEUTRAL)
