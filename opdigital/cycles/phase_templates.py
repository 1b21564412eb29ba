"""The calendar each kind of cycle starts from; coordinators adapt it afterwards.

Offsets are days from the cycle's start date; lengths are in days. Names are Portuguese because
they are shown to citizens as they are and coordinators edit them freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from opdigital.clock import CITY_TZ


@dataclass(frozen=True)
class PhaseTemplate:
    kind: str
    name: str
    offset_days: int
    length_days: int


TEMPLATES: dict[str, list[PhaseTemplate]] = {
    "op-digital": [
        PhaseTemplate("proposals", "Envio de propostas", 0, 30),
        PhaseTemplate("review", "Análise técnica", 30, 30),
        PhaseTemplate("voting", "Votação", 60, 21),
        PhaseTemplate("tally", "Apuração", 81, 3),
        PhaseTemplate("results", "Divulgação do resultado", 84, 7),
        PhaseTemplate("monitoring", "Acompanhamento da execução", 91, 730),
    ],
    "op-regional": [
        PhaseTemplate("assemblies", "Rodadas de assembleias", 0, 45),
        PhaseTemplate("review", "Análise técnica das demandas", 45, 30),
        PhaseTemplate("caravans", "Caravanas de prioridades", 75, 21),
        PhaseTemplate("voting", "Fórum Regional de Prioridades Orçamentárias", 96, 14),
        PhaseTemplate("results", "Divulgação dos empreendimentos aprovados", 110, 7),
        PhaseTemplate("monitoring", "Acompanhamento pela Comforça", 117, 730),
    ],
    "opca": [
        PhaseTemplate("assemblies", "Assembleias nas escolas", 0, 30),
        PhaseTemplate("proposals", "Registro das demandas das escolas", 20, 20),
        PhaseTemplate("review", "Análise técnica", 40, 20),
        PhaseTemplate("voting", "Votação online nas escolas", 60, 10),
        PhaseTemplate("results", "Divulgação do resultado", 70, 5),
        PhaseTemplate("monitoring", "Acompanhamento pela Comforça Escolar", 75, 365),
    ],
}


def phases_for(kind: str, start: date) -> list[dict]:
    """The template's phases as plain values, with datetimes at midnight in Belo Horizonte."""
    result = []
    for position, template in enumerate(TEMPLATES[kind]):
        first_day = start + timedelta(days=template.offset_days)
        starts_at = datetime.combine(first_day, time.min, tzinfo=CITY_TZ)
        ends_at = datetime.combine(
            first_day + timedelta(days=template.length_days), time.min, tzinfo=CITY_TZ
        )
        result.append(
            {
                "kind": template.kind,
                "name": template.name,
                "position": position,
                "starts_at": starts_at,
                "ends_at": ends_at,
            }
        )
    return result
