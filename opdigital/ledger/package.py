"""The tally package: a zip whose bytes depend only on its inputs, and its careful reader.

Writing: five members (six with paper ballots: paper.json) in a fixed order, fixed timestamps
and modes, no comments, so the same definition, board, result and key give the same bytes
(given the same zlib: see docs/tally-format.md). Reading: the verifier opens zips from anyone,
so `read_package` refuses anything it did not expect before it parses a byte: it reads the zip's
records itself (`_layout`, `_check_member`: nothing before, between or after the records, local
and central headers alike, no extra fields, comments, data descriptors or encryption, stored or
DEFLATE only; unknown, missing or repeated members; declared sizes over the caps), then inflates
no member past its declared size, and parses JSON strictly (no duplicate keys, no NaN); each
board line must be its entry's canonical JSON (docs/tally-format.md, sections 1 and 4).
board.jsonl, the only member that may be large, is read as a stream, line by line, within caps
derived from what cycle.json and result.json declare (how many ballots, how many proposals; and
paper.json, whose presence allows a paper batch on each line): a small zip that inflates to
gigabytes is refused from its header, or at its first line that cannot be an entry, in little
memory and time.

Standard library, `cryptography` (through `keys`) and the pure ledger modules only.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import json
import math
import re
import stat
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opdigital.ledger import keys
from opdigital.ledger.board_reader import Board, ChainReader
from opdigital.ledger.chain import (
    BoardEntry,
    ChainError,
    ChainReport,
    canonical_json,
    is_hex64,
    is_int,
)
from opdigital.ledger.json_checks import MAX_INTEGER
from opdigital.ledger.result import TallyError, validate_definition

CYCLE, BOARD, RESULT, PAPER, SUMS, SIGNATURE = (
    "cycle.json",
    "board.jsonl",
    "result.json",
    "paper.json",
    "SHA256SUMS",
    "SHA256SUMS.sig",
)
MEMBERS = (CYCLE, BOARD, RESULT, SUMS, SIGNATURE)  # every package has these
# paper.json is there only when the cycle had paper ballots (docs/tally-format.md, "Paper
# ballots"), so an online cycle's package is exactly what it was before paper ballots existed.
OPTIONAL_MEMBERS = (PAPER,)
WRITE_ORDER = (CYCLE, BOARD, RESULT, PAPER, SUMS, SIGNATURE)
SUMMED = tuple(sorted((CYCLE, BOARD, RESULT)))  # the files SHA256SUMS lists, in its order
SUMMED_WITH_PAPER = tuple(sorted((*SUMMED, PAPER)))


def summed_members(has_paper: bool) -> tuple[str, ...]:
    """The members SHA256SUMS lists, in its order: paper.json too when the package has it."""
    return SUMMED_WITH_PAPER if has_paper else SUMMED


SIGNATURE_KEYS = ("algorithm", "public_key", "fingerprint", "signature")
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: no build time leaks in
# A regular file (S_IFREG) with mode 0644, as `zip` and `git archive` write it; without the
# file-type bits some tools list the member's type as unknown.
ZIP_MODE = stat.S_IFREG | 0o644
COMPRESS_LEVEL = 6  # zlib's default, stated so that a changed Python default cannot move bytes

# Caps on what a reader accepts (declared, uncompressed sizes): generous for a real city's board
# (a million ballots is about 250 MB of board.jsonl) and small enough to refuse a zip bomb.
# cycle.json and result.json grow with the proposals (at most result.MAX_PROPOSALS, a few
# hundred bytes each); board.jsonl is further held to what they declare (`board_caps`).
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_MEMBER_BYTES = {
    CYCLE: 16 * 1024**2,
    BOARD: MAX_TOTAL_BYTES,
    RESULT: 16 * 1024**2,
    PAPER: 16 * 1024**2,
    SUMS: 64 * 1024,
    SIGNATURE: 64 * 1024,
}
# The whole file: the members' cap and room for their headers and the central directory.
MAX_FILE_BYTES = MAX_TOTAL_BYTES + 1024**2
# The most ballots result.json may declare (a board that large would pass MAX_TOTAL_BYTES).
MAX_BALLOTS = 10_000_000
# A board line's bytes besides its seq's digits and its choices: keys, three hashes, newline
# (in this entry, the seq's one digit stands for the newline).
_NO_CHOICE = {"seq": 0, "choices": []} | dict.fromkeys(
    ("receipt_hash", "prev_hash", "entry_hash"), "0" * 64
)
_LINE_FIXED = len(canonical_json(_NO_CHOICE))
# What a paper ballot's line adds when the package has paper.json: the key and a batch id of
# at most 19 digits (PostgreSQL's bigint).
_LINE_PAPER = len(',"paper_batch":') + 19
# Room beyond the longest canonical entry, so that a line the cap lets through is named by the
# checks of its form or its values (docs/tally-format.md states L with it).
_LINE_SLACK = 64
_CHUNK = 64 * 1024  # read size: also bounds the lines one split makes at once
_SUMS_LINE = re.compile(r"([0-9a-f]{64})  ([^\n]+)")


class PackageError(ValueError):
    """The package is not a well-formed tally package; the message names what is wrong."""


class UnreadablePackage(PackageError):
    """The file cannot be checked at all (exit status 2, not a failed check): larger than any
    package may be, or not a zip archive. The message reads after the file's name ("FILE is
    ...")."""


