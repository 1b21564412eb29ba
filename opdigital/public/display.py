"""How dates and long texts are shown on public pages (always in the city's time zone)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import format_date, format_time


def when(moment: datetime | None) -> str:
    """Date and time in the city, e.g. '5 de dez. de 2026 09:00' / 'Dec 5, 2026 9:00 AM'."""
    if moment is None:
        return ""
    return f"{format_date(moment, 'medium')} {format_time(moment, 'short')}"


def day(moment: datetime | None) -> str:
    """The city date only."""
    return format_date(moment, "medium") if moment is not None else ""


def hour(moment: datetime | None) -> str:
    """The city time only, for an end on the same day as the start."""
    return format_time(moment, "short") if moment is not None else ""


def iso(moment: datetime | None) -> str:
    """Machine-readable value for a <time datetime> attribute."""
    return moment.isoformat() if moment is not None else ""


def paragraphs(text: str | None) -> list[str]:
    """Split a text typed by staff or citizens into paragraphs at blank lines."""
    if not text:
        return []
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
