"""The colour pairs the style sheet uses for text meet WCAG 2 AA (4.5:1 for normal text)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parent.parent / "static" / "css" / "site.css").read_text()
VARIABLES = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def colour(name: str) -> str:
    return VARIABLES.get(name, name)


# (text, background) as used in site.css: body text, links, buttons, header, badges, messages.
PAIRS = [
    ("ink", "paper"),
    ("muted", "paper"),
    ("muted", "soft"),
    ("brand", "paper"),
    ("brand", "soft"),
    ("#ffffff", "brand"),
    ("#ffffff", "brand-dark"),
    ("#ffffff", "danger"),
    ("ink", "accent"),
    ("ok", "#e3f2e7"),
    ("warn", "#fff6dc"),
    ("danger", "#fbe9ea"),
    ("danger", "paper"),
    ("ink", "soft"),
    ("#ffffff", "ok"),
]


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_colours_meet_aa(text, background):
    assert contrast(colour(text), colour(background)) >= 4.5


def test_the_checker_itself():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast("#777777", "#ffffff") < 4.5
