"""Money typed by people, in the ways Brazilians write it."""

from __future__ import annotations

import pytest

from opdigital.fields import parse_reais


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("R$ 1.234.567,89", 123456789),
        ("1234567,89", 123456789),
        ("1234567.89", 123456789),
        ("1.234.567", 123456700),
        ("12,5", 1250),
        ("100", 10000),
        (" 2.250.000,00 ", 225000000),
    ],
)
def test_amounts_are_read_as_centavos(text, cents):
    assert parse_reais(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "-5", "1,2,3", "1.2.3,456", "12,345", "R$", "1e6"])
def test_garbage_is_refused(text):
    with pytest.raises(ValueError):
        parse_reais(text)
