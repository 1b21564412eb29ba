"""The tally package: a zip whose bytes depend only on its inputs, and its careful reader.

Writing: five members in a fixed order, fixed timestamps and modes, no comments, so the same
definition, board, result and key give the same bytes (given the same zlib: see
docs/tally-format.md). Reading: the verifier opens zips from anyone, so `read_package` refuses
anything it did not expect (unknown, missing or repeated members, odd names, encryption,
unknown compression, declared sizes over the caps, members larger than declared) before it
parses a byte, and parses JSON strictly (no duplicate keys, no NaN).

Standard library, `cryptography` (through `keys`) and the pure ledger modules only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
import stat
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opdigital.ledger import keys
from opdigital.ledger.chain import BoardEntry, ChainError, canonical_json, is_hex64

CYCLE, BOARD, RESULT, SUMS, SIGNATURE = (
    "cycle.json",
    "board.jsonl",
    "result.json",
    "SHA256SUMS",
    "SHA256SUMS.sig",
)
MEMBERS = (CYCLE, BOARD, RESULT, SUMS, SIGNATURE)
SUMMED = tuple(sorted((CYCLE, BOARD, RESULT)))  # the files SHA256SUMS lists, in its order
SIGNATURE_KEYS = ("algorithm", "public_key", "fingerprint", "signature")
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: no build time leaks in
# A regular file (S_IFREG) with mode 0644, as `zip` and `git archive` write it; without the
# file-type bits some tools list the member's type as unknown.
ZIP_MODE = stat.S_IFREG | 0o644
COMPRESS_LEVEL = 6  # zlib's default, stated so that a changed Python default cannot move bytes

# Caps on what a reader accepts (declared, uncompressed sizes): generous for a real city's board
# (a million ballots is about 250 MB of board.jsonl) and small enough to refuse a zip bomb.
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_MEMBER_BYTES = {
    CYCLE: 256 * 1024**2,
    BOARD: MAX_TOTAL_BYTES,
    RESULT: 256 * 1024**2,
    SUMS: 64 * 1024,
    SIGNATURE: 64 * 1024,
}
_SUMS_LINE = re.compile(r"([0-9a-f]{64})  ([^\n]+)")


class PackageError(ValueError):
    """The package is not a well-formed tally package; the message names what is wrong."""


class NotAZipError(PackageError):
    """The bytes are not a zip archive at all (the verifier treats it as an unreadable file)."""


def human_json(obj: Any) -> bytes:
    """cycle.json, result.json and SHA256SUMS.sig: sorted keys, indented, UTF-8, final newline."""
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def board_bytes(entries: Sequence[BoardEntry]) -> bytes:
    """board.jsonl: one canonical JSON entry per line, in the order given (seq order)."""
    return b"".join(canonical_json(e.as_dict()) + b"\n" for e in entries)


def sha256sums(files: Mapping[str, bytes]) -> bytes:
    """`sha256sum`-style lines ("<hex>  <name>\\n") for `files`, sorted by name."""
    return "".join(
        f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files)
    ).encode("ascii")


def signature_file(private_key: Ed25519PrivateKey, sums: bytes) -> bytes:
    """SHA256SUMS.sig: the Ed25519 signature over the exact bytes of SHA256SUMS, and the key."""
    public_raw = keys.public_key_raw(private_key)
    return human_json(
        {
            "algorithm": "Ed25519",
            "public_key": base64.b64encode(public_raw).decode("ascii"),
            "fingerprint": keys.fingerprint(public_raw),
            "signature": base64.b64encode(keys.sign(private_key, sums)).decode("ascii"),
        }
    )


def zip_members(members: Sequence[tuple[str, bytes]]) -> bytes:
    """A zip of `members` in the order given, with every varying header field fixed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(
        buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    ) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix; the default depends on the OS building the zip
            info.external_attr = ZIP_MODE << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def build_package(
    definition: dict[str, Any],
    entries: Sequence[BoardEntry],
    result: dict[str, Any],
    private_key: Ed25519PrivateKey,
) -> bytes:
    """The signed tally package's bytes; the same inputs always give the same bytes.

    Serialises only: the caller passes a definition, the full board in seq order and the result
    of `result.compute_result` for them (run the verifier on the bytes to check all three).
    """
    files = {CYCLE: human_json(definition), BOARD: board_bytes(entries), RESULT: human_json(result)}
    sums = sha256sums(files)
    members = {**files, SUMS: sums, SIGNATURE: signature_file(private_key, sums)}
    return zip_members([(name, members[name]) for name in MEMBERS])


@dataclass(frozen=True)
class Signature:
    """SHA256SUMS.sig, decoded (not yet checked: see the verifier)."""

    algorithm: str
    public_key: bytes
    fingerprint: str
    signature: bytes


