"""The tally package: result computation, deterministic signed zip, careful reader, keys (pure).

The synthetic cycle, its board and package come from tests/support/ledger.py.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from opdigital.counting import instance as counting_instance
from opdigital.counting.rules import count
from opdigital.ledger import keys, package
from opdigital.ledger.chain import GENESIS_HASH, canonical_json, extend
from opdigital.ledger.package import (
    MEMBERS,
    NotAZipError,
    PackageError,
    build_package,
    read_package,
    zip_members,
)
from opdigital.ledger.result import (
    TIE_BREAK,
    TallyError,
    instance_of,
    validate_definition,
)
from tests.support.ledger import (
    BALLOTS,
    PROPOSALS,
    make_board,
    make_definition,
    make_package,
    make_result,
    unzip,
)

ROOT = Path(__file__).resolve().parent.parent


# --- result ---------------------------------------------------------------------------------


def test_tie_break_is_the_sentence_of_the_counting_docstring():
    docstring = " ".join(counting_instance.__doc__.split())
    assert TIE_BREAK in docstring


def test_votes_cover_every_proposal_sorted_by_id_with_zeros():
    definition = make_definition()
    result = make_result(definition, make_board([[20], []]))
    assert [v["proposal_id"] for v in result["votes"]] == [10, 11, 12, 20, 21, 30, 31, 40]
    assert {v["proposal_id"]: v["votes"] for v in result["votes"]}[20] == 1
    assert sum(v["votes"] for v in result["votes"]) == 1


def test_greedy_city_wide_result_by_hand():
    definition = make_definition("greedy")
    entries = make_board()
    result = make_result(definition, entries)
    assert result["ballots"] == 12 and result["participation"] == 12
    assert result["board_head"] == {"seq": 12, "hash": entries[-1].entry_hash}
    votes = {v["proposal_id"]: v["votes"] for v in result["votes"]}
    assert votes == {10: 5, 11: 2, 12: 2, 20: 3, 21: 3, 30: 3, 31: 2, 40: 2}
    # 10 (5 votes), then the 3-vote ones cheapest first: 21, 30; 20 does not fit; then 31.
    assert result["selected"] == [10, 21, 30, 31]
    assert result["allocated_cents"] == 90000
    assert result["counting_rule"] == definition["counting_rule"]
    assert result["by_region"] == [
        {"region_id": None, "budget_cents": 100000, "allocated_cents": 0, "selected": []},
        {"region_id": 1, "budget_cents": 50000, "allocated_cents": 30000, "selected": [10]},
        {"region_id": 2, "budget_cents": 40000, "allocated_cents": 15000, "selected": [21]},
        {"region_id": 3, "budget_cents": 30000, "allocated_cents": 45000, "selected": [30, 31]},
    ]


def test_greedy_per_region_holds_each_region_to_its_budget():
    result = make_result(make_definition("greedy", per_region=True), make_board())
    # City-wide group first (40), then region 1 (10, then 12 over 11: cheaper), 2 (21; 20 does
    # not fit what is left), 3 (30 costs more than the region's 30000; 31 fits).
    assert result["selected"] == [40, 10, 12, 21, 31]
    assert result["allocated_cents"] == 95000
    assert [row["allocated_cents"] for row in result["by_region"]] == [20000, 50000, 15000, 10000]


def test_plurality_takes_each_region_winner_whatever_it_costs():
    result = make_result(make_definition("plurality-per-region"), make_board())
    assert result["selected"] == [40, 10, 21, 30]  # 21 beats 20 on the tie: cheaper
    region_3 = result["by_region"][3]
    assert region_3["allocated_cents"] == 35000 > region_3["budget_cents"]


@pytest.mark.parametrize("rule", ["mes", "mes-completed"])
def test_equal_shares_results_are_the_counting_rules(rule):
    definition = make_definition(rule)
    result = make_result(definition, make_board())
    expected = count(rule, instance_of(definition), BALLOTS, increment=100)
    assert result["selected"] == expected and expected
    costs = {pid: cost for pid, _, cost in PROPOSALS}
    assert result["allocated_cents"] == sum(costs[p] for p in expected) <= 100000


def test_by_region_has_no_city_wide_row_without_city_wide_proposals():
    definition = make_definition()
    definition["proposals"] = [p for p in definition["proposals"] if p["region_id"] is not None]
    result = make_result(definition, make_board([[10]]))
    assert [row["region_id"] for row in result["by_region"]] == [1, 2, 3]


def test_an_empty_board_has_the_genesis_head():
    result = make_result(make_definition("mes-completed"), [])
    assert result["board_head"] == {"seq": 0, "hash": GENESIS_HASH}
    assert result["ballots"] == 0


def test_result_refuses_a_choice_not_on_the_ballot():
    with pytest.raises(TallyError, match="ballot 2 names 99, not a proposal on the ballot"):
        make_result(make_definition(), make_board([[10], [99]]))


def test_result_is_json_round_trip_stable():
    result = make_result(make_definition("mes-completed"), make_board())
    assert json.loads(json.dumps(result)) == result


def _break(path: str, value):
    definition = make_definition()
    *parents, last = path.split(".")
    target = definition
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return definition


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("format", "opdigital-tally/2", "format must be"),
        ("tie_break", "lower id first", "tie_break"),
        ("budget_cents", 10.5, "budget_cents must be an integer"),
        ("budget_cents", True, "budget_cents must be an integer"),
        ("cycle.kind", "op-other", "cycle.kind"),
        ("cycle.slug", "", "cycle.slug"),
        ("voting", KeyError, "lacks the field voting"),
        ("extra", 1, "unexpected field extra"),
        ("proposals.0.cost_cents", -1, r"proposals\[0\].cost_cents"),
        ("proposals.0.region_id", 9, r"proposals\[0\].region_id"),
        ("proposals.1.id", 10, "proposals must be sorted by id"),
        ("regions.0.id", 5, "regions must be sorted by id"),
        ("region_budgets_cents.01", 5, "key '01'"),
        ("region_budgets_cents.9", 5, "key '9'"),
        ("counting_rule.name", "borda", "counting_rule.name"),
        ("counting_rule.per_region", 1, "per_region must be a boolean"),
        ("counting_rule.increment_cents", 0, "increment_cents"),
        ("ballot_rule.params", [], "params must be an object"),
        ("voting.opens_at", "2025-05-01T12:00:00", "voting.opens_at must be in UTC"),
        ("voting.opens_at", "2025-05-01T12:00:00-03:00", "voting.opens_at must be in UTC"),
        ("voting.closes_at", "tomorrow", "ISO-8601"),
        ("voting.closes_at", "2025-04-01T00:00:00Z", "before voting.closes_at"),
    ],
)
def test_validate_definition_names_the_first_bad_field(path, value, message):
    with pytest.raises(TallyError, match=message):
        validate_definition(_break(path, value))


# --- the zip ---------------------------------------------------------------------------------


def test_the_zip_has_the_five_members_in_order_with_fixed_headers():
    data, _ = make_package()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        assert archive.comment == b""
    assert [i.filename for i in infos] == list(MEMBERS)
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert stat.S_IMODE(info.external_attr >> 16) == 0o644
        assert stat.S_ISREG(info.external_attr >> 16)
        assert info.comment == b"" and info.extra == b""


@pytest.mark.parametrize("paper", [None, {"batches": [], "points": []}])
def test_the_builder_in_two_halves_writes_what_one_zip_of_every_member_writes(paper):
    """The tally compresses the board while it counts (PackageBuilder): the same bytes as the
    members zipped one after the other, in the documented order."""
    key = Ed25519PrivateKey.generate()
    definition, entries = make_definition("mes"), make_board()
    result = make_result(definition, entries)
    files = {
        package.CYCLE: package.human_json(definition),
        package.BOARD: package.board_bytes(entries),
        package.RESULT: package.human_json(result),
    }
    if paper is not None:
        files[package.PAPER] = package.human_json(paper)
    sums = package.sha256sums(files)
    files |= {package.SUMS: sums, package.SIGNATURE: package.signature_file(key, sums)}
    expected = package.zip_members(
        [(name, files[name]) for name in package.WRITE_ORDER if name in files]
    )
    with package.PackageBuilder(definition, entries) as builder:
        assert builder.finish(result, key, paper) == expected


def test_a_failure_while_writing_the_board_is_raised_by_finish(monkeypatch):
    def broken(archive, name, content):
        raise OSError(f"disk full writing {name}")

    monkeypatch.setattr(package, "_add_member", broken)
    definition, entries = make_definition(), make_board()
    failing = pytest.raises(OSError, match="disk full writing cycle.json")
    with package.PackageBuilder(definition, entries) as builder, failing:
        builder.finish(make_result(definition, entries), Ed25519PrivateKey.generate())


def test_the_same_inputs_give_the_same_bytes():
    key = Ed25519PrivateKey.generate()
    first, _ = make_package("mes-completed", key=key)
    second, _ = make_package("mes-completed", key=key)
    assert first == second
    # Key order in the caller's dict does not matter either.
    definition = make_definition()
    entries = make_board()
    result = make_result(definition, entries)
    shuffled = dict(reversed(list(definition.items())))
    assert build_package(definition, entries, result, key) == build_package(
        shuffled, entries, dict(reversed(list(result.items()))), key
    )


BUILD_SCRIPT = """
import hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests.support.ledger import make_package
key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
data, _ = make_package(sys.argv[1], key=key)
print(hashlib.sha256(data).hexdigest())
"""


@pytest.mark.parametrize("rule", ["greedy", "mes-completed"])
def test_bytes_do_not_depend_on_the_process_hash_seed(rule):
    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(  # noqa: S603 - our own interpreter and test module
            [sys.executable, "-c", BUILD_SCRIPT, rule],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(done.stdout.strip())
    assert len(digests) == 1


def test_members_are_serialised_as_documented():
    definition = make_definition()
    entries = make_board()
    result = make_result(definition, entries)
    key = Ed25519PrivateKey.generate()
    files = unzip(build_package(definition, entries, result, key))
    human = json.dumps(definition, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert files["cycle.json"] == human.encode("utf-8")
    assert "— praça" in files["cycle.json"].decode("utf-8")  # UTF-8, not \\u escapes
    assert files["board.jsonl"].split(b"\n")[0] == canonical_json(entries[0].as_dict())
    assert files["board.jsonl"].count(b"\n") == 12
    assert json.loads(files["result.json"]) == result
    assert (
        files["SHA256SUMS"]
        == "".join(
            f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n"
            for name in ("board.jsonl", "cycle.json", "result.json")
        ).encode()
    )


def test_the_signature_is_ed25519_over_the_exact_sums_bytes():
    data, key = make_package()
    files = unzip(data)
    sig = json.loads(files["SHA256SUMS.sig"])
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert sig["algorithm"] == "Ed25519"
    assert base64.b64decode(sig["public_key"]) == raw
    assert sig["fingerprint"] == hashlib.sha256(raw).hexdigest()
    # Raises InvalidSignature if not: cryptography's own check, not ours.
    Ed25519PublicKey.from_public_bytes(raw).verify(
        base64.b64decode(sig["signature"]), files["SHA256SUMS"]
    )


def test_read_package_parses_every_member():
    definition = make_definition("greedy", per_region=True)
    entries = make_board()
    result = make_result(definition, entries)
    key = Ed25519PrivateKey.generate()
    parsed = read_package(build_package(definition, entries, result, key))
    assert parsed.definition == definition
    assert list(parsed.entries) == entries
    assert parsed.result == result
    assert list(parsed.sums) == ["board.jsonl", "cycle.json", "result.json"]
    assert parsed.signature.public_key == keys.public_key_raw(key)
    assert list(parsed.files) == list(MEMBERS)


def test_an_empty_board_round_trips():
    definition = make_definition()
    data = build_package(definition, [], make_result(definition, []), Ed25519PrivateKey.generate())
    assert unzip(data)["board.jsonl"] == b""
    assert read_package(data).entries == ()


# --- the reader refuses what it did not expect ----------------------------------------------


def test_read_package_refuses_what_is_not_a_zip():
    with pytest.raises(NotAZipError):
        read_package(b"just some text")


def _with(files: dict[str, bytes], **changes: bytes) -> bytes:
    names = {"cycle": "cycle.json", "board": "board.jsonl", "result": "result.json"}
    names |= {"sums": "SHA256SUMS", "sig": "SHA256SUMS.sig"}
    return zip_members(list((files | {names[k]: v for k, v in changes.items()}).items()))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.pop("result.json"), "missing member result.json"),
        (lambda f: f.update({"notes.txt": b"hi"}), "unexpected member 'notes.txt'"),
        (lambda f: f.update({"../cycle.json": f.pop("cycle.json")}), "'../cycle.json'"),
        (lambda f: f.update({"x/SHA256SUMS": f.pop("SHA256SUMS")}), "'x/SHA256SUMS'"),
    ],
)
def test_read_package_refuses_missing_and_unexpected_members(change, message):
    files = unzip(make_package()[0])
    change(files)
    with pytest.raises(PackageError, match=message):
        read_package(zip_members(list(files.items())))


def test_read_package_refuses_a_repeated_member():
    files = unzip(make_package()[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we make on purpose
        data = zip_members([*files.items(), ("board.jsonl", b"")])
    with pytest.raises(PackageError, match="board.jsonl appears more than once"):
        read_package(data)


def test_read_package_refuses_a_member_over_its_cap(monkeypatch):
    data, _ = make_package()
    monkeypatch.setitem(package.MAX_MEMBER_BYTES, "board.jsonl", 100)
    with pytest.raises(PackageError, match=r"board.jsonl declares \d+ bytes, over its cap"):
        read_package(data)


def test_read_package_refuses_a_zip_bomb_without_inflating_it(monkeypatch):
    files = unzip(make_package()[0])
    files["board.jsonl"] = b"\n" * (64 * 1024**2)  # 64 MiB of newlines deflate to ~64 KiB
    data = zip_members(list(files.items()))
    assert len(data) < 1024**2
    monkeypatch.setattr(package, "MAX_TOTAL_BYTES", 16 * 1024**2)
    with pytest.raises(PackageError, match="over the cap"):
        read_package(data)


def _set_declared_size(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size a member's central directory header declares."""
    end = data.rindex(b"PK\x05\x06")  # end of central directory: where the directory starts
    at = int.from_bytes(data[end + 16 : end + 20], "little")
    while data[at + 46 : at + 46 + len(name)] != name:
        name_length, extra, comment = (
            int.from_bytes(data[at + o : at + o + 2], "little") for o in (28, 30, 32)
        )
        at += 46 + name_length + extra + comment
    return data[: at + 24] + size.to_bytes(4, "little") + data[at + 28 :]


