"""The verifier: every check passes on a real package, and each tampering is caught by name.

Tampering comes in three strengths: editing a file only (caught by SHA256SUMS), also fixing
SHA256SUMS (caught by the signature), and re-signing everything with the signing key itself (a
key holder's forgery: caught by the chain, the head, the counts or the recount).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opdigital.ledger import keys, package
from opdigital.ledger.chain import BoardEntry, canonical_json, entry_hash
from opdigital.ledger.verify import main
from tests.support.ledger import (
    SLUG,
    failure,
    make_board,
    make_definition,
    make_package,
    make_result,
    rezip,
    unzip,
    with_result,
)

ROOT = Path(__file__).resolve().parent.parent
RULES = [
    ("plurality-per-region", False),
    ("greedy", False),
    ("greedy", True),
    ("mes", False),
    ("mes-completed", False),
]


def board_lines(files: dict[str, bytes]) -> list[dict]:
    return [json.loads(line) for line in files["board.jsonl"].splitlines()]


def with_board(files: dict[str, bytes], entries: list[dict]) -> dict[str, bytes]:
    board = b"".join(canonical_json(e) + b"\n" for e in entries)
    return files | {"board.jsonl": board}


def rehash(entry: dict, slug: str = SLUG) -> None:
    entry["entry_hash"] = entry_hash(
        slug, entry["seq"], entry["receipt_hash"], entry["choices"], entry["prev_hash"]
    )


def rechain(entries: list[dict], start: int = 0) -> None:
    """Renumber and re-link from `start` on, as a forger rewriting the board would."""
    for index in range(start, len(entries)):
        entries[index]["seq"] = index + 1
        entries[index]["prev_hash"] = entries[index - 1]["entry_hash"] if index else "0" * 64
        rehash(entries[index])


# --- a genuine package ----------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "per_region"), RULES)
def test_a_genuine_package_verifies_for_every_rule(verify, rule, per_region):
    data, _ = make_package(rule, per_region=per_region)
    code, output = verify(data)
    assert code == 0, output
    lines = output.strip().splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["ok"] * (len(lines) - 1)
    checks = [line.split()[1] for line in lines[:-1]]
    assert checks == [
        "members",
        "SHA-256",
        "signature",
        "cycle.json:",
        "chain:",
        "result.json's",
        "counts",
        "recount",
    ]
    assert f"recount with {rule}" in output
    assert "12 ballots, 12 board entries, 12 participation records" in output
    assert lines[-1].startswith("verified: ")


def test_without_a_key_the_embedded_one_is_used_and_said_to_prove_integrity_only(verify):
    data, key = make_package()
    code, output = verify(data)
    fingerprint = keys.fingerprint(keys.public_key_raw(key))
    assert code == 0
    assert f"ok  signature by key {fingerprint} (the key embedded in the package" in output
    assert "not who signed them" in output


def test_the_expected_key_may_be_a_pem_file_base64_or_a_fingerprint(verify, tmp_path):
    data, key = make_package()
    pem = tmp_path / "public.pem"
    pem.write_text(keys.public_key_pem(key))
    b64 = tmp_path / "public.b64"
    b64.write_text(keys.public_key_base64(key) + "\n")
    fingerprint = keys.fingerprint(keys.public_key_raw(key))
    for value, note in [
        (str(pem), "(the key you gave)"),
        (str(b64), "(the key you gave)"),
        (keys.public_key_base64(key), "(the key you gave)"),
        (fingerprint.upper(), "(the embedded key, whose fingerprint is the one you gave)"),
    ]:
        code, output = verify(data, "--public-key", value)
        assert code == 0, output
        assert f"ok  signature by key {fingerprint} {note}" in output


def test_an_empty_board_verifies(verify):
    definition = make_definition()
    data = package.build_package(
        definition, [], make_result(definition, []), Ed25519PrivateKey.generate()
    )
    code, output = verify(data)
    assert code == 0, output
    assert "chain: 0 entries" in output


def test_quiet_prints_nothing_on_success_and_the_failure_otherwise(verify):
    data, _ = make_package()
    assert verify(data, "--quiet") == (0, "")
    files = unzip(data)
    code, output = verify(rezip(files | {"cycle.json": files["cycle.json"] + b" "}), "-q")
    assert code == 1
    assert output == "FAILED: cycle.json: its SHA-256 does not match the one in SHA256SUMS\n"


# --- tampering with a choice -----------------------------------------------------------------


def changed_choice_files(*, rehash_entry: bool) -> tuple[dict[str, bytes], Ed25519PrivateKey]:
    data, key = make_package()
    files = unzip(data)
    entries = board_lines(files)
    entries[2]["choices"] = [12]  # entry 3 voted [11, 12]
    if rehash_entry:
        rehash(entries[2])
    return with_board(files, entries), key


@pytest.mark.parametrize("rehash_entry", [False, True])
def test_a_changed_choice_without_fixing_sums_fails_the_board_hash(verify, rehash_entry):
    files, _ = changed_choice_files(rehash_entry=rehash_entry)
    code, output = verify(rezip(files))
    assert code == 1
    assert failure(output) == "board.jsonl: its SHA-256 does not match the one in SHA256SUMS"


@pytest.mark.parametrize("rehash_entry", [False, True])
def test_a_changed_choice_with_fixed_sums_fails_the_signature(verify, rehash_entry):
    files, key = changed_choice_files(rehash_entry=rehash_entry)
    summed = {name: files[name] for name in package.SUMMED}
    files["SHA256SUMS"] = package.sha256sums(summed)  # fixed, but not signed again
    code, output = verify(rezip(files))
    fingerprint = keys.fingerprint(keys.public_key_raw(key))
    assert code == 1
    assert failure(output) == (
        f"SHA256SUMS.sig: the signature over SHA256SUMS does not hold for key {fingerprint}"
    )


def test_a_changed_choice_re_signed_without_rehash_fails_its_entry_hash(verify):
    files, key = changed_choice_files(rehash_entry=False)
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output).startswith("entry 3: entry_hash does not match the entry's content")


def test_a_changed_choice_re_signed_with_rehash_breaks_the_next_link(verify):
    files, key = changed_choice_files(rehash_entry=True)
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output) == "entry 4: prev_hash does not match entry 3's hash"


def test_a_rewritten_board_and_result_are_caught_by_a_recorded_head(verify):
    data, key = make_package()
    files = unzip(data)
    recorded = board_lines(files)[4]  # someone noted entry 5 during the vote
    entries = board_lines(files)
    entries[1]["choices"] = [20]
    rechain(entries, 1)
    forged_entries = [BoardEntry.from_dict(e) for e in entries]
    definition = make_definition()
    forged = package.build_package(
        definition, forged_entries, make_result(definition, forged_entries), key
    )
    assert verify(forged)[0] == 0  # consistent forgery by the key holder...
    code, output = verify(forged, "--head", f"5:{recorded['entry_hash']}")
    assert code == 1  # ...but not with the head recorded during the vote
    assert failure(output) == (
        f"entry 5: its hash is not the recorded head {recorded['entry_hash']}:"
        " the board was rewritten after you recorded it"
    )


def test_recorded_heads_that_hold_are_reported(verify):
    data, _ = make_package()
    entries = board_lines(unzip(data))
    code, output = verify(
        data, "--head", f"3:{entries[2]['entry_hash']}", "--head", f"0:{'0' * 64}"
    )
    assert code == 0, output
    assert f"ok  the recorded head 3 {entries[2]['entry_hash']} is on the chain" in output
    code, output = verify(data, "--head", f"13:{'a' * 64}")
    assert code == 1 and "past the board's last entry (12): entries were removed" in output


# --- entries removed, swapped, foreign -------------------------------------------------------


def test_an_entry_removed_is_named(verify):
    data, key = make_package()
    files = unzip(data)
    entries = board_lines(files)
    del entries[5]
    code, output = verify(rezip(with_board(files, entries), key))
    assert code == 1
    assert failure(output) == (
        "entry 7: found where entry 6 should be (an entry is missing, repeated or out of order)"
    )


def test_the_last_entry_removed_is_caught_by_the_head(verify):
    data, key = make_package()
    files = unzip(data)
    entries = board_lines(files)[:-1]
    code, output = verify(rezip(with_board(files, entries), key))
    assert code == 1
    assert failure(output).startswith('result.json: board_head is {"hash": ')
    assert failure(output).endswith(f"but the chain's head is entry 11 {entries[-1]['entry_hash']}")


def test_two_entries_swapped_are_named(verify):
    data, key = make_package()
    files = unzip(data)
    entries = board_lines(files)
    entries[3], entries[4] = entries[4], entries[3]
    code, output = verify(rezip(with_board(files, entries), key))
    assert code == 1
    assert failure(output).startswith("entry 5: found where entry 4 should be")


def test_an_entry_naming_a_proposal_not_on_the_ballot_is_named(verify):
    data, key = make_package()
    files = unzip(data)
    entries = board_lines(files)
    entries[-1]["choices"] = [10, 99]
    rehash(entries[-1])
    code, output = verify(rezip(with_board(files, entries), key))
    assert code == 1
    assert failure(output) == "entry 12: choice 99 is not on the ballot"


def test_a_board_replayed_from_another_cycle_fails_at_entry_one(verify):
    definition = make_definition()
    entries = make_board(slug="op-regional-2024")
    key = Ed25519PrivateKey.generate()
    result = make_result(make_definition(), make_board())
    code, output = verify(package.build_package(definition, entries, result, key))
    assert code == 1
    assert failure(output).startswith("entry 1: entry_hash does not match")


# --- tampering with the result ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r["votes"][3].update(votes=4),
            "result.json: votes[proposal 20].votes is 4, the recount gives 3",
        ),
        (
            lambda r: r["selected"].__setitem__(1, 20),
            "result.json: selected[1] is 20, the recount gives 21",
        ),
        (
            lambda r: r["selected"].append(40),
            "result.json: selected has 5 items, the recount 4",
        ),
        (
            lambda r: r.update(allocated_cents=100000),
            "result.json: allocated_cents is 100000, the recount gives 90000",
        ),
        (
            lambda r: r["by_region"][2]["selected"].append(20),
            "result.json: by_region[region 2].selected has 2 items, the recount 1",
        ),
        (
            lambda r: r["by_region"][0].update(budget_cents=1),
            "result.json: by_region[city-wide].budget_cents is 1, the recount gives 100000",
        ),
        (
            lambda r: r["counting_rule"].update(per_region=True),
            "result.json: counting_rule.per_region is true, the recount gives false",
        ),
        (lambda r: r.pop("votes"), "result.json: votes is missing"),
        (lambda r: r.update(winner=10), "result.json: winner is not a result field"),
        (
            lambda r: r.update(allocated_cents=90000.0),
            "result.json: allocated_cents is 90000.0, the recount gives 90000",
        ),
    ],
)
def test_a_changed_result_is_named_field_by_field(verify, change, message):
    data, key = make_package()
    files = with_result(unzip(data), change)
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output) == message


def test_a_changed_result_without_re_signing_fails_its_hash(verify):
    data, _ = make_package()
    files = with_result(unzip(data), lambda r: r["votes"][0].update(votes=6))
    code, output = verify(rezip(files))
    assert code == 1
    assert failure(output) == "result.json: its SHA-256 does not match the one in SHA256SUMS"


def test_a_changed_head_is_named(verify):
    data, key = make_package()
    files = with_result(unzip(data), lambda r: r["board_head"].update(seq=11))
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output).startswith('result.json: board_head is {"hash": "')
    assert "but the chain's head is entry 12 " in failure(output)


def test_a_ballot_count_that_differs_from_the_board_is_named(verify):
    data, key = make_package()
    files = with_result(unzip(data), lambda r: r.update(ballots=13))
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output) == "result.json: ballots is 13, but the board has 12 entries"


def test_participation_that_differs_from_the_ballots_is_named(verify):
    definition = make_definition()
    entries = make_board()
    result = make_result(definition, entries, participation=13)
    data = package.build_package(definition, entries, result, Ed25519PrivateKey.generate())
    code, output = verify(data)
    assert code == 1
    assert failure(output) == (
        "result.json: participation is 13, but there are 12 ballots:"
        " participation records and ballots must agree"
    )


def test_a_changed_definition_is_caught_by_the_recount(verify):
    data, key = make_package()
    files = unzip(data)
    definition = json.loads(files["cycle.json"])
    definition["proposals"][5]["cost_cents"] = 5000  # proposal 30 made cheap after the vote
    files["cycle.json"] = package.human_json(definition)
    code, output = verify(rezip(files, key))
    assert code == 1
    # Now cheapest among the 3-vote proposals, 30 moves ahead of 21.
    assert failure(output) == "result.json: selected[1] is 21, the recount gives 30"


def test_a_malformed_definition_is_named(verify):
    data, key = make_package()
    files = unzip(data)
    definition = json.loads(files["cycle.json"])
    definition["counting_rule"]["name"] = "borda"
    files["cycle.json"] = package.human_json(definition)
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output).startswith("cycle.json: counting_rule.name must be one of")


# --- the signature ---------------------------------------------------------------------------


def test_an_altered_signature_is_caught(verify):
    data, _ = make_package()
    files = unzip(data)
    sig = json.loads(files["SHA256SUMS.sig"])
    raw = bytearray(base64.b64decode(sig["signature"]))
    raw[10] ^= 0x01
    sig["signature"] = base64.b64encode(bytes(raw)).decode()
    code, output = verify(rezip(files | {"SHA256SUMS.sig": package.human_json(sig)}))
    assert code == 1
    assert "the signature over SHA256SUMS does not hold for key" in failure(output)


def test_another_signer_is_caught_when_the_expected_key_is_given(verify, tmp_path):
    data, key = make_package()
    forger = Ed25519PrivateKey.generate()
    forged = rezip(unzip(data), forger)  # a complete, self-consistent package by someone else
    assert verify(forged)[0] == 0  # the embedded key only proves integrity
    expected = keys.fingerprint(keys.public_key_raw(key))
    actual = keys.fingerprint(keys.public_key_raw(forger))
    for given in (keys.public_key_base64(key), expected):
        code, output = verify(forged, "--public-key", given)
        assert code == 1
        assert failure(output) == (
            f"the package is signed by key {actual}, not by the expected key {expected}"
        )


def test_an_embedded_key_swapped_under_a_valid_signature_is_caught(verify):
    data, key = make_package()
    files = unzip(data)
    sig = json.loads(files["SHA256SUMS.sig"])
    other = Ed25519PrivateKey.generate()
    sig["public_key"] = keys.public_key_base64(other)
    sig["fingerprint"] = keys.fingerprint(keys.public_key_raw(other))
    code, output = verify(rezip(files | {"SHA256SUMS.sig": package.human_json(sig)}))
    assert code == 1
    assert "the signature over SHA256SUMS does not hold" in failure(output)
    sig["fingerprint"] = keys.fingerprint(keys.public_key_raw(key))
    code, output = verify(rezip(files | {"SHA256SUMS.sig": package.human_json(sig)}))
    assert failure(output) == "SHA256SUMS.sig: its fingerprint is not the SHA-256 of its public_key"


# --- members, unreadable files, usage --------------------------------------------------------


def test_a_member_added_or_removed_is_named(verify):
    files = unzip(make_package()[0])
    code, output = verify(rezip(files | {"README.txt": b"trust me"}))
    assert code == 1 and failure(output) == "unexpected member 'README.txt'"
    files.pop("SHA256SUMS.sig")
    code, output = verify(rezip(files))
    assert code == 1 and failure(output) == "missing member SHA256SUMS.sig"


def test_garbage_inside_a_member_fails_cleanly(verify):
    files = unzip(make_package()[0])
    code, output = verify(rezip(files | {"result.json": b"\x00\x01{"}))
    assert code == 1 and failure(output).startswith("result.json is not valid JSON")


def test_unreadable_files_and_usage_errors_exit_2(verify, tmp_path, capsys):
    assert main([str(tmp_path / "missing.zip")]) == 2
    assert "error: cannot read" in capsys.readouterr().err
    code, output = verify(b"PK\x03\x04 truncated")
    assert code == 2 and "is not a zip archive" in output
    data, _ = make_package()
    code, output = verify(data, "--public-key", "not-a-key")
    assert code == 2 and output.startswith("error: not base64")
    code, output = verify(data, "--head", "five:abc")
    assert code == 2 and "expected SEQ:HASH" in output
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "--public-key" in capsys.readouterr().out


# --- runs with the standard library and cryptography only -----------------------------------

BLOCKED_RUN = """
import runpy, sys

class Block:
    # Act as if Flask and SQLAlchemy were not installed: any import of them fails.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"flask", "sqlalchemy", "flask_sqlalchemy", "werkzeug", "click"}:
            raise ImportError(f"blocked: {name}")
        return None

sys.meta_path.insert(0, Block())
sys.argv = ["verify", sys.argv[1]]
try:
    runpy.run_module("opdigital.ledger.verify", run_name="__main__")
finally:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"flask", "sqlalchemy"})
    print("loaded:", loaded)
"""


def test_the_verifier_runs_without_flask_or_sqlalchemy(tmp_path):
    path = tmp_path / "tally.zip"
    path.write_bytes(make_package("mes-completed")[0])
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", BLOCKED_RUN, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified: " in done.stdout
    assert "loaded: []" in done.stdout


def test_python_dash_m_verify_works_and_importing_it_loads_no_web_stack(tmp_path):
    path = tmp_path / "tally.zip"
    path.write_bytes(make_package()[0])
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-X", "importtime", "-m", "opdigital.ledger.verify", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert {"opdigital.ledger.chain", "opdigital.counting.rules", "cryptography"} <= imported
    assert not {m for m in imported if m.split(".")[0] in {"flask", "sqlalchemy", "werkzeug"}}
