"""Brazilian Portuguese first, English second: complete catalogues and a working switch."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.support import factories

TRANSLATIONS = Path(__file__).resolve().parent.parent / "opdigital" / "translations"


@pytest.mark.parametrize("locale", ["pt_BR", "en"])
def test_catalogue_is_complete_and_consistent(locale):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalogue = read_po(po, locale=locale)
    messages = [m for m in catalogue if m.id]
    assert len(messages) > 300
    untranslated = [m.id for m in messages if not m.string or "fuzzy" in m.flags]
    assert untranslated == []
    problems = [(m.id, errors) for m, errors in catalogue.check() if errors]
    assert problems == []


def test_catalogue_covers_every_extracted_message():
    with open(TRANSLATIONS / "messages.pot", "rb") as pot:
        template_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}
    with open(TRANSLATIONS / "pt_BR" / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalogue_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(po) if m.id}
    assert template_ids <= catalogue_ids


def test_pages_are_portuguese_by_default_and_english_on_request(app, client):
    with app.app_context():
        factories.cycle(slug="op-digital-2026", state="voting", title="OP Digital 2026")
    home = client.get("/").get_data(as_text=True)
    assert '<html lang="pt-BR">' in home
    assert "Ciclos" in home and "Pular para o conteúdo" in home
    assert "Votação" in home  # the state label, translated
    cycle_pt = client.get("/ciclos/op-digital-2026").get_data(as_text=True)
    assert "R$\xa050.000.000,00" in cycle_pt  # money as Brazilians write it

    switched = client.get("/lang/en?next=/ciclos/op-digital-2026")
    assert switched.status_code == 302
    assert switched.headers["Location"].endswith("/ciclos/op-digital-2026")
    page = client.get("/ciclos/op-digital-2026").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Skip to content" in page and "Voting" in page
    assert "R$50,000,000.00" in page

    client.get("/lang/pt_BR")
    assert "Pular para o conteúdo" in client.get("/").get_data(as_text=True)


def test_api_error_messages_follow_the_language_codes_do_not(client):
    body = client.get("/api/v1/cycles/nao-existe").get_json()
    assert body["error"] == {
        "code": "cycle_not_found",
        "message": "Não há ciclo público chamado nao-existe.",
    }
    english = client.get("/api/v1/cycles/nao-existe?lang=en").get_json()
    assert english["error"]["message"] == "There is no public cycle called nao-existe."


def test_service_refusals_are_read_in_the_visitors_language(app):
    from opdigital.cycles.services import CycleData, _check_cycle_data
    from opdigital.errors import ValidationFailed

    bad = CycleData(slug="ok", kind="opca", title="x", edition=12, total_budget_cents=0)
    with pytest.raises(ValidationFailed) as refused:
        _check_cycle_data(bad)
    with app.test_request_context("/"):
        assert str(refused.value) == "A edição deve ser um ano."
    with app.test_request_context("/?lang=en"):
        assert str(refused.value) == "The edition must be a year."
    with app.app_context():  # no visitor: the `opdigital` command speaks English
        assert str(refused.value) == "The edition must be a year."


def test_no_translated_text_hides_inside_an_f_string():
    """Babel's extractor does not look inside f-strings: `f"({_('x')})"` is never translated."""
    import ast
    from pathlib import Path

    translators = {"_", "_l", "gettext", "lazy_gettext", "ngettext"}
    hidden = []
    for path in Path("opdigital").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in translators
                ):
                    hidden.append(f"{path}:{inner.lineno}")
    assert hidden == []