@dataclass(frozen=True)
class Package:
    """A package's members: raw bytes as stored, and each parsed (not yet verified)."""

    files: Mapping[str, bytes]
    definition: Any
    entries: tuple[BoardEntry, ...]
    result: Any
    sums: Mapping[str, str]
    signature: Signature


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON parsers disagree on which of two equal keys wins; an auditor's must not differ
    # from ours, so a package with a repeated key is refused outright.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def strict_json(data: bytes, where: str) -> Any:
    """Parse JSON from UTF-8 bytes, refusing duplicate keys, NaN and Infinity."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PackageError(f"{where} is not UTF-8 text") from None
    try:
        return json.loads(
            text, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant
        )
    except (ValueError, RecursionError) as e:
        raise PackageError(f"{where} is not valid JSON: {e}") from None


def _read_members(data: bytes) -> dict[str, bytes]:
    """The five members' bytes, after every structural check a hostile zip calls for."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise NotAZipError("not a zip archive") from None
    with archive:
        infos = archive.infolist()
        names = [info.orig_filename for info in infos]
        for name in names:
            if name not in MEMBERS:
                raise PackageError(f"unexpected member {name!r}")
            if names.count(name) > 1:
                raise PackageError(f"member {name} appears more than once")
        for name in MEMBERS:
            if name not in names:
                raise PackageError(f"missing member {name}")
        total = sum(info.file_size for info in infos)
        if total > MAX_TOTAL_BYTES:
            raise PackageError(f"members declare {total} bytes in all, over the cap")
        return {info.orig_filename: _read_member(archive, info) for info in infos}


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    name = info.orig_filename
    if info.flag_bits & 0x1:
        raise PackageError(f"{name} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise PackageError(f"{name} uses an unsupported compression method")
    if info.file_size > MAX_MEMBER_BYTES[name]:
        raise PackageError(f"{name} declares {info.file_size} bytes, over its cap")
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as member:
            # Read no more than declared (+1 to notice more): a lying header cannot make us
            # inflate gigabytes.
            while size <= info.file_size:
                chunk = member.read(min(1024**2, info.file_size + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise PackageError(f"{name} cannot be read: {e}") from None
    if size != info.file_size:
        raise PackageError(f"{name} is not the size its header declares")
    return b"".join(chunks)


def _parse_board(data: bytes) -> tuple[BoardEntry, ...]:
    if data and not data.endswith(b"\n"):
        raise PackageError(f"{BOARD} must end with a newline")
    entries = []
    for number, line in enumerate(data.split(b"\n")[:-1], start=1):
        where = f"{BOARD} line {number}"
        try:
            entries.append(BoardEntry.from_dict(strict_json(line, where)))
        except ChainError as e:
            raise PackageError(f"{where}: {e}") from None
    return tuple(entries)


def _parse_sums(data: bytes) -> dict[str, str]:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise PackageError(f"{SUMS} is not ASCII text") from None
    if not text.endswith("\n"):
        raise PackageError(f"{SUMS} must end with a newline")
    sums: dict[str, str] = {}
    for number, line in enumerate(text[:-1].split("\n"), start=1):
        match = _SUMS_LINE.fullmatch(line)
        if not match:
            raise PackageError(f"{SUMS} line {number} is not '<64 hex digits>  <name>'")
        sums[match.group(2)] = match.group(1)
    if list(sums) != list(SUMMED) or len(text.split("\n")) != len(SUMMED) + 1:
        raise PackageError(f"{SUMS} must list exactly {', '.join(SUMMED)}, in that order")
    return sums


def _decode_base64(value: object, field: str, size: int) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise PackageError(f"{SIGNATURE}: {field} must be base64 of {size} bytes")
    return raw


def _parse_signature(data: bytes) -> Signature:
    parsed = strict_json(data, SIGNATURE)
    if not isinstance(parsed, dict) or set(parsed) != set(SIGNATURE_KEYS):
        raise PackageError(f"{SIGNATURE} must be an object with {', '.join(SIGNATURE_KEYS)}")
    if parsed["algorithm"] != "Ed25519":
        raise PackageError(f"{SIGNATURE}: unsupported algorithm {parsed['algorithm']!r}")
    if not is_hex64(parsed["fingerprint"]):
        raise PackageError(f"{SIGNATURE}: fingerprint must be 64 lowercase hex digits")
    return Signature(
        algorithm=parsed["algorithm"],
        public_key=_decode_base64(parsed["public_key"], "public_key", keys.PUBLIC_KEY_SIZE),
        fingerprint=parsed["fingerprint"],
        signature=_decode_base64(parsed["signature"], "signature", keys.SIGNATURE_SIZE),
    )


def read_package(data: bytes) -> Package:
    """Parse an untrusted package; raises PackageError (NotAZipError) naming the first problem.

    Only the form is checked here (members, JSON, entry shapes, SHA256SUMS lines, signature
    encoding); hashes, signature, chain and result are the verifier's checks.
    """
    if len(data) > MAX_TOTAL_BYTES + 1024**2:
        raise PackageError("the file is larger than any tally package may be")
    files = _read_members(data)
    return Package(
        files=MappingProxyType({name: files[name] for name in MEMBERS}),
        definition=strict_json(files[CYCLE], CYCLE),
        entries=_parse_board(files[BOARD]),
        result=strict_json(files[RESULT], RESULT),
        sums=MappingProxyType(_parse_sums(files[SUMS])),
        signature=_parse_signature(files[SIGNATURE]),
    )
