"""Verify a tally package: `python -m opdigital.ledger.verify FILE.zip [--public-key KEY]`.

Checks, in this order, printing one "ok" line per check that holds: the members are there and
well-formed; every file's SHA-256 matches SHA256SUMS; the Ed25519 signature over SHA256SUMS
holds (for the key given, or else the embedded one); the cycle definition is well-formed; the
board's chain holds entry by entry (and contains any head recorded during the vote, given with
--head); result.json's board head is the chain's head; the numbers of ballots, board entries
and participation records agree; a recount with the stated rule gives result.json exactly; and,
when the cycle had paper ballots, the paper batches add up with the board and with the paper
participations of each voting point (`ledger.paper`).

A failed hash or signature does not stop the checks of the content after it (so an auditor
learns what was changed, e.g. which paper batch's count); any other failure stops, as the checks
after it need what it found wrong. The last line, "FAILED: ...", names the first failure; any
later one is printed as "fail  ..." where its check ran. Exit 0: everything holds; 1: a check
failed (the file is a zip, or claims to be one: it ends with a zip's end record); 2: the command
line is wrong, or the file cannot be read, is larger than any package may be, or is not a zip
(docs/tally-format.md, "The command line"). Never a traceback.

Runs with only the standard library and `cryptography` installed (no Flask, no SQLAlchemy):
tests check that importing and running it loads neither. docs/tally-format.md lists the same
checks for auditors writing their own verifier.

Bounded on any input: the file is at most MAX_FILE_BYTES (2 GiB plus 1 MiB); members are inflated
as streams within caps derived from what the package declares (`package.read_package`); the
definition's numbers are bounded (`result.validate_definition`); and the recount's loops are
bounded by the data (Equal Shares completed does not run once per increment: see
`counting.equal_shares`).

Two cores: on a system that can fork, the command line starts the recount in a child process
while it reads the board (`early_count`); the child's result counts only for exactly the inputs
the strict reading found, so the checks and their outcome are those of the recount made in turn.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opdigital.ledger import keys
from opdigital.ledger.chain import GENESIS_HASH, canonical_json, check_chain, is_hex64
from opdigital.ledger.early_count import EarlyCount
from opdigital.ledger.package import (
    MAX_FILE_BYTES,
    PAPER,
    SIGNATURE,
    SUMS,
    KnownBoard,
    Package,
    PackageError,
    UnreadablePackage,
    read_package,
)
from opdigital.ledger.paper import PaperError, check_board, undeclared_batch, validate_paper
from opdigital.ledger.result import (
    RESULT_KEYS,
    CountInputs,
    TallyError,
    compute_result,
    proposal_ids,
    same_count_inputs,
    unknown_choice,
    validate_definition,
)

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2


class CheckFailed(Exception):
    """A verification check did not hold; the message names it (and the entry, if any).

    Raised by `verify_package` with the first failure as its message, and every failure (that
    one first) in `failures`.
    """

    def __init__(self, message: str, failures: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.failures: tuple[str, ...] = tuple(failures) or (message,)


class Unreadable(CheckFailed):
    """The file cannot be checked at all: too large, or not a zip (docs/tally-format.md,
    section 12: exit status 2, not a failed check). A CheckFailed all the same, so that a caller
    refusing what fails verification refuses this too; `reason` reads after the file's name."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the package {reason}")
        self.reason = reason


@dataclass(frozen=True)
class ExpectedKey:
    """The signer the auditor expects: a raw public key, or only its published fingerprint."""

    public_raw: bytes | None = None
    fingerprint: str | None = None

    @property
    def expected_fingerprint(self) -> str:
        if self.public_raw is not None:
            return keys.fingerprint(self.public_raw)
        assert self.fingerprint is not None
        return self.fingerprint


@dataclass(frozen=True)
class Counted:
    """A count the caller has just made, with its inputs: what the tally hands its own check of
    the package it is about to keep.

    `compute_result` is a pure function of (definition, ballots, participation, head), so when
    the package's are exactly these, counting them again could only repeat `result`: the
    recount check then compares `result` with result.json instead of counting a million ballots
    a second time. "Exactly" is by canonical JSON for the definition (1, 1.0 and true differ)
    and by value for ballots the chain check has already held to plain ints; any difference, or
    no `Counted` (the auditor's command line), and the board is counted again.
    """

    definition: dict[str, Any]
    ballots: Sequence[Sequence[int]]
    participation: int
    head: tuple[int, str]
    result: dict[str, Any]
    # board.jsonl as the caller had it read already, if it did (`early_board`): used only for
    # a member of exactly the bytes read (`package.read_package`).
    board: KnownBoard | None = None

    def result_for(self, found: CountInputs) -> dict[str, Any] | None:
        """`result` when the inputs `found` are the counted ones, else None (count them)."""
        counted = (self.definition, self.ballots, self.participation, self.head)
        return self.result if same_count_inputs(counted, found) else None


