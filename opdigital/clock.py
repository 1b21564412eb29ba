"""The one place the application asks what time it is.

Tests move it with time-machine; code never calls `datetime.now()` directly so that phase
windows can be checked at their edges.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("America/Sao_Paulo")


def now() -> datetime:
    """Current time, aware, in UTC."""
    return datetime.now(UTC)


def today_in_city() -> date:
    """Today's date in Belo Horizonte."""
    return now().astimezone(CITY_TZ).date()


def to_city(moment: datetime) -> datetime:
    """Show a stored UTC datetime in the city's time zone."""
    return moment.astimezone(CITY_TZ)
