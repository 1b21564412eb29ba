"""Demo voters: a small city roll so that `make run` lets a newcomer vote in OP Digital 2026.

The títulos are made up (sequential numbers with valid check digits for Minas Gerais) and are
printed by `opdigital demo`: DEMO ONLY, like the demo passwords.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from opdigital.extensions import db
from opdigital.registry.keys import titulo_key
from opdigital.registry.models import CITY_SCOPE, RegistryEntry
from opdigital.registry.services import import_registry
from opdigital.registry.titulo import check_suffix

MG = "02"
# (sequential number, birth date, region slug): one or two voters per region.
DEMO_VOTERS = [
    ("00102030", date(1985, 3, 2), "barreiro"),
    ("00102031", date(1990, 7, 14), "centro-sul"),
    ("00102032", date(1972, 11, 30), "leste"),
    ("00102033", date(2001, 1, 9), "nordeste"),
    ("00102034", date(1964, 5, 21), "noroeste"),
    ("00102035", date(1998, 9, 3), "norte"),
    ("00102036", date(1979, 12, 25), "oeste"),
    ("00102037", date(2004, 6, 17), "pampulha"),
    ("00102038", date(1958, 2, 28), "venda-nova"),
    ("00102039", date(1993, 4, 5), "venda-nova"),
    ("00102040", date(1987, 8, 12), "barreiro"),
    ("00102041", date(1969, 10, 1), "centro-sul"),
]


def demo_titulo(sequential: str) -> str:
    """A valid título for a demo voter, grouped as people write it: '0010 2030 0211'."""
    number = sequential + MG + check_suffix(sequential, MG)
    return f"{number[:4]} {number[4:8]} {number[8:]}"


def load_demo_voters(actor) -> list[str]:
    """Import the demo roll through the real importer, unless every demo voter is there."""
    pepper = current_app.config["VOTER_KEY_PEPPER"]
    keys = [titulo_key(demo_titulo(sequential), pepper) for sequential, _, _ in DEMO_VOTERS]
    present = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RegistryEntry)
        .where(RegistryEntry.scope == CITY_SCOPE, RegistryEntry.voter_key.in_(keys))
    )
    if present == len(DEMO_VOTERS):
        return [f"Demo voters: 0 added, {present} already present."]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo-roll.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["titulo", "birth_date", "region"])
            for sequential, born, region in DEMO_VOTERS:
                writer.writerow([demo_titulo(sequential), born.isoformat(), region])
        report = import_registry(path, city=True, actor=actor)
    lines = [
        f"Demo voters: {report.inserted} added, {report.unchanged} already present. "
        "Vote at /ciclos/op-digital-2026/votar with (DEMO ONLY):"
    ]
    for sequential, born, region in DEMO_VOTERS[:4]:
        lines.append(f"  título {demo_titulo(sequential)}  born {born.isoformat()}  ({region})")
    return lines
