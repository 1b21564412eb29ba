"""What the line says: every line the dialogue can produce has words, in both languages."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from opdigital.phone import prompts
from opdigital.phone.dialogue import Line

VALUED = [
    Line("cycle_option", {"number": 2, "name": "OP Digital 2026"}),
    Line("cycle_chosen", {"name": "OP Digital 2026"}),
    Line("region", {"name": "Barreiro", "count": 3}),
    Line("region", {"name": "", "count": 1}),
    Line("work", {"number": 7, "title": "Praça", "cost_cents": 123_456_700, "chosen": True}),
    Line("chosen", {"number": 7, "count": 2, "replaced": 3, "left_cents": 5_000_00}),
    Line("unchosen", {"number": 7, "count": 0}),
    Line("summary", {"count": 0}),
    Line("summary", {"count": 2}),
    Line("summary_work", {"number": 7, "title": "Praça", "cost_cents": 100}),
    Line("summary_total", {"total_cents": 100}),
    Line("receipt_code", {"code": "K7Q2-M4XA-9PLD-W3ZT"}),
    Line("receipt_again", {"code": "K7Q2-M4XA-9PLD-W3ZT"}),
    Line("rate_limited", {"minutes": 15}),
    *[
        Line("problem", {"code": code, "max": 2, "min": 2, "count": 1, "region_name": "Norte",
                         "excess_cents": 5, "min_cents": 10, "missing_cents": 5})
        for code in ("too_many", "too_many_in_region", "over_budget", "over_budget_in_region",
                     "empty", "too_few", "too_few_in_region", "under_min_share", "unknown")
    ],
    *[
        Line("rule", {"kind": kind, "min": low, "max": high, "region_min": 0, "region_max": 2,
                      "per_region": per_region, "budget_cents": 100, "works": 5, "regions": 2})
        for kind, low, high, per_region in [
            ("one-city-wide", 1, 1, False), ("one-per-region", 1, None, False),
            ("knapsack", 1, None, False), ("knapsack", 1, None, True),
            ("approval", 1, 3, False), ("approval", 2, 3, False), ("approval", 3, 3, False),
            ("approval", 2, None, False), ("approval", 1, None, False), ("approval", 1, None, True),
        ]
    ],
]  # fmt: skip


@pytest.mark.parametrize("language", ["pt_BR", "en"])
def test_every_line_has_words_by_voice(app, language):
    with app.test_request_context(), force_locale(language):
        for line in [*prompts.fixed_lines(), *VALUED]:
            assert prompts.render(line, prompts.VOICE, language).strip(), line


def test_the_portuguese_line_speaks_portuguese(app):
    with app.test_request_context(), force_locale("pt_BR"):
        said = prompts.words([Line("welcome"), Line("ask_titulo")], prompts.VOICE)
    assert "Orçamento Participativo" in said[0]
    assert "título de eleitor" in said[1] and "12" in said[1]


def test_text_messages_leave_out_what_only_makes_sense_by_voice(app):
    with app.test_request_context(), force_locale("pt_BR"):
        assert prompts.words([Line("slower_hint"), Line("slower_on")], prompts.TEXT) == []
        menu = prompts.render(Line("work_menu", {"chosen": False}), prompts.TEXT)
        spoken = prompts.render(Line("work_menu", {"chosen": False}), prompts.VOICE)
    assert menu != spoken and "#" in menu


def test_the_receipt_is_spelled_character_by_character_in_portuguese():
    said = prompts.spelled("K7Q2-M4XA", "pt_BR")
    assert said == "cá, sete, quê, dois; ême, quatro, xis, á"
    assert prompts.spelled("K7Q2-M4XA", "en") == "K, 7, Q, 2; M, 4, X, A"


def test_the_text_receipt_carries_the_code_as_written(app):
    with app.test_request_context(), force_locale("pt_BR"):
        said = prompts.render(Line("receipt_code", {"code": "K7Q2-M4XA"}), prompts.TEXT)
    assert "K7Q2-M4XA" in said


def test_recordings_exist_only_for_sentences_that_do_not_change():
    names = {prompts.recording_name(line) for line in prompts.fixed_lines()}
    assert None not in names
    assert {"work_menu", "work_menu-chosen", "receipt_menu", "receipt_menu-can_text"} <= names
    assert prompts.recording_name(VALUED[4]) is None  # a work: its title and cost
    assert prompts.recording_name(VALUED[11]) is None  # a receipt code