@pytest.mark.parametrize("delta", [-10, 10])
def test_read_package_refuses_a_member_whose_size_lies(delta):
    data, _ = make_package()
    real = len(unzip(data)["cycle.json"])
    forged = _set_declared_size(data, b"cycle.json", real + delta)
    with pytest.raises(PackageError, match="cycle.json"):
        read_package(forged)


@pytest.mark.parametrize(
    ("member", "content", "message"),
    [
        ("cycle", b'{"a": NaN}', "cycle.json is not valid JSON"),
        ("cycle", b'{"a": 1, "a": 2}', "appears twice"),
        ("cycle", b"\xff\xfe", "cycle.json is not UTF-8"),
        ("result", b"[1, 2", "result.json is not valid JSON"),
        ("board", b'{"seq": 1}\n', "board.jsonl line 1: an entry must have exactly the keys"),
        ("board", b"\n", "board.jsonl line 1 is not valid JSON"),
        ("board", b"[]", "must end with a newline"),
        ("sums", b"", "SHA256SUMS must end with a newline"),
        ("sums", b"abc  cycle.json\n", "SHA256SUMS line 1 is not"),
        ("sig", b'{"algorithm": "Ed25519"}', "must be an object with"),
    ],
)
def test_read_package_refuses_malformed_members(member, content, message):
    files = unzip(make_package()[0])
    with pytest.raises(PackageError, match=message):
        read_package(_with(files, **{member: content}))


