"""The site's colours: every text colour against the backgrounds it is drawn on passes WCAG AA
(4.5:1 for body text). The colours are the custom properties of templates/base.html."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BASE = Path(__file__).resolve().parents[2] / "templates" / "base.html"


def _variables() -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", BASE.read_text()))


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_ratio_is_computed_as_wcag_defines_it() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("ink", "bg"),
        ("ink", "soft"),
        ("muted", "bg"),
        ("muted", "soft"),
        ("accent", "bg"),
        ("accent", "soft"),
        ("bad", "bg"),
        ("bad", "bad-bg"),
        ("good", "bg"),
        ("ink", "warn-bg"),
        ("muted", "warn-bg"),
    ],
)
def test_text_colours_pass_aa_on_their_backgrounds(text: str, background: str) -> None:
    colours = _variables()
    assert contrast(colours[text], colours[background]) >= 4.5, (text, background)


def test_buttons_white_on_the_accent_pass_aa() -> None:
    assert contrast("#ffffff", _variables()["accent"]) >= 4.5
