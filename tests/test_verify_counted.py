"""The tally's own check of its package may reuse the count it has just made (`verify.Counted`),
and only when the package holds exactly that count's inputs: anything else is counted again."""

from __future__ import annotations

from unittest import mock

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opdigital.ledger import verify
from opdigital.ledger.chain import check_chain
from opdigital.ledger.package import build_package
from opdigital.ledger.verify import CheckFailed, Counted, verify_package
from tests.support.ledger import make_board, make_definition, make_result


@pytest.fixture
def counted_package():
    """A package and the Counted its tally would hand the check."""
    definition = make_definition("mes")
    entries = make_board()
    result = make_result(definition, entries)
    package = build_package(definition, entries, result, Ed25519PrivateKey.generate())
    head = check_chain(definition["cycle"]["slug"], entries).head
    counted = Counted(definition, [e.choices for e in entries], len(entries), head, result)
    return package, counted


def counts_made(package: bytes, counted: Counted | None) -> int:
    with mock.patch.object(verify, "compute_result", wraps=verify.compute_result) as recount:
        verify_package(package, counted=counted)
    return recount.call_count


def test_the_count_just_made_is_not_made_again(counted_package):
    package, counted = counted_package
    assert counts_made(package, None) == 1
    assert counts_made(package, counted) == 0


def test_the_counted_result_is_still_compared_with_result_json(counted_package):
    """Inputs the same, result different: the check fails as a recount's would."""
    package, counted = counted_package
    other = dict(counted.result, selected=counted.result["selected"][:-1])
    with pytest.raises(CheckFailed, match="result.json: "):
        verify_package(package, counted=Counted(**{**counted.__dict__, "result": other}))


@pytest.mark.parametrize(
    "change",
    [
        # a number written as another type with the same value (1 == 1.0 == True in Python)
        lambda c: {
            "definition": {**c.definition, "budget_cents": float(c.definition["budget_cents"])}
        },
        lambda c: {"definition": {**c.definition, "tie_break": c.definition["tie_break"] + " "}},
        lambda c: {"ballots": [*c.ballots[:-1], (10,)]},
        lambda c: {"ballots": c.ballots[:-1]},
        lambda c: {"participation": c.participation + 1},
        lambda c: {"head": (c.head[0], "0" * 64)},
    ],
)
def test_any_other_input_is_counted_again(counted_package, change):
    """A Counted whose inputs differ from the package's in any way, even one Python calls
    equal, is not used: the board is counted, and the package (which is right) passes."""
    package, counted = counted_package
    other = Counted(**{**counted.__dict__, **change(counted), "result": {"wrong": True}})
    assert counts_made(package, other) == 1
