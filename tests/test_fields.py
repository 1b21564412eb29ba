"""Money typed by people, in the ways Brazilians write it; control characters in text fields."""

from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField

from opdigital.fields import GuardedForm, MoneyField, NoControlCharacters, parse_reais
from opdigital.text_safety import has_control_characters, one_line


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


# --- control characters ----------------------------------------------------------------------

# One of each kind: C0 (NUL, tab, LF, CR, VT, FF, ESC, the separators), DEL, C1 (NEL, CSI),
# and the Unicode line and paragraph separators.
CONTROLS = [
    "\x00", "\t", "\n", "\r", "\x0b", "\x0c", "\x1b", "\x1c", "\x1f", "\x7f", "\x85", "\x9b",
    "\u2028", "\u2029",
]  # fmt: skip


@pytest.mark.parametrize("char", CONTROLS)
def test_one_line_text_refuses_every_control_character(char):
    assert has_control_characters(f"Praça{char}da Estação")
    assert one_line(f"Praça{char}da Estação") == "Praça da Estação"


@pytest.mark.parametrize("char", ["\t", "\n", "\r"])
def test_multi_line_text_keeps_line_breaks_and_tabs(char):
    assert not has_control_characters(f"Praça{char}da Estação", multiline=True)


@pytest.mark.parametrize("char", [c for c in CONTROLS if c not in "\t\n\r"])
def test_multi_line_text_refuses_other_control_characters(char):
    assert has_control_characters(f"Praça{char}da Estação", multiline=True)


@pytest.mark.parametrize(
    "text", ["Praça da Estação", "Açaí, pão de queijo & café — 100%", "\u00a0\u200b🌳", ""]
)
def test_ordinary_text_is_not_refused(text):
    assert not has_control_characters(text)


class _Form(GuardedForm):
    class Meta:
        csrf = False

    title = StringField()
    description = TextAreaField()
    secret = PasswordField()
    cost = MoneyField()


def test_guarded_forms_check_every_text_field_by_its_kind(app):
    data = {
        "title": "Praça\nVOTES",
        "description": "Linha 1\r\n\tLinha 2",
        "secret": "pass\x1bword",
        "cost": "1.000,00",
    }
    with app.test_request_context(method="POST", data=data):
        form = _Form()
        assert not form.validate()
        assert list(form.errors) == ["title"]  # passwords and amounts are left alone
        assert "uma só linha" in str(form.errors["title"][0])  # pt-BR first
    with app.test_request_context(method="POST", data=data | {"description": "a\x07b"}):
        form = _Form()
        assert not form.validate()
        assert sorted(form.errors) == ["description", "title"]
    with app.test_request_context(method="POST", data=data | {"title": "Praça"}):
        assert _Form().validate()


def test_the_validator_can_be_given_to_one_field(app):
    class Form(FlaskForm):
        class Meta:
            csrf = False

        name = StringField(validators=[NoControlCharacters()])
        notes = TextAreaField(validators=[NoControlCharacters(multiline=True)])

    with app.test_request_context(method="POST", data={"name": "Ana\tSouza", "notes": "a\nb"}):
        form = Form()
        assert not form.validate()
        assert list(form.errors) == ["name"]