# What the command line strips around a key or fingerprint: ASCII whitespace only, as
# docs/tally-format.md says (str.strip() would also take Unicode spaces).
_ASCII_SPACE = " \t\n\r\x0b\x0c"


def expected_key_from_argument(value: str) -> ExpectedKey:
    """--public-key, tested in this order (docs/tally-format.md, "The command line"): an
    existing file (PEM, or base64 of the raw key); 64 hex digits, either case (a fingerprint);
    PEM text; base64 of the raw 32 bytes. A fingerprint is never base64 of 32 bytes (44
    characters), so only a file's name can shadow another reading.

    Raises keys.KeyFileError when the value is none of these.
    """
    path = Path(value)
    if path.is_file():
        try:
            content = path.read_bytes()
        except OSError as e:
            raise keys.KeyFileError(f"cannot read {path}: {e.strerror}") from None
        return ExpectedKey(public_raw=keys.parse_public_key(content))
    candidate = value.strip(_ASCII_SPACE)
    if candidate.isascii() and is_hex64(candidate.lower()):
        return ExpectedKey(fingerprint=candidate.lower())
    return ExpectedKey(public_raw=keys.parse_public_key(value))


def parse_recorded_head(value: str) -> tuple[int, str]:
    """--head SEQ:HASH, as recorded from the public board during the vote: SEQ in ASCII
    digits, HASH 64 hex digits in either case (compared in lowercase), nothing else."""
    seq_text, _, digest = value.partition(":")
    if not (seq_text.isascii() and seq_text.isdigit()) or not (
        digest.isascii() and is_hex64(digest.lower())
    ):
        raise ValueError(f"--head {value!r}: expected SEQ:HASH (an entry number and 64 hex digits)")
    return int(seq_text), digest.lower()


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values: unlike ==, 1 differs from 1.0 and from true."""
    return canonical_json(a) == canonical_json(b)


def _shown(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _item_label(path: str, index: int, item: Any) -> str:
    """votes[proposal 12] and by_region[region 3] read better than a bare list index."""
    if isinstance(item, dict) and "proposal_id" in item:
        return f"{path}[proposal {item['proposal_id']}]"
    if isinstance(item, dict) and "region_id" in item:
        region = item["region_id"]
        return f"{path}[{'city-wide' if region is None else f'region {region}'}]"
    return f"{path}[{index}]"


# The order in which the recount's fields are compared with result.json's, at each level
# (docs/tally-format.md, section 8, check 8): fixed here, not taken from either side's parsing,
# so that every verifier names the same first difference. The keys: the field's path with list
# items as "[]".
FIELD_ORDER: dict[str, tuple[str, ...]] = {
    "": RESULT_KEYS,  # result.json's fields, in the order section 5 lists them
    "board_head": ("seq", "hash"),
    "votes[]": ("proposal_id", "votes"),
    "by_region[]": ("region_id", "budget_cents", "allocated_cents", "selected"),
    "counting_rule": ("name", "per_region", "increment_cents"),
}


def _ordered(keys: Any, shape: str) -> list[str]:
    """`keys` in FIELD_ORDER's order for this level; any other key after them, sorted."""
    order = FIELD_ORDER.get(shape, ())
    return [key for key in order if key in keys] + sorted(k for k in keys if k not in order)


