"""A synthetic cycle, its board and its signed tally package, and the verifier's output read back.

Pure: the standard library, cryptography and `opdigital.ledger`/`opdigital.counting` only, so a
subprocess that blocks Flask and SQLAlchemy can build a package with it
(tests/test_ledger_package.py, tests/test_ledger_verify.py, tests/test_verify_bounds.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opdigital.ledger import package
from opdigital.ledger.chain import GENESIS_HASH, BoardEntry, check_chain, extend
from opdigital.ledger.package import build_package, zip_members
from opdigital.ledger.result import TIE_BREAK, compute_result

SLUG = "op-regional-2025"

# Three regions with their own budgets and one city-wide proposal. Approvals: 10 has 5; 20, 21
# and 30 have 3; 11, 12, 31 and 40 have 2 (hand-counted in tests/test_ledger_package.py).
PROPOSALS = [
    (10, 1, 30000),
    (11, 1, 25000),
    (12, 1, 20000),
    (20, 2, 40000),
    (21, 2, 15000),
    (30, 3, 35000),
    (31, 3, 10000),
    (40, None, 20000),
]
BALLOTS = [
    [10, 20, 31],
    [10, 21],
    [11, 12],
    [10, 30],
    [20],
    [21, 31, 40],
    [10, 11],
    [30],
    [40],
    [12, 20],
    [],
    [10, 21, 30],
]


def make_definition(rule: str = "greedy", *, per_region: bool = False) -> dict:
    """A cycle.json as the database side builds it."""
    return {
        "format": "opdigital-tally/1",
        "cycle": {"slug": SLUG, "title": "OP Regional 2025", "kind": "op-regional", "edition": 7},
        "regions": [
            {"id": 1, "slug": "norte", "name": "Norte"},
            {"id": 2, "slug": "sul", "name": "Sul"},
            {"id": 3, "slug": "leste", "name": "Leste"},
        ],
        "budget_cents": 100000,
        "region_budgets_cents": {"1": 50000, "2": 40000, "3": 30000},
        "proposals": [
            {
                "id": pid,
                "code": f"P-{pid}",
                "title": f"Proposta {pid} — praça",
                "region_id": region,
                "cost_cents": cost,
            }
            for pid, region, cost in PROPOSALS
        ],
        "ballot_rule": {"name": "approval", "params": {"max_choices": 3}},
        "counting_rule": {"name": rule, "per_region": per_region, "increment_cents": 100},
        "tie_break": TIE_BREAK,
        "voting": {"opens_at": "2025-05-01T12:00:00Z", "closes_at": "2025-05-15T03:00:00+00:00"},
    }


def receipt(n: int) -> str:
    return hashlib.sha256(f"RECEIPT-{n}".encode()).hexdigest()


def make_board(ballots=BALLOTS, slug: str = SLUG) -> list[BoardEntry]:
    return extend(slug, 0, GENESIS_HASH, [(receipt(i), b) for i, b in enumerate(ballots, 1)])


def make_result(definition: dict, entries: list[BoardEntry], participation: int | None = None):
    head = check_chain(definition["cycle"]["slug"], entries).head
    return compute_result(
        definition,
        [e.choices for e in entries],
        participation=len(entries) if participation is None else participation,
        head=head,
    )


def make_package(
    rule: str = "greedy",
    *,
    per_region: bool = False,
    ballots=BALLOTS,
    key: Ed25519PrivateKey | None = None,
) -> tuple[bytes, Ed25519PrivateKey]:
    """A valid package for the synthetic cycle, and the key that signed it."""
    key = key or Ed25519PrivateKey.generate()
    definition = make_definition(rule, per_region=per_region)
    entries = make_board(ballots)
    return build_package(definition, entries, make_result(definition, entries), key), key


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rezip(files: dict[str, bytes], key: Ed25519PrivateKey | None = None) -> bytes:
    """Zip `files` again; with `key`, fix SHA256SUMS and sign it (a key holder's forgery)."""
    files = dict(files)
    if key is not None:
        names = package.summed_members(package.PAPER in files)
        summed = {name: files[name] for name in names}
        files[package.SUMS] = package.sha256sums(summed)
        files[package.SIGNATURE] = package.signature_file(key, files[package.SUMS])
    return zip_members(list(files.items()))


# --- the verifier's output and tampering ---------------------------------------------------


def failure(output: str) -> str:
    """The FAILED line, which must be the last one printed."""
    last = output.strip().splitlines()[-1]
    assert last.startswith("FAILED: "), output
    assert "Traceback" not in output
    return last.removeprefix("FAILED: ")


def with_result(files: dict[str, bytes], change) -> dict[str, bytes]:
    result = json.loads(files["result.json"])
    change(result)
    return files | {"result.json": package.human_json(result)}


# --- tampering with a package's members, for the verifier's early paths -------------------

# Enough ballots for Equal Shares completed to run several times; their order is seeded.
MANY = [[10, 20, 31], [10, 21], [11, 12], [40], [30, 31], [20, 21, 40], [12], [10, 30]] * 40


def board_lines(files: dict[str, bytes]) -> list[bytes]:
    return files[package.BOARD].splitlines(keepends=True)


def with_board(files: dict[str, bytes], lines: list[bytes]) -> dict[str, bytes]:
    return files | {package.BOARD: b"".join(lines)}


def tamper_result(files):
    return with_result(files, lambda r: r["selected"].pop())


def tamper_choice(files):
    lines = board_lines(files)
    lines[5] = lines[5].replace(b'"choices":[20,21,40]', b'"choices":[20,21]')
    return with_board(files, lines)


def leading_zero(files):
    lines = board_lines(files)
    lines[3] = lines[3].replace(b'"choices":[40]', b'"choices":[040]')
    return with_board(files, lines)


def spaces(files):
    lines = board_lines(files)
    lines[0] = lines[0].replace(b'"choices":[10,20,31]', b'"choices":[10, 20, 31]')
    return with_board(files, lines)


def line_removed(files):
    return with_board(files, board_lines(files)[:-1])


def line_added(files):
    lines = board_lines(files)
    extra = json.loads(lines[-1])
    extra.update(seq=extra["seq"] + 1, receipt_hash=receipt(10**6), prev_hash=extra["entry_hash"])
    return with_board(files, [*lines, json.dumps(extra, separators=(",", ":")).encode() + b"\n"])


def no_newline_at_end(files):
    return files | {package.BOARD: files[package.BOARD].rstrip(b"\n")}


def ballot_count(files):
    return with_result(files, lambda r: r.update(ballots=r["ballots"] - 1))


def rule_changed(files):
    definition = json.loads(files[package.CYCLE])
    definition["counting_rule"]["name"] = "mes"
    return files | {package.CYCLE: package.human_json(definition)}


# Each makes a package that must fail verification, as-is or re-signed.
TAMPERINGS = [
    tamper_result,
    tamper_choice,
    leading_zero,
    spaces,
    line_removed,
    line_added,
    no_newline_at_end,
    ballot_count,
    rule_changed,
]


# --- a verification's child process that breaks ---------------------------------------------


def child_fails(*args, **kwargs):
    raise RuntimeError("a bug in the child")


def child_dies(*args, **kwargs):
    os._exit(3)


CHILD_FAILURES = {"raises": child_fails, "dies": child_dies}