class NotAZipError(UnreadablePackage):
    """The bytes do not end with a zip's end-of-central-directory record: not a zip, a truncated
    one, or one with bytes (or a comment) after it (docs/tally-format.md, section 1)."""


def human_json(obj: Any) -> bytes:
    """cycle.json, result.json and SHA256SUMS.sig: sorted keys, indented, UTF-8, final newline."""
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def board_bytes(entries: Sequence[BoardEntry]) -> bytes:
    """board.jsonl: one canonical JSON entry per line, in the order given (seq order)."""
    return b"".join([e.line() + b"\n" for e in entries])


def sha256sums(
    files: Mapping[str, bytes], known: Mapping[str, str] = MappingProxyType({})
) -> bytes:
    """`sha256sum`-style lines ("<hex>  <name>\\n") for `files`, sorted by name (`known`: hex
    digests already taken of some of them)."""
    return "".join(
        f"{known.get(name) or hashlib.sha256(files[name]).hexdigest()}  {name}\n"
        for name in sorted(files)
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
    with _zip_writer(buffer) as archive:
        for name, content in members:
            _add_member(archive, name, content)
    return buffer.getvalue()


def _zip_writer(buffer: io.BytesIO) -> zipfile.ZipFile:
    return zipfile.ZipFile(
        buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    )


def _add_member(archive: zipfile.ZipFile, name: str, content: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix; the default depends on the OS building the zip
    info.external_attr = ZIP_MODE << 16
    info.file_size = len(content)
    # What `writestr` does, with the zip64 decision made here (the same one), so that tests
    # can take the path of a huge board on a small one.
    zip64 = _needs_zip64(len(content))
    with archive.open(info, "w", force_zip64=zip64) as member:
        member.write(content)
    if zip64:  # only such a member's header may need rewriting
        _conform_zip64_header(archive, info)


def _needs_zip64(size: int) -> bool:
    """Whether a member of `size` bytes gets zip64 sizes in its local header: zipfile's own
    rule (it might pass 2**31 - 1 bytes once compressed), met by a board over about 1.9 GiB."""
    return size * 1.05 > zipfile.ZIP64_LIMIT


_ZIP64_VERSION = 45  # "version needed to extract" of a member with zip64 fields (APPNOTE 4.4.3)


def _conform_zip64_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Give a member with a zip64 field the local header APPNOTE.TXT 4.5.3 wants, as Python
    3.11.4 and later write it: 0xFFFFFFFF in both 32-bit sizes (the field holds them) and
    version 4.5. Python before 3.11.4 (CPython gh-103861; Debian 12 has 3.11.2) writes the real
    sizes there and version 2.0, a layout our reader refuses. Rewritten here, the package's
    bytes are the same on every Python 3.11 or newer (and a header already so, left as it is)."""
    out = archive.fp
    assert out is not None  # an archive being written
    end = out.tell()
    out.seek(info.header_offset)
    local = _LOCAL.unpack(out.read(_LOCAL.size))
    if local[-1] == _ZIP64_LOCAL.size and local[7:9] != (_NO_SIZE, _NO_SIZE):
        out.seek(info.header_offset + 4)  # the version needed, after the signature
        out.write(struct.pack("<H", _ZIP64_VERSION))
        out.seek(info.header_offset + 18)  # the compressed and uncompressed sizes
        out.write(struct.pack("<LL", _NO_SIZE, _NO_SIZE))
        # The central directory header says the same (made by and needed: 4.5, as 3.11.4+).
        info.extract_version = max(info.extract_version, _ZIP64_VERSION)
        info.create_version = max(info.create_version, _ZIP64_VERSION)
    out.seek(end)


class PackageBuilder:
    """Builds a package in two halves, so that the slow half overlaps the count.

    cycle.json and board.jsonl come first in the zip and are known before the count: creating
    the builder formats the board and starts compressing both members (and hashing them) in a
    thread while the caller counts; zlib and hashlib let go of the GIL on large buffers, so on a
    second core this costs the count nothing. `finish` then adds result.json, paper.json,
    SHA256SUMS and the signature to the same archive. The zip is written by the same calls in
    the same order as `zip_members` makes them, so the bytes are the same (`build_package` is
    this builder, finished at once). Use it as a context manager: leaving it waits for the
    thread, also when the count failed.

    The board comes as its entries, or as board.jsonl's bytes ready made, in pieces to join in
    order (`board=`: the tally has PostgreSQL compose the lines, a chunk at a time, see
    `board.services.sealed_board`); one or the other. The thread joins the pieces: bytes.join
    lets go of the GIL too (a million entries' board is 0.1 s of copying). `then` runs on
    that thread when it is done, with board.jsonl's SHA-256: the tally starts reading the board
    for its check there (`early_board`).
    """

    def __init__(
        self,
        definition: dict[str, Any],
        entries: Sequence[BoardEntry] | None = None,
        *,
        board: Sequence[bytes] | None = None,
        then: Callable[[str], None] | None = None,
    ) -> None:
        if (entries is None) == (board is None):
            raise TypeError("PackageBuilder takes the board's entries or its bytes (board=)")
        self._board = board if entries is None else [board_bytes(entries)]
        self._then = then
        self._files = {CYCLE: human_json(definition)}
        self._digests: dict[str, str] = {}
        self._buffer = io.BytesIO()
        self._archive = _zip_writer(self._buffer)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._write_first_half, name="package-board")
        self._thread.start()

    def _write_first_half(self) -> None:
        try:
            self._files[BOARD] = b"".join(self._board)
            self._board = ()  # the pieces may go now (unless the caller keeps them)
            for name in (CYCLE, BOARD):
                self._digests[name] = hashlib.sha256(self._files[name]).hexdigest()
                _add_member(self._archive, name, self._files[name])
        except BaseException as e:  # raised again by `finish`, in the caller's thread
            self._failure = e
            return
        if self._then is not None:
            self._then(self._digests[BOARD])

    def __enter__(self) -> PackageBuilder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._thread.join()
        if self._archive.fp is not None:  # not finished (the count failed): nothing to keep
            with contextlib.suppress(ValueError, OSError):  # a half-written member, say
                self._archive.close()

    def finish(
        self,
        result: dict[str, Any],
        private_key: Ed25519PrivateKey,
        paper: dict[str, Any] | None = None,
    ) -> bytes:
        """The signed package's bytes (see `build_package`)."""
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        files = {**self._files, RESULT: human_json(result)}
        if paper is not None:
            files[PAPER] = human_json(paper)
        sums = sha256sums(files, known=self._digests)
        later = {RESULT: files[RESULT], SUMS: sums, SIGNATURE: signature_file(private_key, sums)}
        if paper is not None:
            later[PAPER] = files[PAPER]
        with self._archive as archive:
            for name in WRITE_ORDER:
                if name in later:
                    _add_member(archive, name, later[name])
        return self._buffer.getvalue()


def build_package(
    definition: dict[str, Any],
    entries: Sequence[BoardEntry],
    result: dict[str, Any],
    private_key: Ed25519PrivateKey,
    paper: dict[str, Any] | None = None,
) -> bytes:
    """The signed tally package's bytes; the same inputs always give the same bytes.

    Serialises only: the caller passes a definition, the full board in seq order, the result
    of `result.compute_result` for them and, when the cycle had paper ballots, paper.json's
    object (`ledger.paper`); run the verifier on the bytes to check them all. Without `paper`
    the package has no paper.json, byte for byte as before paper ballots existed.
    """
    with PackageBuilder(definition, entries) as builder:
        return builder.finish(result, private_key, paper)


@dataclass(frozen=True)
class Signature:
    """SHA256SUMS.sig, decoded (not yet checked: see the verifier)."""

    algorithm: str
    public_key: bytes
    fingerprint: str
    signature: bytes


@dataclass(frozen=True)
class Package:
    """A package's members: raw bytes as stored, and each parsed (not yet verified).

    `files` holds every member's bytes, but board.jsonl's only when asked for (the verifier
    does not keep them: it needs only their SHA-256, in `digests`, and the entries). `entries`
    stops at the first entry that breaks the chain (nothing after it needs to be kept), and is
    empty when cycle.json is not a valid definition (the board is then only hashed: the
    verifier fails at the definition before it looks at entries). `chain` is what
    `chain.check_chain` says of `entries`, found while they were read (None when they were not
    read), so that nobody walks a million entries twice. `paper` is paper.json, parsed, or
    None when the package has no paper.json.
    """

    files: Mapping[str, bytes]
    digests: Mapping[str, str]
    definition: Any
    entries: Board
    result: Any
    sums: Mapping[str, str]
    signature: Signature
    paper: Any = None
    chain: ChainReport | None = None

    @property
    def members(self) -> tuple[str, ...]:
        """The members this package holds, in the order they are written."""
        return tuple(name for name in WRITE_ORDER if name in self.files or name == BOARD)

    @property
    def summed(self) -> tuple[str, ...]:
        """The members SHA256SUMS lists (paper.json too when the package has it)."""
        return summed_members(PAPER in self.files)


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


class _NotAnInteger(ValueError):
    """A number too large for a float, or -0: refused as the file is parsed (section 2)."""


def _float(text: str) -> float:
    # Every number in a package is an integer (section 2): a number with a fraction or an
    # exponent is kept as a float here, so that the check of its field names it ("budget_cents
    # must be an integer", "allocated_cents is 90000.0, the recount gives 90000"); only one no
    # float can hold (1e400, which would read as infinity) is refused at once.
    value = float(text)
    if not math.isfinite(value):
        raise _NotAnInteger(f"the number {text[:40]} is not an integer")
    return value


def _integer(text: str) -> int:
    if text == "-0":  # zero with a sign: canonical JSON never writes it
        raise _NotAnInteger("the number -0 has a sign")
    return int(text)


def strict_json(data: bytes, where: str) -> Any:
    """Parse JSON from UTF-8 bytes, refusing duplicate keys, NaN and Infinity, -0 and numbers
    no float holds (1e400). Other numbers that are not integers from 0 to 2**63 - 1 are parsed
    and refused by the check of their field, which can name it (docs/tally-format.md, section 2:
    every number in a package is such an integer)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PackageError(f"{where} is not UTF-8 text") from None
    try:
        return json.loads(
            text,
            object_pairs_hook=_refuse_duplicate_keys,
            parse_constant=_refuse_constant,
            parse_float=_float,
            parse_int=_integer,
        )
    except _NotAnInteger as e:
        raise PackageError(
            f"{where}: {e} (every number in a tally package is an integer from 0 to {MAX_INTEGER})"
        ) from None
    except (ValueError, RecursionError) as e:
        raise PackageError(f"{where} is not valid JSON: {e}") from None


# The zip's three record types (little-endian, APPNOTE.TXT 4.3.7, 4.3.12, 4.3.16): signature,
# then the fields `_Header` and `_layout` name.
_LOCAL = struct.Struct("<4s5H3L2H")  # 30 bytes, then the name (and an extra field: refused)
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # 46 bytes, then name, extra field, comment
_END = struct.Struct("<4s4H2LH")  # 22 bytes, then the archive comment (refused)
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
_ENCRYPTED, _DATA_DESCRIPTOR = 0x0001, 0x0008
# A zip64 extended information field with both sizes (APPNOTE.TXT 4.5.3): ID, length, then the
# uncompressed and compressed sizes; the 32-bit size fields then hold _NO_SIZE.
_ZIP64_LOCAL = struct.Struct("<HHQQ")
_ZIP64_ID, _NO_SIZE = 0x0001, 0xFFFFFFFF
# Flags a member may carry: DEFLATE's level hints (bits 1, 2) and UTF-8 names (bit 11), none of
# which changes how the member is read. Anything else (encryption, a data descriptor, patched
# data, masked headers...) is refused.
_HARMLESS_FLAGS = 0x0002 | 0x0004 | 0x0800


@dataclass(frozen=True)
class _Header:
    """One member's central directory header: what the local header must repeat."""

    raw_name: bytes
    version_needed: int
    flags: int
    method: int
    time: int
    date: int
    crc: int
    compressed: int
    size: int
    extra: int  # lengths of the extra field and of the file comment (both must be 0)
    comment: int
    offset: int  # where its local header is

    @property
    def name(self) -> str:
        return self.raw_name.decode("utf-8", "backslashreplace")

    def local_fields(self) -> tuple[object, ...]:
        """The local header this member must have: the same fields, no extra field."""
        return (
            _LOCAL_SIG,
            self.version_needed,
            self.flags,
            self.method,
            self.time,
            self.date,
            self.crc,
            self.compressed,
            self.size,
            len(self.raw_name),
            0,
        )


def _layout(data: bytes) -> tuple[int, list[_Header]]:
    """(where the central directory begins, its headers in order), after the checks of the
    archive's frame: it ends with a 22-byte end record without comment (else NotAZipError),
    describes one disk, and its central directory fills exactly the bytes before that record."""
    end = len(data) - _END.size
    if end < 0 or data[end : end + 4] != _END_SIG or data[-2:] != b"\0\0":
        raise NotAZipError(
            "is not a zip archive: its last 22 bytes are not an end-of-central-directory record"
            " without comment (not a zip file, a truncated one, or one followed by other bytes)"
        )
    _, disk, directory_disk, here, total, directory_size, start, _ = _END.unpack_from(data, end)
    if disk or directory_disk or here != total:
        raise PackageError("zip: the end-of-central-directory record is not a single disk's")
    if start + directory_size != end:
        raise PackageError(
            f"zip: the central directory ({directory_size} bytes from byte {start}) does not end"
            f" where the end-of-central-directory record begins (byte {end})"
        )
    headers: list[_Header] = []
    at = start
    for number in range(1, total + 1):
        if at + _CENTRAL.size > end or data[at : at + 4] != _CENTRAL_SIG:
            raise PackageError(f"zip: central directory header {number} is malformed")
        (_, _, needed, flags, method, time, date, crc, compressed, size, length, extra, comment,
         disk_start, _, _, offset) = _CENTRAL.unpack_from(data, at)  # fmt: skip
        name_at = at + _CENTRAL.size
        at = name_at + length + extra + comment
        if at > end or disk_start:
            raise PackageError(f"zip: central directory header {number} is malformed")
        name = data[name_at : name_at + length]
        headers.append(
            _Header(
                name,
                needed,
                flags,
                method,
                time,
                date,
                crc,
                compressed,
                size,
                extra,
                comment,
                offset,
            )
        )
    if at != end:
        raise PackageError(
            f"zip: the central directory holds more than the {total} headers its end record counts"
        )
    return start, headers


def _check_member(data: bytes, header: _Header, position: int, directory: int) -> int:
    """The checks of one member's header (docs/tally-format.md, section 1, in that order);
    returns where its data ends, which is where the next local header must begin."""
    name = header.name
    if header.flags & _ENCRYPTED:
        raise PackageError(f"{name} is encrypted")
    if header.flags & _DATA_DESCRIPTOR:
        raise PackageError(f"{name} has a data descriptor (general purpose flag bit 3)")
    if header.flags & ~_HARMLESS_FLAGS:
        raise PackageError(f"{name} has unsupported general purpose flags {header.flags:#06x}")
    if header.method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise PackageError(f"{name} uses an unsupported compression method")
    if header.method == zipfile.ZIP_STORED and header.compressed != header.size:
        raise PackageError(f"{name} is stored, but declares different sizes")
    if header.extra or header.comment:
        raise PackageError(f"{name} has an extra field or a comment in the central directory")
    if header.size > MAX_MEMBER_BYTES[name]:
        raise PackageError(f"{name} declares {header.size} bytes, over its cap")
    if header.offset != position:
        where = "the archive begins" if position == 0 else "the member before it ends"
        raise PackageError(
            f"zip: {name}'s local header is at byte {header.offset}, not at byte {position}"
            f" where {where}"
        )
    name_at = position + _LOCAL.size
    extra_at = name_at + len(header.raw_name)
    local = _LOCAL.unpack_from(data, position) if extra_at <= directory else ()
    extra = local[-1] if local else 0
    data_at = extra_at + extra
    if extra == _ZIP64_LOCAL.size and data_at <= directory and local[7:9] == (_NO_SIZE, _NO_SIZE):
        # The one extra field allowed: zip64's sizes in the local header only, as Python's
        # zipfile writes them for a member it guesses may pass 2**31 - 1 bytes (our writer, on
        # a board of more than about 1.9 GiB); they stand for the two 32-bit sizes.
        field_id, length, size, compressed = _ZIP64_LOCAL.unpack_from(data, extra_at)
        if (field_id, length) == (_ZIP64_ID, _ZIP64_LOCAL.size - 4):
            local = (*local[:7], compressed, size, local[9], 0)
    if (
        data_at > directory
        or local != header.local_fields()
        or data[name_at:extra_at] != header.raw_name
    ):
        raise PackageError(f"zip: {name}'s local header differs from its central directory header")
    return data_at + header.compressed


def open_archive(data: bytes) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """The archive and its members (five, or six with paper.json), after every structural check
    a hostile zip calls for (docs/tally-format.md, section 1, "Reading the zip", in its order).

    The zip's structure is read here, byte by byte, rather than left to `zipfile`, which finds
    an archive behind prepended bytes, takes names from the central directory only, and
    ignores a comment: rules an auditor's zip library may not share. After these checks the
    file is exactly its members' local headers and data, in order, then the central directory,
    then the end record; `zipfile` then only inflates (and checks each CRC-32).
    """
    directory, headers = _layout(data)
    names = [header.raw_name for header in headers]
    for header in headers:
        if header.name not in MEMBERS and header.name not in OPTIONAL_MEMBERS:
            raise PackageError(f"unexpected member {header.name!r}")
        if names.count(header.raw_name) > 1:
            raise PackageError(f"member {header.name} appears more than once")
    for name in MEMBERS:
        if name.encode("ascii") not in names:
            raise PackageError(f"missing member {name}")
    total = sum(header.size for header in headers)
    if total > MAX_TOTAL_BYTES:
        raise PackageError(f"members declare {total} bytes in all, over the cap")
    position = 0
    for header in headers:
        position = _check_member(data, header, position, directory)
    if position != directory:
        raise PackageError(
            f"zip: the central directory begins at byte {directory}, not at byte {position}"
            " where the last member ends"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as e:
        # Not expected after the checks above; refused all the same, as a malformed zip.
        raise PackageError(f"zip: the archive cannot be opened: {e}") from None
    return archive, {info.orig_filename: info for info in archive.infolist()}


def member_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's bytes, a chunk at a time, never more than its header declares (checked
    against the caps before): a lying header cannot make us inflate gigabytes."""
    name = info.orig_filename
    size = 0
    try:
        with archive.open(info) as member:
            while size <= info.file_size:  # +1 byte past the declared size: to notice more
                chunk = member.read(min(_CHUNK, info.file_size + 1 - size))
                if not chunk:
                    break
                size += len(chunk)
                if size > info.file_size:
                    break
                yield chunk
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as e:
        raise PackageError(f"{name} cannot be read: {e}") from None
    if size != info.file_size:
        raise PackageError(f"{name} is not the size its header declares")


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    return b"".join(member_chunks(archive, info))


def board_caps(definition: dict[str, Any], ballots: int, *, paper: bool = False) -> tuple[int, int]:
    """(bytes per line, bytes in all) board.jsonl may hold for a valid definition and the
    number of ballots result.json declares: each line an entry whose choices are distinct
    proposals of the ballot (and, when the package has paper.json, a paper batch)."""
    proposals = definition["proposals"]
    digits = max((len(str(p["id"])) for p in proposals), default=1)
    line = _LINE_FIXED + len(str(max(ballots, 1))) + len(proposals) * (digits + 1) + _LINE_SLACK
    if paper:
        line += _LINE_PAPER
    return line, line * ballots


def _declared_ballots(result: Any) -> int:
    """result.json's `ballots`, which bounds how much of board.jsonl is read."""
    if not isinstance(result, dict):
        raise PackageError(f"{RESULT} must be a JSON object")
    ballots = result.get("ballots")
    if not is_int(ballots) or ballots < 0:
        raise PackageError(
            f"{RESULT}: ballots must be an integer >= 0 (it bounds how much of {BOARD} is read)"
        )
    if ballots > MAX_BALLOTS:
        raise PackageError(f"{RESULT}: ballots is {ballots}, over the cap of {MAX_BALLOTS}")
    return ballots


def _valid_definition(definition: Any) -> dict[str, Any] | None:
    try:
        return validate_definition(definition)
    except TallyError:
        return None  # the verifier's definition check names the problem, in its turn


@dataclass
class _Board:
    digest: str
    entries: Board
    raw: bytes | None
    chain: ChainReport | None = None


@dataclass(frozen=True)
class BoardReading:
    """board.jsonl read the strict way before its package was made (`read_board_bytes`): what
    `read_package` finds in a member of exactly these bytes (this SHA-256) under the same
    definition, declared ballots and paper.json's presence (the caps depend on them)."""

    digest: str
    definition: str  # the definition's canonical JSON
    ballots: int
    paper: bool
    entries: Board
    chain: ChainReport

    def applies(self, definition: dict[str, Any], ballots: int, paper: bool) -> bool:
        return (ballots, paper) == (self.ballots, self.paper) and canonical_json(
            definition
        ) == self.definition


class KnownBoard(Protocol):
    """Where `read_package` may find board.jsonl already read (`ledger.early_board`)."""

    def reading(self) -> BoardReading | None:
        """The reading, once it is done; None if there is none to use."""


def _read_board(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    definition: dict[str, Any] | None,
    ballots: int,
    keep_bytes: bool,
    paper: bool = False,
    known: KnownBoard | None = None,
) -> _Board:
    """Hash board.jsonl and parse it line by line within the caps; see `Package`.

    With `known`: the member is inflated and hashed only, and when its bytes are exactly those
    of the reading made beforehand (same SHA-256, same definition, ballots and paper), that
    reading is the one this would make; otherwise it is read as always.
    """
    digest = hashlib.sha256()
    raw: list[bytes] | None = [] if keep_bytes else None

    def hashed() -> Iterator[bytes]:
        for chunk in member_chunks(archive, info):
            digest.update(chunk)
            if raw is not None:
                raw.append(chunk)
            yield chunk

    if definition is None:
        for _ in hashed():
            pass
        return _Board(digest.hexdigest(), Board(), b"".join(raw) if raw is not None else None)
    line_cap, cap = board_caps(definition, ballots, paper=paper)
    if info.file_size > cap:
        raise PackageError(_over_cap(info.file_size, cap, ballots, line_cap))
    if known is not None and raw is None:
        for _ in hashed():
            pass
        reading = known.reading()
        if (
            reading is not None
            and reading.digest == digest.hexdigest()
            and reading.applies(definition, ballots, paper)
        ):
            return _Board(reading.digest, reading.entries, None, reading.chain)
        return _read_board(archive, info, definition, ballots, keep_bytes, paper)
    reader = _read_lines(hashed(), definition["cycle"]["slug"], ballots, line_cap)
    return _Board(
        digest.hexdigest(),
        reader.board,
        b"".join(raw) if raw is not None else None,
        reader.report,
    )


def read_board_bytes(
    pieces: Iterable[bytes],
    definition: dict[str, Any],
    ballots: int,
    *,
    paper: bool = False,
    digest: str | None = None,
) -> BoardReading:
    """board.jsonl's bytes (in pieces, to be joined in order) read exactly as `read_package`
    reads the member: the same caps (for `ballots` declared, with or without paper.json), the
    same strict reading of every line. Raises PackageError, with read_package's message.
    `digest`: the bytes' SHA-256, when the caller has taken it already (`PackageBuilder` does)."""
    valid = _valid_definition(definition)
    if valid is None:
        raise PackageError(f"{CYCLE} is not a valid definition")
    pieces = list(pieces)
    size = sum(map(len, pieces))
    line_cap, cap = board_caps(valid, ballots, paper=paper)
    if size > cap:
        raise PackageError(_over_cap(size, cap, ballots, line_cap))
    if digest is None:
        hashed = hashlib.sha256()
        for piece in pieces:
            hashed.update(piece)
        digest = hashed.hexdigest()
    reader = _read_lines(iter(pieces), valid["cycle"]["slug"], ballots, line_cap)
    return BoardReading(digest, canonical_json(valid), ballots, paper, reader.board, reader.report)


def _over_cap(size: int, cap: int, ballots: int, line_cap: int) -> str:
    return (
        f"{BOARD} declares {size} bytes, over its cap of {cap} bytes"
        f" ({ballots} ballots, as result.json states, of at most {line_cap} bytes each)"
    )


def _read_lines(chunks: Iterator[bytes], slug: str, ballots: int, line_cap: int) -> ChainReader:
    """Every line of board.jsonl (given in chunks) read strictly, the chain checked as they are
    read, within the number of ballots declared and the cap per line."""
    reader = ChainReader(slug, _parse_line)
    pending = b""
    number = 0  # lines read so far
    for chunk in chunks:
        *complete, pending = (pending + chunk).split(b"\n")
        # The lines before the first one over a cap are read (and may fail) before it is named.
        stop = None
        if number + len(complete) > ballots:
            stop = ballots - number
            over = PackageError(
                f"{BOARD} has more lines than the {ballots} ballots result.json states"
            )
        if complete and max(map(len, complete)) >= line_cap:
            long = next(i for i, line in enumerate(complete) if len(line) >= line_cap)
            if stop is None or long < stop:
                stop, over = long, PackageError(_too_long(number + long + 1, line_cap))
        if stop is not None:
            reader.read(complete[:stop], number + 1)
            raise over
        reader.read(complete, number + 1)
        number += len(complete)
        if len(pending) >= line_cap:
            raise PackageError(_too_long(number + 1, line_cap))
    if pending:
        raise PackageError(f"{BOARD} must end with a newline")
    reader.finish()
    return reader


def _parse_line(line: bytes, number: int) -> BoardEntry:
    """The reference reading of board.jsonl's line `number`: strict JSON, then the entry's
    keys and types (`BoardEntry.from_dict`), then the line must be the entry's canonical JSON
    byte for byte (docs/tally-format.md, section 4); `board_reader` reads our own lines faster.

    Canonical lines only: what the tally writes, and what lets an auditor compare lines (or
    hash them) without a JSON parser's leniencies (spaces, key order, escapes, CRLF).
    """
    where = f"{BOARD} line {number}"
    try:
        entry = BoardEntry.from_dict(strict_json(line, where))
    except ChainError as e:
        raise PackageError(f"{where}: {e}") from None
    # Section 2: every number is an integer from 0 to 2**63 - 1 (what a 64-bit reader holds).
    numbers = (("seq", (entry.seq,)), ("choices", entry.choices))
    for key, values in (*numbers, ("paper_batch", (entry.paper_batch or 0,))):
        bad = next((n for n in values if not 0 <= n <= MAX_INTEGER), None)
        if bad is not None:
            raise PackageError(
                f"{where}: {key} holds {bad}, not an integer from 0 to {MAX_INTEGER}"
            )
    canonical = entry.line()
    if line != canonical:
        at = next(
            (i for i, (a, b) in enumerate(zip(line, canonical, strict=False)) if a != b),
            min(len(line), len(canonical)),
        )
        raise PackageError(
            f"{where} is not the canonical JSON of its entry (it differs from it at byte {at + 1})"
        )
    return entry


def _too_long(number: int, cap: int) -> str:
    return f"{BOARD} line {number} is longer than any entry of this ballot can be ({cap} bytes)"


def _parse_sums(data: bytes, summed: tuple[str, ...]) -> dict[str, str]:
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
    if list(sums) != list(summed) or len(text.split("\n")) != len(summed) + 1:
        raise PackageError(f"{SUMS} must list exactly {', '.join(summed)}, in that order")
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


def read_package(
    data: bytes, *, keep_board_bytes: bool = True, known_board: KnownBoard | None = None
) -> Package:
    """Parse an untrusted package; raises PackageError naming the first problem (an
    UnreadablePackage, such as NotAZipError, when the file cannot be checked at all).

    Only the form is checked here (members, JSON, entry shapes, SHA256SUMS lines, signature
    encoding, the caps); hashes, signature, chain and result are the verifier's checks.
    `known_board`: board.jsonl may have been read already (see `_read_board`; not with
    `keep_board_bytes`).
    """
    if len(data) > MAX_FILE_BYTES:
        raise UnreadablePackage(f"is larger than any tally package may be ({MAX_FILE_BYTES} bytes)")
    archive, infos = open_archive(data)
    has_paper = PAPER in infos
    with archive:
        files = {name: read_member(archive, infos[name]) for name in infos if name != BOARD}
        definition = strict_json(files[CYCLE], CYCLE)
        result = strict_json(files[RESULT], RESULT)
        paper = strict_json(files[PAPER], PAPER) if has_paper else None
        ballots = _declared_ballots(result)
        board = _read_board(
            archive,
            infos[BOARD],
            _valid_definition(definition),
            ballots,
            keep_board_bytes,
            paper=has_paper,
            known=known_board,
        )
    if board.raw is not None:
        files[BOARD] = board.raw
    summed = summed_members(has_paper)
    digests = {name: hashlib.sha256(files[name]).hexdigest() for name in summed if name != BOARD}
    digests[BOARD] = board.digest
    return Package(
        files=MappingProxyType({name: files[name] for name in WRITE_ORDER if name in files}),
        digests=MappingProxyType({name: digests[name] for name in summed}),
        definition=definition,
        entries=board.entries,
        result=result,
        sums=MappingProxyType(_parse_sums(files[SUMS], summed)),
        signature=_parse_signature(files[SIGNATURE]),
        paper=paper,
        chain=board.chain,
    )


def paper_member(data: bytes) -> Any:
    """paper.json of a package we built (parsed), or None when it has none: for staff screens,
    which show the counts it states without reading the whole board."""
    archive, infos = open_archive(data)
    with archive:
        if PAPER not in infos:
            return None
        return strict_json(read_member(archive, infos[PAPER]), PAPER)