def first_difference(expected: Any, actual: Any, path: str = "", shape: str = "") -> str | None:
    """Where `actual` (result.json) first differs from `expected` (the recount), or None.

    Objects: the recount's fields in FIELD_ORDER's order, each missing or compared in turn,
    then result.json's first extra field (sorted); arrays: item by item, then their lengths;
    values: as canonical JSON (1, 1.0 and true differ).
    """
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in _ordered(expected, shape):
            where = f"{path}.{key}" if path else key
            if key not in actual:
                return f"{where} is missing"
            found = first_difference(
                expected[key], actual[key], where, f"{shape}.{key}" if shape else key
            )
            if found:
                return found
        extra = sorted(key for key in actual if key not in expected)
        return f"{path + '.' if path else ''}{extra[0]} is not a result field" if extra else None
    if isinstance(expected, list) and isinstance(actual, list):
        for index, (want, have) in enumerate(zip(expected, actual, strict=False)):
            found = first_difference(want, have, _item_label(path, index, want), f"{shape}[]")
            if found:
                return found
        if len(expected) != len(actual):
            return f"{path} has {len(actual)} items, the recount {len(expected)}"
        return None
    if not _same(expected, actual):
        return f"{path} is {_shown(actual)}, the recount gives {_shown(expected)}"
    return None


