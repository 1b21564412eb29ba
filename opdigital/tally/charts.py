"""Server-rendered SVG bar charts for the results page (pure: no Flask, no database).

Why SVG on the server: the page must work without JavaScript and under a Content-Security-Policy
with no inline styles or scripts, so the chart is plain markup coloured by presentation
attributes and classes (static/css/results.css). Each chart is an image with a <title> and a
<desc> for screen readers; the page puts the same figures in a table next to it, which is the
full text alternative (the <desc> says so).

Bars are horizontal, one row per item, the label on its own line above the bar: labels are
proposal titles and region names of any length, and this way no text width has to be guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640
LABEL_HEIGHT = 18  # the label's line, above its bar
BAR_HEIGHT = 18
ROW_GAP = 10
# Room on the right of the longest bar for its value text, e.g. "R$ 12.500.000,00 de
# R$ 50.000.000,00" (about 36 characters of 14-unit text).
VALUE_SPACE = 290
PADDING = 4
# About this many characters of 14-unit text fit in WIDTH; longer labels are shortened (the
# table beside the chart gives them in full).
LABEL_MAX_CHARS = 80


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value (any unit) and the text shown for the value."""

    label: str
    value: int
    value_text: str
    highlighted: bool = False  # drawn in the accent colour (e.g. a selected proposal)


def shorten(label: str, limit: int = LABEL_MAX_CHARS) -> str:
    """`label` cut to `limit` characters, with an ellipsis when something was cut."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _row_height() -> int:
    return LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP


def chart_height(count: int) -> int:
    """The chart's height in user units for `count` bars (at least one row, for the empty note)."""
    return PADDING * 2 + max(count, 1) * _row_height()


def bar_length(value: int, largest: int, room: int = WIDTH - VALUE_SPACE) -> float:
    """A bar's length: proportional to the largest value; 0 when every value is 0.

    A non-zero value always gets at least 1 unit, so that "a few votes" never looks like none.
    """
    if largest <= 0 or value <= 0:
        return 0.0
    return max(1.0, room * value / largest)


def bar_chart(chart_id: str, title: str, description: str, bars: Sequence[Bar]) -> Markup:
    """An accessible horizontal bar chart as inline SVG markup.

    `chart_id` must be unique on the page (it prefixes the ids <title> and <desc> get); every
    text is escaped here, so labels typed by citizens cannot inject markup.
    """
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    height = chart_height(len(bars))
    largest = max((bar.value for bar in bars), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(title_id)} {escape(desc_id)}" '
        f'viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]
    for index, bar in enumerate(bars):
        top = PADDING + index * _row_height()
        length = bar_length(bar.value, largest)
        kind = "bar bar-highlighted" if bar.highlighted else "bar"
        fill = "#1e6b34" if bar.highlighted else "#0b5394"  # site.css --ok / --brand
        bar_top = top + LABEL_HEIGHT
        parts.append(
            f'<text class="bar-label" x="0" y="{top + LABEL_HEIGHT - 5}" fill="#1b1f24" '
            f'font-size="14">{escape(shorten(bar.label))}</text>'
            f'<rect class="{kind}" x="0" y="{bar_top}" width="{length:.1f}" '
            f'height="{BAR_HEIGHT}" fill="{fill}"/>'
            f'<text class="bar-value" x="{length + 6:.1f}" y="{bar_top + BAR_HEIGHT - 4}" '
            f'fill="#1b1f24" font-size="14">{escape(bar.value_text)}</text>'
        )
    parts.append("</svg>")
    # Safe: every piece of text above went through html.escape.
    return Markup("".join(parts))  # noqa: S704
