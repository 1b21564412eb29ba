"""Demo data: the 36 works of OP Digital 2026 (Portuguese, invented but realistic).

Costs are in whole reais here and converted to centavos by the loader. OP Digital works are
sized like the 2011 edition (R$ 50 milhões for 36 works, one chosen per region), so every work
fits its region's share of the budget.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoWork:
    region: str
    title: str
    place: str
    cost_reais: int
    description: str


# --- OP Digital 2026: 36 works, 4 per region ----------------------------------------------------

DIGITAL_2026: list[DemoWork] = [
    # Barreiro
    DemoWork(
        "barreiro",
        "Urbanização da Vila Pinho — 2ª etapa",
        "Vila Pinho, Barreiro",
        4_650_000,
        "Drenagem, pavimentação de becos, escadarias e contenção de encostas, com "
        "reassentamento das famílias que vivem em áreas de risco.",
    ),
    DemoWork(
        "barreiro",
        "Centro de Saúde Lindéia — reforma e ampliação",
        "Bairro Lindéia",
        3_200_000,
        "Ampliação do centro de saúde com mais quatro consultórios, sala de vacinação e "
        "acessibilidade completa.",
    ),
    DemoWork(
        "barreiro",
        "Revitalização da Praça Modestino Sales Barbosa",
        "Barreiro de Baixo",
        1_850_000,
        "Nova iluminação em LED, academia a céu aberto, parquinho infantil e calçadas "
        "acessíveis na principal praça do Barreiro.",
    ),
    DemoWork(
        "barreiro",
        "Pavimentação de vias no Conjunto Jatobá IV",
        "Conjunto Jatobá IV, Vale do Jatobá",
        2_700_000,
        "Pavimentação, meio-fio e drenagem pluvial de seis ruas de terra do conjunto, "
        "com rede de esgoto.",
    ),
    # Centro-Sul
    DemoWork(
        "centro-sul",
        "Urbanização da Vila Nossa Senhora de Fátima",
        "Aglomerado da Serra",
        4_800_000,
        "Abertura de via de acesso para ambulâncias e coleta de lixo, drenagem e "
        "escadarias na Vila Nossa Senhora de Fátima.",
    ),
    DemoWork(
        "centro-sul",
        "Centro de Saúde Santa Lúcia — nova sede",
        "Vila Barragem Santa Lúcia",
        3_900_000,
        "Construção de nova sede para o centro de saúde, hoje instalado em imóvel alugado "
        "e sem acessibilidade.",
    ),
    DemoWork(
        "centro-sul",
        "Contenção de encostas no Morro do Papagaio",
        "Morro do Papagaio, Aglomerado Santa Lúcia",
        3_400_000,
        "Muros de contenção, canaletas e escadarias nas áreas apontadas como de alto risco "
        "geológico pela Urbel.",
    ),
    DemoWork(
        "centro-sul",
        "Revitalização da Praça Carlos Chagas",
        "Praça da Assembleia, Santo Agostinho",
        2_100_000,
        "Recuperação do piso, novo paisagismo, bancos, bebedouros e espaço para cães na "
        "Praça da Assembleia.",
    ),
    # Leste
    DemoWork(
        "leste",
        "Urbanização da Vila Dias",
        "Vila Dias, Bairro Pompéia",
        4_200_000,
        "Pavimentação de becos, rede de drenagem, iluminação pública e praça de convivência "
        "na Vila Dias.",
    ),
    DemoWork(
        "leste",
        "Centro de Saúde Taquaril — reforma e ampliação",
        "Bairro Taquaril",
        3_100_000,
        "Reforma completa do centro de saúde, com nova farmácia, sala de curativos e "
        "cobertura da área de espera.",
    ),
    DemoWork(
        "leste",
        "Revitalização da Praça Duque de Caxias",
        "Bairro Santa Tereza",
        1_900_000,
        "Restauro do coreto, novo piso drenante, iluminação e mobiliário na praça símbolo "
        "de Santa Tereza.",
    ),
    DemoWork(
        "leste",
        "Pavimentação e drenagem de ruas no Granja de Freitas",
        "Conjunto Granja de Freitas",
        2_900_000,
        "Pavimentação e drenagem de ruas do conjunto, com pontos de ônibus cobertos e "
        "calçadas acessíveis.",
    ),
    # Nordeste
    DemoWork(
        "nordeste",
        "Urbanização da Vila Beija-Flor",
        "Vila Beija-Flor, Bairro Ribeiro de Abreu",
        4_500_000,
        "Drenagem, pavimentação e remoção de moradias da beira do córrego, com "
        "reassentamento na própria região.",
    ),
    DemoWork(
        "nordeste",
        "Centro de Saúde Capitão Eduardo",
        "Bairro Capitão Eduardo",
        3_300_000,
        "Construção de centro de saúde para as equipes de Saúde da Família que hoje "
        "atendem em salas cedidas.",
    ),
    DemoWork(
        "nordeste",
        "Parque do Ribeiro de Abreu — 1ª etapa",
        "Margens do Ribeirão do Onça, Ribeiro de Abreu",
        3_700_000,
        "Parque linear com trilhas, ciclovia, quadra e recuperação da mata ciliar do "
        "Ribeirão do Onça.",
    ),
    DemoWork(
        "nordeste",
        "Reforma da Praça de Esportes do Bairro São Paulo",
        "Bairro São Paulo",
        2_200_000,
        "Reforma da piscina, cobertura da quadra poliesportiva e vestiários acessíveis.",
    ),
    # Noroeste
    DemoWork(
        "noroeste",
        "Urbanização da Pedreira Prado Lopes — 3ª etapa",
        "Pedreira Prado Lopes, Bairro São Cristóvão",
        4_600_000,
        "Continuação das obras de urbanização: escadarias, drenagem, contenções e "
        "unidades habitacionais.",
    ),
    DemoWork(
        "noroeste",
        "Centro de Saúde Jardim Montanhês",
        "Bairro Jardim Montanhês",
        3_200_000,
        "Nova sede do centro de saúde, com espaço para duas equipes de Saúde da Família e "
        "saúde bucal.",
    ),
    DemoWork(
        "noroeste",
        "Revitalização da Praça do Bairro Caiçara",
        "Bairro Caiçara",
        1_800_000,
        "Nova quadra, pista de caminhada, iluminação e parquinho infantil acessível.",
    ),
    DemoWork(
        "noroeste",
        "Pavimentação e drenagem de ruas na Vila Coqueiral",
        "Vila Coqueiral, Bairro Coqueiros",
        2_700_000,
        "Pavimentação, drenagem e iluminação de ruas que alagam a cada chuva forte.",
    ),
    # Norte
    DemoWork(
        "norte",
        "Urbanização da Vila Novo Tupi",
        "Bairro Novo Tupi",
        4_400_000,
        "Abertura e pavimentação de vias, drenagem e contenção de encostas, com "
        "regularização dos lotes.",
    ),
    DemoWork(
        "norte",
        "Centro de Saúde Jaqueline II",
        "Bairro Jaqueline",
        3_000_000,
        "Construção de um segundo centro de saúde para o bairro, que hoje atende mais de "
        "20 mil pessoas em uma só unidade.",
    ),
    DemoWork(
        "norte",
        "Implantação do Parque do Bairro Planalto",
        "Bairro Planalto",
        2_800_000,
        "Parque de bairro com nascente recuperada, trilhas, academia a céu aberto e "
        "espaço para feiras.",
    ),
    DemoWork(
        "norte",
        "Pavimentação de ruas no Bairro Solimões",
        "Bairro Solimões",
        2_500_000,
        "Pavimentação, meio-fio e drenagem de ruas ainda sem asfalto no Solimões.",
    ),
    # Oeste
    DemoWork(
        "oeste",
        "Urbanização da Vila Cabana do Pai Tomás — 2ª etapa",
        "Cabana do Pai Tomás",
        4_900_000,
        "Alargamento de becos, drenagem, escadarias e nova praça no alto da Cabana.",
    ),
    DemoWork(
        "oeste",
        "Centro de Saúde Vista Alegre — nova sede",
        "Bairro Vista Alegre",
        3_400_000,
        "Nova sede acessível para o centro de saúde, com farmácia e sala de vacinação.",
    ),
    DemoWork(
        "oeste",
        "Contenção de encostas no Morro das Pedras",
        "Aglomerado Morro das Pedras",
        3_600_000,
        "Obras de contenção e drenagem nas áreas de risco geológico alto e muito alto "
        "do aglomerado.",
    ),
    DemoWork(
        "oeste",
        "Revitalização da praça e quadra do Bairro Havaí",
        "Bairro Havaí",
        1_900_000,
        "Cobertura da quadra, vestiários, iluminação e paisagismo da praça.",
    ),
    # Pampulha
    DemoWork(
        "pampulha",
        "Urbanização da Vila Santa Rosa",
        "Vila Santa Rosa",
        3_800_000,
        "Drenagem, pavimentação de becos e construção de centro comunitário na Vila Santa Rosa.",
    ),
    DemoWork(
        "pampulha",
        "Centro de Saúde Confisco — ampliação",
        "Bairro Confisco",
        2_900_000,
        "Ampliação do centro de saúde com novos consultórios, sala de observação e acessibilidade.",
    ),
    DemoWork(
        "pampulha",
        "Revitalização da Praça do Bairro Ouro Preto",
        "Bairro Ouro Preto",
        1_700_000,
        "Novo paisagismo, pista de caminhada, academia a céu aberto e iluminação em LED.",
    ),
    DemoWork(
        "pampulha",
        "Pavimentação e drenagem de ruas no Bairro Trevo",
        "Bairro Trevo",
        2_600_000,
        "Pavimentação e drenagem de ruas de terra e nova travessia sobre o córrego.",
    ),
    # Venda Nova
    DemoWork(
        "venda-nova",
        "Urbanização da Vila Apolônia",
        "Vila Apolônia, Bairro Jardim Leblon",
        4_300_000,
        "Pavimentação, drenagem, escadarias e regularização fundiária na Vila Apolônia.",
    ),
    DemoWork(
        "venda-nova",
        "Centro de Saúde Céu Azul — nova sede",
        "Bairro Céu Azul",
        3_200_000,
        "Construção de nova sede para o centro de saúde, com espaço para três equipes.",
    ),
    DemoWork(
        "venda-nova",
        "Revitalização da Praça do Bairro Mantiqueira",
        "Bairro Mantiqueira",
        1_800_000,
        "Nova quadra, parquinho, academia a céu aberto e iluminação em LED.",
    ),
    DemoWork(
        "venda-nova",
        "Pavimentação de ruas no Bairro Serra Verde",
        "Bairro Serra Verde",
        2_600_000,
        "Pavimentação, drenagem e calçadas acessíveis em ruas próximas à estação de integração.",
    ),
]
