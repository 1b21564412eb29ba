"""The environment a production deployment sets, for the tests that load production settings.

tests/test_config.py checks what production refuses; tests/test_demo.py that the demo loader
refuses to run there.
"""

from __future__ import annotations

SECRET = "s" * 48
SETTINGS_VARIABLES = [
    "OPDIGITAL_CONFIG",
    "SECRET_KEY",
    "VOTER_KEY_PEPPER",
    "DATABASE_URL",
    "REDIS_URL",
    "RATELIMIT_STORAGE_URI",
    "SESSION_COOKIE_SECURE",
    "PRIVACY_CONTROLLER_NAME",
    "PRIVACY_CONTROLLER_CONTACT",
    "PRIVACY_OFFICER_NAME",
    "PRIVACY_OFFICER_EMAIL",
    "PRIVACY_OFFICER_PHONE",
    "PUBLIC_BASE_URL",
    "MAIL_DEFAULT_SENDER",
]

# The privacy notice's controller and encarregado (opdigital/settings.py, PRIVACY_REQUIRED).
PRIVACY = {
    "PRIVACY_CONTROLLER_NAME": "Prefeitura Municipal",
    "PRIVACY_CONTROLLER_CONTACT": "Av. Afonso Pena, 1212",
    "PRIVACY_OFFICER_NAME": "Encarregada de Dados",
    "PRIVACY_OFFICER_EMAIL": "encarregado@prefeitura.example",
}


# The public address and the mail sender (opdigital/settings.py, Production.validate).
PUBLIC_SITE = {
    "PUBLIC_BASE_URL": "https://op.prefeitura.example",
    "MAIL_DEFAULT_SENDER": "OP Digital <nao-responda@prefeitura.example>",
}


def full_production(**changes: str | None) -> dict[str, str | None]:
    """Every variable production requires, set to valid values, with `changes` applied."""
    return (
        {
            "SECRET_KEY": SECRET,
            "VOTER_KEY_PEPPER": "p" * 32,
            "DATABASE_URL": "postgres://op:secret@db.internal:5432/opdigital",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        }
        | PRIVACY
        | PUBLIC_SITE
        | changes
    )