class _Verification:
    """The checks, one method each, run in order against one package."""

    def __init__(
        self,
        data: bytes,
        expected_key: ExpectedKey | None,
        recorded_heads: Sequence[tuple[int, str]],
        report: Callable[[str], None],
        counted: Counted | None = None,
        early: bool = False,
    ) -> None:
        self.data = data
        self.counted = counted
        self.early = early
        self.expected_key = expected_key
        self.recorded_heads = recorded_heads
        self.report = report
        self.lines: list[str] = []
        self.failures: list[str] = []

    def ok(self, line: str) -> None:
        self.lines.append(f"ok  {line}")
        self.report(f"ok  {line}")

    def failed(self, message: str) -> None:
        """Note a failure; the first is the verdict's (printed last), later ones print here."""
        if self.failures:
            self.report(f"fail  {message}")
        self.failures.append(message)

    def run(self) -> list[str]:
        # The recount starts on another core while the board is read (see `early_count`).
        early = EarlyCount.start(self.data) if self.early and self.counted is None else None
        try:
            return self._run(early)
        finally:
            if early is not None:
                early.close()

    def _run(self, early: EarlyCount | None) -> list[str]:
        try:
            known = self.counted.board if self.counted is not None else None
            package = read_package(self.data, keep_board_bytes=False, known_board=known)
        except UnreadablePackage as e:
            raise Unreadable(str(e)) from None
        except PackageError as e:
            raise CheckFailed(str(e)) from None
        self.ok(f"members {', '.join(package.members)} present and well-formed")
        # The bytes' integrity: a failure here does not stop the checks of their content.
        for check in (self.check_hashes, self.check_signature):
            try:
                check(package)
            except CheckFailed as e:
                self.failed(str(e))
        try:
            self.check_content(package, early)
        except CheckFailed as e:
            self.failed(str(e))
        if self.failures:
            raise CheckFailed(self.failures[0], self.failures)
        return self.lines

    def check_content(self, package: Package, early: EarlyCount | None = None) -> None:
        """The checks of what the files say, in order, up to the first that fails."""
        self.check_definition(package)
        head = self.check_chain(package)
        result = self.check_head(package, head)
        self.check_counts(package, result)
        self.check_recount(package, result, head, early)
        self.check_paper(package, result)

    def check_hashes(self, package: Package) -> None:
        summed = package.summed
        for name in summed:
            if package.digests[name] != package.sums[name]:
                raise CheckFailed(f"{name}: its SHA-256 does not match the one in {SUMS}")
        self.ok(f"SHA-256 of {', '.join(summed)} match {SUMS}")

    def check_signature(self, package: Package) -> None:
        signature = package.signature
        embedded = keys.fingerprint(signature.public_key)
        if signature.fingerprint != embedded:
            raise CheckFailed(f"{SIGNATURE}: its fingerprint is not the SHA-256 of its public_key")
        expected = self.expected_key
        if expected is None:
            note = (
                "the key embedded in the package: this proves the files are intact and were"
                " signed together, not who signed them; compare this fingerprint with the one"
                " the city published, or pass --public-key"
            )
        else:
            if embedded != expected.expected_fingerprint:
                raise CheckFailed(
                    f"the package is signed by key {embedded},"
                    f" not by the expected key {expected.expected_fingerprint}"
                )
            note = (
                "the key you gave"
                if expected.public_raw is not None
                else "the embedded key, whose fingerprint is the one you gave"
            )
        if not keys.signature_holds(signature.public_key, signature.signature, package.files[SUMS]):
            raise CheckFailed(
                f"{SIGNATURE}: the signature over {SUMS} does not hold for key {embedded}"
            )
        self.ok(f"signature by key {embedded} ({note})")

    def check_definition(self, package: Package) -> None:
        try:
            definition = validate_definition(package.definition)
        except TallyError as e:
            raise CheckFailed(f"cycle.json: {e}") from None
        rule = definition["counting_rule"]
        self.ok(
            f"cycle.json: cycle {definition['cycle']['slug']},"
            f" {len(definition['proposals'])} proposals, {len(definition['regions'])} regions,"
            f" counting rule {rule['name']}"
        )

    def check_chain(self, package: Package) -> tuple[int, str]:
        definition = package.definition
        # Reading the package checked the chain as it parsed each entry (`package.chain`);
        # walking a million entries again would only say the same.
        chain = package.chain
        if chain is None:
            chain = check_chain(definition["cycle"]["slug"], package.entries)
        if not chain.ok:
            raise CheckFailed(chain.problem)
        seq, unknown = _first_unknown_choice(definition, package.entries.choices)
        if unknown is not None:
            raise CheckFailed(f"entry {seq}: choice {unknown} is not on the ballot")
        self.ok(
            f"chain: {chain.count} entries, each linked to the one before, from the genesis"
            f" hash to head entry {chain.head_seq} {chain.head_hash}"
        )
        for seq, digest in self.recorded_heads:
            self.check_recorded_head(package, seq, digest)
        return chain.head

    def check_recorded_head(self, package: Package, seq: int, digest: str) -> None:
        if seq == 0:
            found = GENESIS_HASH
        elif seq > len(package.entries):
            raise CheckFailed(
                f"the recorded head {seq} is past the board's last entry"
                f" ({len(package.entries)}): entries were removed"
            )
        else:
            found = package.entries.entry_hash(seq)
        if found != digest:
            raise CheckFailed(
                f"entry {seq}: its hash is not the recorded head {digest}:"
                " the board was rewritten after you recorded it"
            )
        self.ok(f"the recorded head {seq} {digest} is on the chain")

    def check_head(self, package: Package, head: tuple[int, str]) -> dict[str, Any]:
        result = package.result
        if not isinstance(result, dict):
            raise CheckFailed("result.json must be a JSON object")
        stated = result.get("board_head")
        if not _same(stated, {"seq": head[0], "hash": head[1]}):
            raise CheckFailed(
                f"result.json: board_head is {_shown(stated)},"
                f" but the chain's head is entry {head[0]} {head[1]}"
            )
        self.ok(f"result.json's board_head is the chain's head (entry {head[0]})")
        return result

    def check_counts(self, package: Package, result: dict[str, Any]) -> None:
        entries = len(package.entries)
        ballots, participation = result.get("ballots"), result.get("participation")
        if not _same(ballots, entries):
            raise CheckFailed(
                f"result.json: ballots is {_shown(ballots)}, but the board has {entries} entries"
            )
        if not _same(participation, entries):
            raise CheckFailed(
                f"result.json: participation is {_shown(participation)}, but there are"
                f" {entries} ballots: participation records and ballots must agree"
            )
        self.ok(
            f"counts agree: {entries} ballots, {entries} board entries,"
            f" {entries} participation records"
        )

    def check_recount(
        self,
        package: Package,
        result: dict[str, Any],
        head: tuple[int, str],
        early: EarlyCount | None = None,
    ) -> None:
        inputs = (package.definition, package.entries.choices, len(package.entries), head)
        try:
            recount = self._count_made(inputs, early) or compute_result(
                package.definition, inputs[1], participation=inputs[2], head=head
            )
        except TallyError as e:
            raise CheckFailed(f"the board cannot be counted: {e}") from None
        difference = first_difference(recount, result)
        if difference:
            raise CheckFailed(f"result.json: {difference}")
        rule = recount["counting_rule"]
        scope = " per region" if rule["per_region"] and rule["name"] == "greedy" else ""
        self.ok(
            f"recount with {rule['name']}{scope} equals result.json:"
            f" {len(recount['selected'])} selected, {recount['allocated_cents']} cents allocated"
        )

    def _count_made(self, inputs: CountInputs, early: EarlyCount | None) -> dict[str, Any] | None:
        """The result of a count already made of exactly these inputs (the tally's own,
        `Counted`; the one started with the verification, `EarlyCount`), or None."""
        for made in (self.counted, early):
            found = made.result_for(inputs) if made is not None else None
            if found is not None:
                return found
        return None

    def check_paper(self, package: Package, result: dict[str, Any]) -> None:
        """Paper ballots (docs/tally-format.md, "Paper ballots"): nothing to check, and nothing
        printed, for a package with no paper.json and no paper entry."""
        declared = None
        if PAPER in package.files:
            try:
                declared = validate_paper(package.paper)
            except PaperError as e:
                raise CheckFailed(f"{PAPER}: {e}") from None
        # Only paper ballots have anything to check here: online entries are not rebuilt.
        paper_entries = package.entries.paper_entries()
        undeclared = undeclared_batch(paper_entries, declared)
        if undeclared:
            raise CheckFailed(undeclared)
        if declared is None:
            return
        try:
            held = check_board(declared, paper_entries, len(package.entries), result["ballots"])
        except PaperError as e:
            raise CheckFailed(str(e)) from None
        for line in held:
            self.ok(line)


