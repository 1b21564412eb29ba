"""Título de eleitor: normalising, check digits (Resolução TSE 23.659/2021 art. 36), SP/MG variant,
against numbers from an independent generator (validate-docbr), and the voter keys."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest
from validate_docbr import TituloEleitoral

from opdigital.registry import keys, titulo

GENERATOR = TituloEleitoral()


def generated(n: int) -> list[str]:
    return [GENERATOR.generate() for _ in range(n)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("102385010671", "102385010671"),
        ("1023 8501 0671", "102385010671"),
        ("1023.8501.06-71", "102385010671"),
        ("10238501/0671", "102385010671"),
        (" 1023 8501 0671 ", "102385010671"),
    ],
)
def test_normalise_strips_separators(raw, expected):
    assert titulo.normalise(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12345678901",
        "1234567890123",
        "10238501067a",
        "１０２３８５０１０６７１",
        "1023_8501_0671",
    ],
)
def test_normalise_refuses_anything_but_12_digits(raw):
    with pytest.raises(ValueError):
        titulo.normalise(raw)


def test_numbers_from_an_independent_generator_are_valid():
    numbers = generated(5000)
    assert all(GENERATOR.validate(n) for n in numbers)  # the generator agrees with itself
    assert [n for n in numbers if not titulo.is_valid(n)] == []
    masked = [GENERATOR.generate(mask=True) for _ in range(500)]
    assert all(" " in n and titulo.is_valid(n) for n in masked)


def test_a_changed_check_digit_is_invalid():
    rng = random.Random(3)
    mutated_numbers = 0
    for number in generated(3000):
        if number[8:10] in ("01", "02"):
            continue  # SP/MG accept a second suffix: see the hand-computed examples below
        position = rng.choice([10, 11])
        wrong = str((int(number[position]) + rng.randint(1, 9)) % 10)
        mutated = number[:position] + wrong + number[position + 1 :]
        assert not titulo.is_valid(mutated), mutated
        mutated_numbers += 1
    assert mutated_numbers > 2000


def test_a_changed_sequential_digit_is_invalid_but_for_dv1_zero():
    # Weights 2..9 are prime to 11, so a changed digit always changes the remainder; only the
    # pair of remainders 0 and 10 share DV1 = 0 (and DV2 depends on DV1 alone, not on them).
    for number in generated(3000):
        if number[8:10] in ("01", "02"):
            continue
        mutated = str((int(number[3]) + 1) % 10).join((number[:3], number[4:]))
        assert not titulo.is_valid(mutated) or number[10] == "0", mutated


@pytest.mark.parametrize("state", ["00", "29", "99"])
def test_unknown_state_codes_are_invalid_even_with_right_check_digits(state):
    for sequential in ("10238501", "00000001", "87654321"):
        dv1 = sum(int(d) * w for d, w in zip(sequential, range(2, 10), strict=True)) % 11 % 10
        dv2 = (int(state[0]) * 7 + int(state[1]) * 8 + dv1 * 9) % 11 % 10
        number = f"{sequential}{state}{dv1}{dv2}"
        assert number[10:] == titulo.check_digits(sequential, state)[0]
        assert not titulo.is_valid(number)


def test_resolution_examples_computed_by_hand():
    # 10238501 x 2..9 = 2+0+8+15+48+35+0+9 = 117 -> 117 mod 11 = 7 = DV1;
    # state 06 (PR): 0x7 + 6x8 + 7x9 = 111 -> 111 mod 11 = 1 = DV2.
    assert titulo.is_valid("102385010671")
    assert not titulo.is_valid("102385010672")
    assert not titulo.is_valid("102385010661")
    # 00000004 -> 4x9 = 36 -> 3; state 05: 0 + 40 + 27 = 67 -> 1.
    assert titulo.is_valid("000000040531")
    # Remainder 10 gives DV1 0: 00000006 -> 6x9 = 54 -> 10; state 10: 7 + 0 + 0 = 7.
    assert titulo.is_valid("000000061007")
    # Remainder 10 gives DV2 0: 00000050 -> 5x8 = 40 -> 7; state 03: 0 + 24 + 63 = 87 -> 10.
    assert titulo.is_valid("000000500370")
    assert not titulo.is_valid("000000500371")


def test_sp_mg_legacy_variant_is_accepted_besides_the_resolution_rule():
    # SP (01): 16274907 x 2..9 = 2+18+8+35+24+63+0+63 = 213 -> 213 mod 11 = 4 = DV1;
    # 0x7 + 1x8 + 4x9 = 44 -> remainder 0: DV2 = 0 (Resolução) or 1 (legacy SP/MG rule).
    assert titulo.is_valid("162749070140")
    assert titulo.is_valid("162749070141")
    assert GENERATOR.validate("162749070140") and not GENERATOR.validate("162749070141")
    # MG (02), remainder 0 for DV1: 10000001 -> 1x2 + 1x9 = 11 -> 0.
    # Resolução: DV1 = 0, then 0x7 + 2x8 + 0x9 = 16 -> 5  => 100000010205.
    # Legacy:    DV1 = 1, then 0x7 + 2x8 + 1x9 = 25 -> 3  => 100000010213.
    assert titulo.is_valid("100000010205")
    assert titulo.is_valid("100000010213")
    # Mixing the variants (legacy DV1 with the other DV2) is neither.
    assert not titulo.is_valid("100000010215")
    # MG, remainder 0 for DV2: 00000010 -> 8 = DV1; 16 + 8x9 = 88 -> 0 => "80" or "81".
    assert titulo.is_valid("000000100280")
    assert titulo.is_valid("000000100281")
    # Outside SP/MG, remainder 0 only ever gives 0.
    # 10000001, state 03: DV1 = 0; 0 + 24 + 0 = 24 -> 2 => 100000010302; "10" is refused.
    assert titulo.is_valid("100000010302")
    assert not titulo.is_valid("100000010310")
    assert titulo.check_digits("10000001", "03") == ("02",)
    assert titulo.check_digits("10000001", "02") == ("05", "13")


def test_check_suffix_generates_what_validate_docbr_accepts():
    rng = random.Random(7)
    for _ in range(3000):
        sequential = f"{rng.randrange(10**8):08d}"
        state = f"{rng.randint(1, 28):02d}"
        number = sequential + state + titulo.check_suffix(sequential, state)
        assert GENERATOR.validate(number), number
        assert titulo.is_valid(number)


def test_the_importers_tables_agree_with_check_digits():
    # The importer checks through `remainder_tables` and `ending_table`; every ending of every
    # state (valid or not) against sequential parts with every remainder, legacy ones included.
    first, second = titulo.remainder_tables()
    endings = titulo.ending_table()
    rng = random.Random(11)
    sequentials = ["00000000", "10000001", "16274907", "00000006", "99999999"]
    sequentials += [f"{rng.randrange(10**8):08d}" for _ in range(400)]
    assert {titulo.remainder(s) for s in sequentials} == set(range(11))
    checked = accepted = 0
    for sequential in sequentials:
        rest = (first[sequential[:4]] + second[sequential[4:]]) % 11
        assert rest == titulo.remainder(sequential)
        for state in ("00", "01", "02", "03", "17", "28", "29", "99"):
            for suffix in (f"{n:02d}" for n in range(100)):
                number = sequential + state + suffix
                fast = rest in endings.get(state + suffix, ())
                assert fast == titulo.is_valid(number), number
                checked += 1
                accepted += fast
    # Five known states: one suffix each, two for some SP (01) and MG (02) numbers.
    assert checked == 405 * 8 * 100 and 405 * 5 < accepted < 405 * 7


def test_voter_key_is_hmac_sha256_of_the_normalised_number():
    number = GENERATOR.generate()
    expected = hmac.new(b"pepper", number.encode(), hashlib.sha256).hexdigest()
    assert keys.voter_key(number, "pepper") == expected
    assert keys.titulo_key(GENERATOR.mask(number), "pepper") == expected
    assert keys.keyer("pepper")(number) == expected
    assert keys.voter_key(number, "another pepper") != expected
    assert len(expected) == 64 and number not in expected


def test_school_number_normalises_slug_and_enrolment():
    assert keys.school_number("Escola-Sol ", "00.123-4") == "escola-sol:1234"
    assert keys.school_number("escola-sol", "0") == "escola-sol:0"
    for bad in ("", "12a", "--", "1" * 21):
        with pytest.raises(ValueError):
            keys.school_number("escola-sol", bad)


@pytest.mark.parametrize("pepper", ["", "pepper", "é" * 40, "p" * 64, "p" * 65, "long " * 50])
def test_the_bulk_keyer_is_the_same_hmac_for_any_pepper(pepper):
    # `keyer` spells HMAC out (pads, inner and outer hash); a pepper longer than SHA-256's block
    # is hashed first, as RFC 2104 says: the same keys as `voter_key` either way.
    key = keys.keyer(pepper)
    for number in [*generated(20), "em-sol:123", "escola-são-josé:0"]:
        expected = hmac.new(pepper.encode(), number.encode(), hashlib.sha256).hexdigest()
        assert key(number) == expected == keys.voter_key(number, pepper)
