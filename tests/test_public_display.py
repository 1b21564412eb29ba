"""Phase windows read as people say them: a phase ending at midnight runs through the day before."""

from __future__ import annotations

from datetime import UTC, datetime

from opdigital.display import window_end, window_start

MIDNIGHT_IN_BH = datetime(2026, 12, 25, 3, 0, tzinfo=UTC)  # 25 Dec 00:00 in America/Sao_Paulo
EVENING_IN_BH = datetime(2026, 12, 25, 22, 30, tzinfo=UTC)  # 25 Dec 19:30


def test_midnight_windows_show_whole_days(app):
    with app.test_request_context("/"):
        assert window_start(MIDNIGHT_IN_BH) == "25 de dez. de 2026"
        assert window_end(MIDNIGHT_IN_BH) == "24 de dez. de 2026"
    with app.test_request_context("/?lang=en"):
        assert window_end(MIDNIGHT_IN_BH) == "Dec 24, 2026"


def test_other_times_are_shown_as_they_are(app):
    with app.test_request_context("/"):
        assert window_start(EVENING_IN_BH) == "25 de dez. de 2026 19:30"
        assert window_end(EVENING_IN_BH) == "25 de dez. de 2026 19:30"
