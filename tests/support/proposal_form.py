"""A citizen's proposal form filled in with valid values, for the tests that post it."""

from __future__ import annotations

VALID = {
    "title": "Reforma da Praça da Estação",
    "description": "Nova iluminação, bancos e acessibilidade para a praça inteira.",
    "region": "",
    "place": "Praça Rui Barbosa",
    "estimated_cost": "1.250.000,00",
    "author_name": "Ana Souza",
    "contact": "ana.souza@example.com",
}


def proposal_form(**overrides: str | None) -> dict[str, str]:
    """The valid form with `overrides`; a field overridden with None is left out."""
    return {name: value for name, value in (VALID | overrides).items() if value is not None}
