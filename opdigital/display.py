"""How dates and long texts are shown on public pages (always in the city's time zone)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask_babel import format_date, format_time

from opdigital.clock import to_city


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


def _at_midnight(moment: datetime) -> bool:
    return to_city(moment).time() == time.min


def window_start(moment: datetime) -> str:
    """A phase's start: just the date when it starts at midnight, as most do."""
    return day(moment) if _at_midnight(moment) else when(moment)


def window_end(moment: datetime) -> str:
    """A phase's end as people say it: a phase ending at midnight runs *through* the day before.

    Windows are stored half-open (the end is excluded), so "until 25 Dec 00:00" is shown as
    "until 24 Dec", which is what a citizen reading the calendar means.
    """
    if _at_midnight(moment):
        return format_date(to_city(moment) - timedelta(days=1), "medium")
    return when(moment)


def iso(moment: datetime | None) -> str:
    """Machine-readable value for a <time datetime> attribute."""
    return moment.isoformat() if moment is not None else ""


def paragraphs(text: str | None) -> list[str]:
    """Split a text typed by staff or citizens into paragraphs at blank lines."""
    if not text:
        return []
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
