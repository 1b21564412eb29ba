"""Demo data: Belo Horizonte's nine regions, the places where their meetings happen, and schools.

Populations are the 2010 census figures per `regional`. The need index is derived from the
city's quality-of-life index (IQVU): need = city average IQVU / the region's IQVU, so Centro-Sul
(the best served) gets the lowest need and Barreiro, Norte and Venda Nova the highest. The IQVU
figures are rounded, order-of-magnitude values for the demo, not an official table.

Neighbourhoods, cultural centres and avenues are real names of each region; the works, schools'
names, addresses, dates and costs built from them are invented for the demonstration.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoRegion:
    slug: str
    name: str
    population: int
    iqvu: float
    cultural_centre: str  # first round of assemblies, start of the caravans
    school_venue: str  # second round of assemblies
    headquarters: str  # the Regional Priorities Forum and the Comforça election


_REGIONS = [
    DemoRegion(
        "barreiro",
        "Barreiro",
        282_552,
        0.560,
        "Centro Cultural Lindéia Regina, Rua Aristolino Basílio de Oliveira, Lindéia",
        "Escola Municipal Pedro Guerra, Bairro Barreiro de Baixo",
        "Sede da Diretoria Regional Barreiro, Av. Afonso Vaz de Melo, Barreiro",
    ),
    DemoRegion(
        "centro-sul",
        "Centro-Sul",
        283_776,
        0.742,
        "Centro Cultural Vila Marçola, Aglomerado da Serra",
        "Escola Municipal Imaco, Bairro Santo Agostinho",
        "Sede da Diretoria Regional Centro-Sul, Av. Augusto de Lima, Centro",
    ),
    DemoRegion(
        "leste",
        "Leste",
        238_539,
        0.604,
        "Centro Cultural Alto Vera Cruz, Rua Padre Júlio Maria, Alto Vera Cruz",
        "Escola Municipal Israel Pinheiro, Bairro Santa Efigênia",
        "Sede da Diretoria Regional Leste, Av. dos Andradas, Santa Efigênia",
    ),
    DemoRegion(
        "nordeste",
        "Nordeste",
        290_353,
        0.590,
        "Centro Cultural Liberalino Alves de Oliveira, Bairro Ribeiro de Abreu",
        "Escola Municipal Sebastiana Novais, Bairro São Paulo",
        "Sede da Diretoria Regional Nordeste, Rua Queluzita, São Paulo",
    ),
    DemoRegion(
        "noroeste",
        "Noroeste",
        268_038,
        0.613,
        "Centro Cultural Padre Eustáquio, Rua Jacutinga, Padre Eustáquio",
        "Escola Municipal Honorina de Barros, Bairro Coqueiros",
        "Sede da Diretoria Regional Noroeste, Rua Peçanha, Carlos Prates",
    ),
    DemoRegion(
        "norte",
        "Norte",
        212_055,
        0.558,
        "Centro Cultural São Bernardo, Rua Edna Quintel, São Bernardo",
        "Escola Municipal Florestan Fernandes, Bairro Jaqueline",
        "Sede da Diretoria Regional Norte, Rua Pastor Muryllo Cassete, Primeiro de Maio",
    ),
    DemoRegion(
        "oeste",
        "Oeste",
        308_549,
        0.622,
        "Centro Cultural Salgado Filho, Rua Nova Ponte, Salgado Filho",
        "Escola Municipal Hugo Werneck, Bairro Cabana do Pai Tomás",
        "Sede da Diretoria Regional Oeste, Av. Silva Lobo, Nova Granada",
    ),
    DemoRegion(
        "pampulha",
        "Pampulha",
        226_110,
        0.660,
        "Centro Cultural Pampulha, Rua Expedicionário Paulo de Souza, Urca",
        "Escola Municipal Anne Frank, Bairro Confisco",
        "Sede da Diretoria Regional Pampulha, Av. Antônio Carlos, São Luiz",
    ),
    DemoRegion(
        "venda-nova",
        "Venda Nova",
        265_179,
        0.566,
        "Centro Cultural Venda Nova, Rua José Ferreira dos Santos, Novo Letícia",
        "Escola Municipal Jardim dos Comerciários, Bairro Jardim dos Comerciários",
        "Sede da Diretoria Regional Venda Nova, Rua Padre Pedro Pinto, Venda Nova",
    ),
]

_CITY_IQVU = sum(r.iqvu for r in _REGIONS) / len(_REGIONS)


def need_index(region: DemoRegion) -> float:
    """City average IQVU over the region's: above 1 means more need than the average."""
    return round(_CITY_IQVU / region.iqvu, 3)


REGIONS: list[DemoRegion] = _REGIONS
REGION_BY_SLUG: dict[str, DemoRegion] = {r.slug: r for r in _REGIONS}


@dataclass(frozen=True)
class DemoSchool:
    slug: str
    name: str
    region_slug: str
    address: str


# OPCA schools: one per region except Centro-Sul, whose pupils join the next edition.
SCHOOLS: list[DemoSchool] = [
    DemoSchool(
        "em-professora-maria-silva-lucas",
        "Escola Municipal Professora Maria Silva Lucas",
        "barreiro",
        "Rua Úrsula Paulino, 1.150, Bairro Milionários",
    ),
    DemoSchool(
        "em-carlos-drummond-de-andrade",
        "Escola Municipal Carlos Drummond de Andrade",
        "leste",
        "Rua Conselheiro Lafaiete, 780, Bairro Sagrada Família",
    ),
    DemoSchool(
        "em-cora-coralina",
        "Escola Municipal Cora Coralina",
        "nordeste",
        "Rua Jacuí, 2.310, Bairro Concórdia",
    ),
    DemoSchool(
        "em-milton-santos",
        "Escola Municipal Milton Santos",
        "noroeste",
        "Av. Abílio Machado, 1.845, Bairro Alípio de Melo",
    ),
    DemoSchool(
        "em-carolina-maria-de-jesus",
        "Escola Municipal Carolina Maria de Jesus",
        "norte",
        "Rua Waldomiro Lobo, 600, Bairro Guarani",
    ),
    DemoSchool(
        "em-henfil",
        "Escola Municipal Henfil",
        "oeste",
        "Rua Campina Verde, 215, Bairro Salgado Filho",
    ),
    DemoSchool(
        "em-oscar-niemeyer",
        "Escola Municipal Oscar Niemeyer",
        "pampulha",
        "Av. Otacílio Negrão de Lima, 3.900, Bairro Bandeirantes",
    ),
    DemoSchool(
        "em-paulo-freire",
        "Escola Municipal Paulo Freire",
        "venda-nova",
        "Rua Padre Pedro Pinto, 2.480, Bairro Letícia",
    ),
]
