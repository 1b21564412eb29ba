"""Demo data: the demands raised in OP Regional's assemblies and in OPCA's schools."""

from __future__ import annotations

from opdigital.demo.cycles_data import DemoWork

# --- OP Regional 2027/2028: demands raised in the first round of assemblies ---------------------

REGIONAL_DEMANDS: list[DemoWork] = [
    DemoWork(
        "barreiro",
        "Reforma e ampliação da Escola Municipal Pedro Guerra",
        "Barreiro de Baixo",
        5_200_000,
        "Seis novas salas de aula, quadra coberta e refeitório, aprovada na 1ª rodada.",
    ),
    DemoWork(
        "barreiro",
        "Urbanização do Beco da Paz na Vila Independência",
        "Vila Independência",
        2_800_000,
        "Pavimentação, drenagem e escadaria do beco que liga a vila ao ponto de ônibus.",
    ),
    DemoWork(
        "centro-sul",
        "Centro de convivência para idosos no Aglomerado da Serra",
        "Vila Marçola, Aglomerado da Serra",
        3_100_000,
        "Espaço de convivência com oficinas, fisioterapia e refeitório para idosos.",
    ),
    DemoWork(
        "leste",
        "Reforma do Centro Cultural Alto Vera Cruz",
        "Alto Vera Cruz",
        2_400_000,
        "Reforma do teatro, das salas de dança e acessibilidade em todo o prédio.",
    ),
    DemoWork(
        "nordeste",
        "Drenagem do Córrego Gorduras",
        "Bairro Belmonte",
        6_500_000,
        "Canalização aberta e parque linear para acabar com as enchentes no Belmonte.",
    ),
    DemoWork(
        "noroeste",
        "Creche municipal no Bairro Glória",
        "Bairro Glória",
        4_100_000,
        "Escola municipal de educação infantil para 300 crianças de 0 a 5 anos.",
    ),
    DemoWork(
        "norte",
        "Centro de Saúde Providência — nova sede",
        "Bairro Providência",
        3_600_000,
        "Nova sede para o centro de saúde, que funciona em casa alugada e pequena.",
    ),
    DemoWork(
        "norte",
        "Pavimentação da Rua Maria Zilda no Bairro Lajedo",
        "Rua Maria Zilda, Bairro Lajedo",
        1_900_000,
        "Pavimentação, drenagem e calçadas da principal rua de acesso ao bairro.",
    ),
    DemoWork(
        "oeste",
        "Parque no Bairro Estrela Dalva",
        "Bairro Estrela Dalva",
        2_700_000,
        "Parque de bairro com quadra, parquinho, trilhas e recuperação de nascente.",
    ),
    DemoWork(
        "pampulha",
        "Escadarias e contenção na Vila Real",
        "Vila Real, Bairro Jardim Alvorada",
        2_300_000,
        "Escadarias com corrimão, muros de contenção e iluminação.",
    ),
    DemoWork(
        "venda-nova",
        "Urbanização da Vila Minaslândia",
        "Vila Minaslândia, Bairro São João Batista",
        4_700_000,
        "Abertura de vias, drenagem e reassentamento de famílias da beira do córrego.",
    ),
    DemoWork(
        "venda-nova",
        "Reforma da Praça do Bairro Rio Branco",
        "Bairro Rio Branco",
        1_500_000,
        "Nova iluminação, academia a céu aberto, bancos e parquinho acessível.",
    ),
]

# --- OPCA 2026: two demands per school, raised by the pupils' assemblies -------------------------

SCHOOL_DEMANDS: dict[str, list[tuple[str, int, str]]] = {
    "em-professora-maria-silva-lucas": [
        ("Parquinho novo no pátio", 85_000, "Brinquedos novos e piso emborrachado no pátio."),
        ("Cobertura da quadra", 240_000, "Cobrir a quadra para ter Educação Física na chuva."),
    ],
    "em-carlos-drummond-de-andrade": [
        ("Biblioteca com mais livros e pufes", 60_000, "Mais livros, estantes e pufes."),
        ("Horta escolar", 35_000, "Canteiros, ferramentas e irrigação para a horta."),
    ],
    "em-cora-coralina": [
        ("Reforma dos banheiros", 150_000, "Banheiros novos, com portas e acessibilidade."),
        ("Brinquedoteca", 70_000, "Sala com brinquedos e jogos para o recreio."),
    ],
    "em-milton-santos": [
        ("Laboratório de informática", 180_000, "Computadores novos e internet na escola."),
        ("Bebedouros novos", 40_000, "Bebedouros com água gelada em todos os andares."),
    ],
    "em-carolina-maria-de-jesus": [
        ("Quadra poliesportiva nova", 260_000, "Piso, traves, tabelas e alambrado novos."),
        ("Cantinho da leitura no pátio", 45_000, "Bancos, sombra e estantes no pátio."),
    ],
    "em-henfil": [
        ("Sala de artes", 90_000, "Sala equipada para pintura, música e teatro."),
        ("Pátio com sombra", 120_000, "Árvores, toldos e bancos para o recreio."),
    ],
    "em-oscar-niemeyer": [
        ("Parquinho acessível", 110_000, "Brinquedos que todas as crianças possam usar."),
        ("Reforma da biblioteca", 75_000, "Mais luz, ventiladores, livros e computadores."),
    ],
    "em-paulo-freire": [
        ("Cobertura do pátio", 200_000, "Cobrir o pátio para o recreio em dias de chuva."),
        ("Jogos de mesa e tênis de mesa", 30_000, "Mesas de ping-pong e jogos no pátio."),
    ],
}
