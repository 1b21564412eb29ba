"""Demo data: OP Digital 2024, a finished edition whose chosen works are being built.

Two works per region, one selected in each, with execution steps that cover every status, and
one proposal rejected by the technical review with its public reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from opdigital.demo.cycles_data import DemoWork


@dataclass(frozen=True)
class PastWork:
    work: DemoWork
    selected: bool
    # Execution steps after the result, in order; the last one is the current status.
    execution: tuple[tuple[str, str], ...] = ()


def _past(region, title, place, cost, description, selected=False, execution=()):
    return PastWork(DemoWork(region, title, place, cost, description), selected, execution)


_TENDER = ("tendering", "Licitação publicada no Diário Oficial do Município.")
_WORKS = ("in_works", "Ordem de serviço assinada; obras em andamento.")

DIGITAL_2024: list[PastWork] = [
    _past(
        "barreiro",
        "Revitalização da Praça Nossa Senhora da Conceição",
        "Bairro Milionários",
        1_600_000,
        "Novo piso, iluminação, parquinho e academia a céu aberto.",
        True,
        (_TENDER, _WORKS, ("done", "Praça entregue à comunidade.")),
    ),
    _past(
        "barreiro",
        "Pavimentação de becos na Vila Cemig",
        "Vila Cemig",
        2_300_000,
        "Pavimentação e drenagem dos becos da Vila Cemig.",
    ),
    _past(
        "centro-sul",
        "Acessibilidade na Praça Marília de Dirceu",
        "Bairro Lourdes",
        1_200_000,
        "Rampas, piso tátil, bancos e nova iluminação em toda a praça.",
        True,
        (_TENDER,),
    ),
    _past(
        "centro-sul",
        "Reforma do Centro de Saúde Conjunto Santa Maria",
        "Conjunto Santa Maria, Aglomerado da Serra",
        2_000_000,
        "Reforma geral e ampliação da recepção do centro de saúde.",
    ),
    _past(
        "leste",
        "Escadaria e drenagem na Vila São Geraldo",
        "Vila São Geraldo",
        1_900_000,
        "Escadaria com corrimão, canaletas e iluminação no acesso principal da vila.",
        True,
        (_TENDER, _WORKS),
    ),
    _past(
        "leste",
        "Reforma da quadra do Bairro Pompéia",
        "Bairro Pompéia",
        900_000,
        "Cobertura, alambrado e vestiários da quadra comunitária.",
    ),
    _past(
        "nordeste",
        "Drenagem e pavimentação no Bairro Paulo VI",
        "Bairro Paulo VI",
        2_400_000,
        "Drenagem e pavimentação das ruas que alagam na época das chuvas.",
        True,
        (),
    ),
    _past(
        "nordeste",
        "Academia a céu aberto na Praça do Ipiranga",
        "Bairro Ipiranga",
        450_000,
        "Equipamentos de ginástica, pista de caminhada e bancos.",
    ),
    _past(
        "noroeste",
        "Contenção de encosta no Bairro Califórnia",
        "Bairro Califórnia",
        2_100_000,
        "Muro de contenção e drenagem na encosta atrás da escola municipal.",
        True,
        (
            _TENDER,
            (
                "cancelled",
                "Cancelada: a sondagem do terreno mostrou que a contenção exige obra maior, "
                "que a Urbel incluiu no programa municipal de áreas de risco; o recurso "
                "volta para a regional no próximo ciclo.",
            ),
        ),
    ),
    _past(
        "noroeste",
        "Reforma do Centro Cultural Padre Eustáquio",
        "Bairro Padre Eustáquio",
        1_300_000,
        "Reforma do telhado, do teatro de arena e das salas de oficina.",
    ),
    _past(
        "norte",
        "Pavimentação de ruas no Bairro Monte Azul",
        "Bairro Monte Azul",
        2_500_000,
        "Pavimentação e drenagem de cinco ruas de terra.",
        True,
        (_TENDER, _WORKS, ("done", "Ruas pavimentadas e entregues.")),
    ),
    _past(
        "norte",
        "Iluminação do campo do Bairro Aarão Reis",
        "Bairro Aarão Reis",
        600_000,
        "Iluminação, alambrado e arquibancada do campo de futebol amador.",
    ),
    _past(
        "oeste",
        "Centro de Saúde Betânia — reforma",
        "Bairro Betânia",
        2_200_000,
        "Reforma geral, acessibilidade e nova sala de vacinação.",
        True,
        (_TENDER, _WORKS),
    ),
    _past(
        "oeste",
        "Revitalização da Praça do Bairro Calafate",
        "Bairro Calafate",
        1_100_000,
        "Novo paisagismo, iluminação e bancos.",
    ),
    _past(
        "pampulha",
        "Quadras e trilhas no Parque Lagoa do Nado",
        "Parque Municipal Fazenda Lagoa do Nado, Itapoã",
        1_700_000,
        "Reforma das quadras, das trilhas e dos banheiros do parque.",
        True,
        (),
    ),
    _past(
        "pampulha",
        "Pavimentação de becos na Vila Santa Rosa",
        "Vila Santa Rosa",
        1_900_000,
        "Pavimentação e drenagem de becos da vila.",
    ),
    _past(
        "venda-nova",
        "Reforma do Centro Cultural Venda Nova",
        "Bairro Novo Letícia",
        1_400_000,
        "Reforma do auditório, acessibilidade e nova biblioteca comunitária.",
        True,
        (_TENDER,),
    ),
    _past(
        "venda-nova",
        "Drenagem de ruas no Bairro Copacabana",
        "Bairro Copacabana",
        2_200_000,
        "Rede de drenagem para acabar com os alagamentos das ruas próximas ao córrego.",
    ),
]

REJECTED_2024 = DemoWork(
    "nordeste",
    "Viaduto sobre a Av. Cristiano Machado na altura do Bairro União",
    "Av. Cristiano Machado, Bairro União",
    48_000_000,
    "Construção de viaduto para eliminar o cruzamento semaforizado da avenida.",
)
REJECTION_REASON_2024 = (
    "O custo estimado (R$ 48 milhões) é quase o orçamento de todo o ciclo e a obra depende do "
    "plano de mobilidade do município; não cabe no OP Digital."
)