def test_read_package_refuses_sums_that_do_not_list_exactly_the_three_files():
    files = unzip(make_package()[0])
    lines = files["SHA256SUMS"].split(b"\n")
    for sums in (b"\n".join(lines[:2]) + b"\n", b"\n".join([lines[1], lines[0], lines[2], b""])):
        with pytest.raises(PackageError, match="must list exactly"):
            read_package(_with(files, sums=sums))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("algorithm", "RSA", "unsupported algorithm"),
        ("public_key", base64.b64encode(b"x" * 31).decode(), "public_key must be base64 of 32"),
        ("public_key", "not base64!", "public_key must be base64"),
        ("signature", base64.b64encode(b"x" * 65).decode(), "signature must be base64 of 64"),
        ("fingerprint", "ABC", "fingerprint must be 64 lowercase hex"),
    ],
)
def test_read_package_refuses_a_malformed_signature_file(field, value, message):
    files = unzip(make_package()[0])
    sig = json.loads(files["SHA256SUMS.sig"]) | {field: value}
    with pytest.raises(PackageError, match=message):
        read_package(_with(files, sig=json.dumps(sig).encode()))


# --- keys ------------------------------------------------------------------------------------


def test_generate_key_file_is_0600_in_0700_directories(tmp_path):
    path = tmp_path / "secrets" / "tally" / "signing.pem"
    old_umask = os.umask(0)  # the most permissive umask: the modes must not depend on it
    try:
        fp = keys.generate_key_file(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    key = keys.load_private_key(path)
    assert fp == keys.fingerprint(keys.public_key_raw(key))
    assert fp == hashlib.sha256(keys.public_key_raw(key)).hexdigest()


def test_generate_key_file_creates_the_file_with_mode_0600_from_the_start(tmp_path, monkeypatch):
    calls = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):
        calls.append((flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    keys.generate_key_file(tmp_path / "k.pem")
    flags, mode = calls[0]
    assert mode == 0o600 and flags & os.O_EXCL and flags & os.O_CREAT


def test_generate_key_file_refuses_to_overwrite_unless_asked(tmp_path):
    path = tmp_path / "k.pem"
    first = keys.generate_key_file(path)
    with pytest.raises(keys.KeyFileError, match="already exists"):
        keys.generate_key_file(path)
    assert keys.fingerprint(keys.public_key_raw(keys.load_private_key(path))) == first
    path.chmod(0o644)
    second = keys.generate_key_file(path, overwrite=True)
    assert second != first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.pem"]  # no temporary left


def test_generate_key_file_does_not_write_through_a_planted_symlink(tmp_path):
    target = tmp_path / "elsewhere"
    (tmp_path / "k.pem").symlink_to(target)
    with pytest.raises(keys.KeyFileError):
        keys.generate_key_file(tmp_path / "k.pem")
    assert not target.exists()


def test_load_private_key_refuses_a_key_others_can_read(tmp_path):
    path = tmp_path / "k.pem"
    keys.generate_key_file(path)
    path.chmod(0o640)
    with pytest.raises(keys.KeyFileError, match="mode 0640.*chmod 600"):
        keys.load_private_key(path)
    assert isinstance(keys.load_private_key(path, allow_insecure_mode=True), Ed25519PrivateKey)


def test_load_private_key_refuses_missing_and_wrong_files(tmp_path):
    with pytest.raises(keys.KeyFileError, match="cannot read"):
        keys.load_private_key(tmp_path / "none.pem")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    junk.chmod(0o600)
    with pytest.raises(keys.KeyFileError, match="not an unencrypted PEM"):
        keys.load_private_key(junk)


def test_public_key_forms_parse_back_to_the_same_raw_key():
    key = Ed25519PrivateKey.generate()
    raw = keys.public_key_raw(key)
    assert len(raw) == 32 and keys.public_key_raw(key.public_key()) == raw
    assert keys.public_key_pem(key).startswith("-----BEGIN PUBLIC KEY-----")
    assert keys.parse_public_key(keys.public_key_pem(key)) == raw
    assert keys.parse_public_key(keys.public_key_base64(key)) == raw
    with pytest.raises(keys.KeyFileError, match="32 bytes"):
        keys.parse_public_key(base64.b64encode(raw[:16]).decode())
    with pytest.raises(keys.KeyFileError):
        keys.parse_public_key("-----BEGIN PUBLIC KEY-----\nbroken\n-----END PUBLIC KEY-----\n")


def test_signature_holds_only_for_the_signed_bytes_and_key():
    key = Ed25519PrivateKey.generate()
    raw = keys.public_key_raw(key)
    signature = keys.sign(key, b"sums")
    assert keys.signature_holds(raw, signature, b"sums")
    assert not keys.signature_holds(raw, signature, b"sums!")
    other = keys.public_key_raw(Ed25519PrivateKey.generate())
    assert not keys.signature_holds(other, signature, b"sums")


# --- docs/tally-format.md's worked example ---------------------------------------------------


def docs_example() -> dict[str, bytes]:
    """Section 9 of docs/tally-format.md, built by the code: the page must show these bytes."""
    definition = {
        "format": "opdigital-tally/1",
        "cycle": {"slug": "op-exemplo-2025", "title": "OP Exemplo 2025", "kind": "op-digital"}
        | {"edition": 1},
        "regions": [{"id": 1, "slug": "centro-sul", "name": "Centro-Sul"}],
        "budget_cents": 50000000,
        "region_budgets_cents": {},
        "proposals": [
            {"id": 3, "code": "OPD-003", "title": "Reforma da praça", "region_id": 1}
            | {"cost_cents": 30000000},
            {"id": 7, "code": "OPD-007", "title": "Ciclovia", "region_id": None}
            | {"cost_cents": 25000000},
        ],
        "ballot_rule": {"name": "approval", "params": {"max_choices": 2}},
        "counting_rule": {"name": "greedy", "per_region": False, "increment_cents": 100},
        "tie_break": TIE_BREAK,
        "voting": {"opens_at": "2025-05-01T11:00:00Z", "closes_at": "2025-05-15T02:59:59Z"},
    }
    items = [
        (hashlib.sha256(b"EXEMPLO-1").hexdigest(), [3, 7]),
        (hashlib.sha256(b"EXEMPLO-2").hexdigest(), [7]),
    ]
    entries = extend("op-exemplo-2025", 0, GENESIS_HASH, items)
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    data = build_package(definition, entries, make_result(definition, entries), key)
    return unzip(data)


def test_the_docs_worked_example_shows_what_the_code_produces():
    page = (ROOT / "docs" / "tally-format.md").read_text(encoding="utf-8")
    files = docs_example()
    for name in MEMBERS:
        assert files[name].decode("utf-8") in page, f"{name} differs from the docs"
    for entry in read_package(zip_members(list(files.items()))).entries:
        hashed = {k: v for k, v in entry.as_dict().items() if k != "entry_hash"}
        hashed["cycle"] = "op-exemplo-2025"
        assert canonical_json(hashed).decode() in page
        assert f"`{entry.entry_hash}`" in page


def test_the_docs_state_the_tie_break_and_the_ed25519_spki_prefix():
    page = (ROOT / "docs" / "tally-format.md").read_text(encoding="utf-8")
    assert f"> {TIE_BREAK}" in page
    pem_der = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert f"`{pem_der[:12].hex()}`" in page
