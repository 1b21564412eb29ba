"""The título de eleitor (Brazilian voter registration number): normalising and check digits.

Layout (Resolução TSE 23.659/2021, art. 36): 12 digits = 8 sequential + 2 state code (01-28,
28 = abroad "ZZ") + 2 check digits, each by modulus 11:

- DV1 = sum of the 8 sequential digits x weights 2..9, mod 11 (remainder 10 -> 0);
- DV2 = the 2 state digits and DV1 x weights 7, 8, 9, mod 11 (remainder 10 -> 0).

Legacy variant for SP (01) and MG (02): a remainder of 0 gives check digit 1, for DV1 and for
DV2 (DV2 then being computed from that DV1). This is the rule quoted by pt.wikipedia
"Título de eleitor" and implemented by caelum-stella (PR #300, "Nos títulos emitidos em São
Paulo e Minas Gerais, os Dígitos Verificadores assumem o valor 1, caso ... o resto da divisão
por 11 seja zero"; example 162749070141); validate-docbr follows the Resolução only (its issue
#70). Both kinds of number exist in real rolls, so for 01 and 02 we accept either variant
(docs/domain.md, "Título de eleitor"). Pure standard library; the importer checks millions of
numbers through the same rule tabulated once (`remainder_tables`, `ending_table`).
"""

from __future__ import annotations

# What people type between digit groups: "1234 5678 0201", "1234.5678.02-01", "12345678/0201".
_SEPARATORS = str.maketrans("", "", " .-/\t")
_LEGACY_STATES = frozenset({"01", "02"})
_ZERO = 48  # ord("0"), to do the arithmetic on bytes without int() per digit
# sum(2..9) * 48 and sum(7, 8) * 48: the "0" offsets removed from the byte sums below.
_OFFSET_DV1 = 44 * _ZERO
_OFFSET_DV2 = 15 * _ZERO


def normalise(raw: str) -> str:
    """The 12 digits of a typed título; ValueError unless exactly 12 digits remain."""
    number = raw.translate(_SEPARATORS)
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        raise ValueError("a título has 12 digits")
    return number


def check_digits(sequential: str, state: str) -> tuple[str, ...]:
    """The accepted 2-digit check suffixes for these 8 sequential digits and 2 state digits."""
    return suffixes(remainder(sequential), state)


def remainder(sequential: str) -> int:
    """The 8 sequential digits x weights 2..9, mod 11: all that DV1 depends on."""
    s = sequential.encode("ascii")
    weighted = s[0] * 2 + s[1] * 3 + s[2] * 4 + s[3] * 5 + s[4] * 6 + s[5] * 7 + s[6] * 8 + s[7] * 9
    return (weighted - _OFFSET_DV1) % 11


def suffixes(rest1: int, state: str) -> tuple[str, ...]:
    """The accepted check suffixes given `remainder(sequential)` and the 2 state digits."""
    st = state.encode("ascii")
    state_sum = st[0] * 7 + st[1] * 8 - _OFFSET_DV2
    dv1 = 0 if rest1 == 10 else rest1
    rest2 = (state_sum + dv1 * 9) % 11
    standard = f"{dv1}{0 if rest2 == 10 else rest2}"
    if state not in _LEGACY_STATES or (rest1 != 0 and rest2 != 0):
        return (standard,)
    legacy_dv1 = 1 if rest1 == 0 else dv1
    legacy_rest2 = (state_sum + legacy_dv1 * 9) % 11
    legacy_dv2 = 1 if legacy_rest2 == 0 else (0 if legacy_rest2 == 10 else legacy_rest2)
    legacy = f"{legacy_dv1}{legacy_dv2}"
    return (standard,) if legacy == standard else (standard, legacy)


def remainder_tables() -> tuple[dict[str, int], dict[str, int]]:
    """Weighted sums of every 4 digits in first and in second position, for bulk checks:
    `(first[s[:4]] + second[s[4:8]]) % 11 == remainder(s)`, two look-ups instead of eight
    products per row (the importer checks millions)."""
    quads = [f"{n:04d}" for n in range(10_000)]
    first = {q: sum(int(d) * w for d, w in zip(q, (2, 3, 4, 5), strict=True)) for q in quads}
    second = {q: sum(int(d) * w for d, w in zip(q, (6, 7, 8, 9), strict=True)) for q in quads}
    return first, second


def ending_table() -> dict[str, frozenset[int]]:
    """Each accepted ending "state code + check digits" (digits 9-12), with the remainders of
    the sequential digits it is right for; an ending missing here is wrong for every number."""
    endings: dict[str, set[int]] = {}
    for code in range(1, 29):
        state = f"{code:02d}"
        for rest1 in range(11):
            for suffix in suffixes(rest1, state):
                endings.setdefault(state + suffix, set()).add(rest1)
    return {ending: frozenset(rests) for ending, rests in endings.items()}


def state_code_ok(number: str) -> bool:
    """True when digits 9-10 of a normalised number are a state code 01-28."""
    return "01" <= number[8:10] <= "28"


def is_valid(number: str) -> bool:
    """True when `number` (12 digits, separators allowed) has a known state and check digits."""
    try:
        number = normalise(number)
    except ValueError:
        return False
    return state_code_ok(number) and number[10:] in check_digits(number[:8], number[8:10])


def check_suffix(sequential: str, state: str) -> str:
    """The check digits under the Resolução's rule (used by generators in tests/benchmarks)."""
    return check_digits(sequential, state)[0]