def _first_unknown_choice(
    definition: dict[str, Any], ballots: Sequence[Sequence[int]]
) -> tuple[int, int | None]:
    """(entry seq, choice) of the first choice not on the ballot, or (0, None).

    Ballots repeat (the board keeps one object per distinct ballot), so each distinct one is
    checked once, and the board is walked in order only when one of them names an unknown id.
    """
    known = proposal_ids(definition)
    if all(known.issuperset(choices) for choices in set(ballots)):
        return 0, None
    for seq, choices in enumerate(ballots, start=1):
        unknown = unknown_choice(definition, choices, known)
        if unknown is not None:
            return seq, unknown
    return 0, None


def verify_package(
    data: bytes,
    *,
    expected_key: ExpectedKey | None = None,
    recorded_heads: Sequence[tuple[int, str]] = (),
    report: Callable[[str], None] = lambda line: None,
    counted: Counted | None = None,
    early: bool = False,
) -> list[str]:
    """Run every check; returns the "ok" lines (each also passed to `report` as it holds).

    Raises CheckFailed naming the first check that fails (every failure in its `failures`;
    those after the first are also passed to `report`, as "fail  ..."); Unreadable, a
    CheckFailed, for a file that cannot be checked at all (exit status 2 on the command line).
    `counted` spares the recount when the package holds exactly the inputs of a count just
    made (see `Counted`); every other check runs as always. `early` starts the recount in a
    child process while the board is read, on systems that can fork (see `early_count`): for
    the command line, which runs alone; same checks, same outcome.
    """
    return _Verification(data, expected_key, recorded_heads, report, counted, early).run()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m opdigital.ledger.verify",
        description="Verify an OP Digital tally package (format: docs/tally-format.md).",
    )
    parser.add_argument("package", help="the tally package (.zip)")
    parser.add_argument(
        "--public-key",
        metavar="KEY",
        help="the signer's public key: a PEM file, base64 of the raw 32 bytes, or its"
        " SHA-256 fingerprint (64 hex); without it the embedded key is used, which proves"
        " integrity but not authorship",
    )
    parser.add_argument(
        "--head",
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="a board head recorded during the vote; checks the board still holds it"
        " (may be repeated)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print only a failure")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit code (0 verified, 1 a check failed, 2 unreadable)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # argparse has printed the usage or the help
        return EXIT_OK if e.code in (0, None) else EXIT_UNREADABLE
    try:
        expected = expected_key_from_argument(args.public_key) if args.public_key else None
        heads = [parse_recorded_head(value) for value in args.head]
    except ValueError as e:  # KeyFileError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return EXIT_UNREADABLE
    path = Path(args.package)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            print(
                f"error: {path} is larger than any tally package may be ({MAX_FILE_BYTES} bytes)",
                file=sys.stderr,
            )
            return EXIT_UNREADABLE
        data = path.read_bytes()
    except OSError as e:
        print(f"error: cannot read {path}: {e.strerror}", file=sys.stderr)
        return EXIT_UNREADABLE
    report = (lambda line: None) if args.quiet else print
    try:
        verify_package(data, expected_key=expected, recorded_heads=heads, report=report, early=True)
    except Unreadable as e:
        print(f"error: {path} {e.reason}", file=sys.stderr)
        return EXIT_UNREADABLE
    except CheckFailed as e:
        print(f"FAILED: {e}")
        return EXIT_FAILED
    except Exception as e:  # a verifier bug must still fail closed, without a traceback
        print(f"FAILED: the package could not be checked ({type(e).__name__}: {e})")
        return EXIT_FAILED
    if not args.quiet:
        print(f"verified: {path}: every check holds")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
