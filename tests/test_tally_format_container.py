"""docs/tally-format.md's rules for the container, the board's lines, the caps, the exit status
and the command line, each held by a crafted package (issue 17, gaps 4, 5, 6, 8, 9 and 13).

Each rule is tried both ways through the auditor's command line (`opdigital.ledger.verify.main`,
the `verify` fixture): a package the page allows verifies (exit status 0), one it refuses fails
with the page's message and exit status. The zips are built byte by byte (`craft_zip`), so a
test can set exactly the header field its rule is about; the same builder with nothing changed
gives a package that verifies, and packages our tally writes (online and paper) meet every rule.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from fractions import Fraction
from math import ceil

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opdigital.counting.mes_engine import Run
from opdigital.ledger import keys, package
from opdigital.ledger.chain import GENESIS_HASH, extend
from opdigital.ledger.verify import (
    FIELD_ORDER,
    CheckFailed,
    Unreadable,
    first_difference,
    main,
    verify_package,
)
from tests.support.ledger import (
    failure,
    make_definition,
    make_package,
    make_result,
    receipt,
    rezip,
    unzip,
    with_result,
)
from tests.test_ledger_paper import paper_package

FILE_CAP = 2 * 1024**3 + 1024**2


# --- a zip built byte by byte ----------------------------------------------------------------


@dataclass
class Member:
    """One member and every header field a rule is about (defaults: what our tally writes)."""

    name: str
    content: bytes
    method: int = 8
    flags: int = 0
    extra: bytes = b""  # central header's extra field
    local_extra: bytes = b""
    comment: bytes = b""
    local_name: bytes | None = None  # the local header's name, when it differs
    local_flags: int | None = None
    local_size: int | None = None  # both 32-bit sizes of the local header, when they differ
    size: int | None = None  # declared uncompressed size, when it lies
    crc: int | None = None
    data: bytes | None = None  # the stored bytes, when not content compressed by `method`
    version: int = 20

    def stored(self) -> bytes:
        if self.data is not None:
            return self.data
        if self.method == 0:
            return self.content
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        return deflate.compress(self.content) + deflate.flush()


@dataclass
class Layout:
    """Bytes around and between the records, and the end record's fields."""

    before: bytes = b""  # prepended, with every offset shifted to match
    between: dict[int, bytes] = field(default_factory=dict)  # before member i's local header
    before_directory: bytes = b""
    after_directory: bytes = b""  # between the directory and the end record
    after: bytes = b""  # after the end record
    comment: bytes = b""
    disk: int = 0
    count: int | None = None
    extra_header: bool = False  # one more central header than the end record counts


def craft_zip(members: list[Member], layout: Layout | None = None) -> bytes:
    layout = layout or Layout()
    out = bytearray(layout.before)
    central = []
    for index, m in enumerate(members):
        out += layout.between.get(index, b"")
        offset = len(out)
        name = m.name.encode("utf-8")
        data = m.stored()
        crc = zlib.crc32(m.content) if m.crc is None else m.crc
        size = len(m.content) if m.size is None else m.size
        local_name = name if m.local_name is None else m.local_name
        flags = m.flags if m.local_flags is None else m.local_flags
        out += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            m.version,
            flags,
            m.method,
            0,
            33,  # 1980-01-01 00:00:00
            crc,
            len(data) if m.local_size is None else m.local_size,
            size if m.local_size is None else m.local_size,
            len(local_name),
            len(m.local_extra),
        )
        out += local_name + m.local_extra + data
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                0x0314,
                m.version,
                m.flags,
                m.method,
                0,
                33,
                crc,
                len(data),
                size,
                len(name),
                len(m.extra),
                len(m.comment),
                0,
                0,
                0o100644 << 16,
                offset,
            )
            + name
            + m.extra
            + m.comment
        )
    out += layout.before_directory
    start = len(out)
    directory = b"".join(central)
    if layout.extra_header:
        directory += central[-1]
    count = len(members) if layout.count is None else layout.count
    out += directory + layout.after_directory
    out += struct.pack(
        "<4s4H2LH",
        b"PK\x05\x06",
        layout.disk,
        0,
        count,
        count,
        len(directory),
        start,
        len(layout.comment),
    )
    return bytes(out) + layout.comment + layout.after


def members_of(data: bytes) -> list[Member]:
    return [Member(name, content) for name, content in unzip(data).items()]


def with_member(members: list[Member], name: str, **changes) -> list[Member]:
    return [replace(m, **changes) if m.name == name else m for m in members]


@pytest.fixture(scope="module")
def signed():
    """A valid package's members, in our order."""
    data, _ = make_package()
    return members_of(data)


def refused(verify, data: bytes, message: str, *args: str) -> None:
    code, output = verify(data, *args)
    assert code == 1, output
    assert failure(output) == message


# --- gap 8: the zip ------------------------------------------------------------------------


def test_the_crafted_zip_of_a_package_verifies_as_built(verify, signed):
    """The builder itself: nothing changed, the package verifies (so every refusal below is
    the one field a test changes)."""
    code, output = verify(craft_zip(signed))
    assert code == 0, output


def test_packages_our_tally_writes_meet_every_rule(verify):
    for data in (make_package()[0], paper_package()[0], make_package("mes-completed")[0]):
        code, output = verify(data)
        assert code == 0, output
        # No comment, no extra field, no data descriptor, nothing before or after: what the
        # page's rules read, record by record.
        assert data.endswith(b"\x00\x00") and data[-22:-18] == b"PK\x05\x06"
        for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
            assert info.extra == b"" and info.comment == b"" and info.flag_bits == 0


def test_members_in_another_order_or_stored_are_accepted(verify, signed):
    assert verify(craft_zip(signed[::-1]))[0] == 0
    assert verify(craft_zip([replace(m, method=0) for m in signed]))[0] == 0
    level_hints_and_utf8 = [replace(m, flags=0x0806) for m in signed]
    assert verify(craft_zip(level_hints_and_utf8))[0] == 0


def test_a_zip_written_by_zipfile_as_a_stream_with_a_data_descriptor_is_refused(verify):
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.buffer = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, data) -> int:
            self.buffer += data
            return len(data)

    out = Unseekable()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in unzip(make_package()[0]).items():
            archive.writestr(zipfile.ZipInfo(name, date_time=package.ZIP_DATE_TIME), content)
    refused(
        verify,
        bytes(out.buffer),
        "cycle.json has a data descriptor (general purpose flag bit 3)",
    )


def test_bytes_before_the_archive_are_refused(verify, signed):
    data = make_package()[0]
    start = zipfile.ZipFile(io.BytesIO(data)).start_dir
    # As a self-extracting stub would: offsets left as they were (zipfile finds the archive
    # anyway, shifting every offset by what it sees before)...
    refused(
        verify,
        b"MZ junk" + data,
        f"zip: the central directory ({len(data) - 22 - start} bytes from byte {start}) does not"
        f" end where the end-of-central-directory record begins (byte {len(data) - 22 + 7})",
    )
    # ... or shifted to match (`zip -A`): the first local header is not at byte 0.
    refused(
        verify,
        craft_zip(signed, Layout(before=b"MZ junk")),
        "zip: cycle.json's local header is at byte 7, not at byte 0 where the archive begins",
    )


def test_bytes_between_members_or_before_the_directory_are_refused(verify, signed):
    data = craft_zip(signed)
    end_of_cycle = zipfile.ZipFile(io.BytesIO(data)).infolist()[1].header_offset
    refused(
        verify,
        craft_zip(signed, Layout(between={1: b"\x00" * 5})),
        f"zip: board.jsonl's local header is at byte {end_of_cycle + 5}, not at byte"
        f" {end_of_cycle} where the member before it ends",
    )
    start = zipfile.ZipFile(io.BytesIO(data)).start_dir
    refused(
        verify,
        craft_zip(signed, Layout(before_directory=b"hidden")),
        f"zip: the central directory begins at byte {start + 6}, not at byte {start}"
        " where the last member ends",
    )
    refused(
        verify,
        craft_zip(signed, Layout(after_directory=b"PK\x06\x06")),
        f"zip: the central directory ({len(data) - 22 - start} bytes from byte {start}) does not"
        f" end where the end-of-central-directory record begins (byte {len(data) - 22 + 4})",
    )


@pytest.mark.parametrize(
    "layout",
    [
        Layout(after=b"\n"),
        Layout(comment=b"signed by the city"),
    ],
    ids=["a newline after", "an archive comment"],
)
def test_bytes_after_the_archive_or_a_comment_make_it_unreadable(verify, signed, layout):
    code, output = verify(craft_zip(signed, layout))
    assert code == 2
    assert "is not a zip archive: its last 22 bytes are not an end-of-central-directory" in output
    assert "FAILED" not in output


def test_what_follows_the_archive_is_judged_by_its_last_22_bytes_only(verify, signed):
    """Bytes after the archive that themselves end with an end record (an empty one here)
    are read as the archive: a zip, so a failed check, exit status 1."""
    data = craft_zip(signed)
    refused(
        verify,
        data + b"PK\x05\x06" + bytes(18),
        "zip: the central directory (0 bytes from byte 0) does not end where the"
        f" end-of-central-directory record begins (byte {len(data)})",
    )


def test_a_local_name_differing_from_the_central_one_is_refused(verify, signed):
    # Some tools take a member's name from its local header, others from the directory: a zip
    # whose two names differ shows two readers two different files.
    for local in (b"cycle.jsoN", b"result.json"[:10]):
        refused(
            verify,
            craft_zip(with_member(signed, "cycle.json", local_name=local)),
            "zip: cycle.json's local header differs from its central directory header",
        )


def test_a_local_header_differing_in_any_other_field_is_refused(verify, signed):
    message = "zip: result.json's local header differs from its central directory header"
    refused(verify, craft_zip(with_member(signed, "result.json", local_flags=2)), message)
    refused(
        verify,
        craft_zip(with_member(signed, "result.json", local_extra=b"UT\x01\x00\x00")),
        message,
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"method": 12}, "board.jsonl uses an unsupported compression method"),
        ({"method": 14}, "board.jsonl uses an unsupported compression method"),
        ({"flags": 0x0001}, "board.jsonl is encrypted"),
        ({"flags": 0x0008}, "board.jsonl has a data descriptor (general purpose flag bit 3)"),
        ({"flags": 0x0040}, "board.jsonl has unsupported general purpose flags 0x0040"),
        ({"flags": 0x2000}, "board.jsonl has unsupported general purpose flags 0x2000"),
        (
            {
                "extra": b"\x01\x00\x10\x00" + bytes(16),
                "local_extra": b"\x01\x00\x10\x00" + bytes(16),
            },
            "board.jsonl has an extra field or a comment in the central directory",
        ),
        (
            {"extra": b"up\x05\x00\x01abcd"},
            "board.jsonl has an extra field or a comment in the central directory",
        ),
        ({"comment": b"x"}, "board.jsonl has an extra field or a comment in the central directory"),
        (
            {"method": 0, "data": b"{}"},
            "board.jsonl is stored, but declares different sizes",
        ),
    ],
    ids=[
        "bzip2",
        "lzma",
        "encrypted",
        "data descriptor",
        "strong encryption flag",
        "masked headers flag",
        "zip64 extra",
        "unicode path extra",
        "member comment",
        "stored sizes",
    ],
)
def test_each_member_header_rule(verify, signed, changes, message):
    refused(verify, craft_zip(with_member(signed, "board.jsonl", **changes)), message)


def _zipfile_package(board: dict) -> bytes:
    """The package's members written by Python's zipfile, board.jsonl with `board`'s options."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in unzip(make_package()[0]).items():
            info = zipfile.ZipInfo(name, date_time=package.ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name == "board.jsonl" and "compress_type" in board:
                info.compress_type = board["compress_type"]
            archive.writestr(info, content)
    return buffer.getvalue()


def test_zipfile_s_bzip2_member_is_refused(verify):
    refused(
        verify,
        _zipfile_package({"compress_type": zipfile.ZIP_BZIP2}),
        "board.jsonl uses an unsupported compression method",
    )


def test_a_zip64_local_header_as_our_writer_makes_for_a_huge_board_is_accepted(
    verify, signed, monkeypatch
):
    """Our writer gives a member that may pass 2**31 - 1 bytes (a board over about 1.9 GiB,
    under the 2 GiB cap) zip64 sizes in its local header only: the one extra field the page
    allows, with 0xFFFFFFFF in the 32-bit sizes and version 4.5 (APPNOTE.TXT 4.5.3), on every
    Python 3.11: before 3.11.4 (Debian 12's 3.11.2) zipfile wrote the real sizes there, which
    the writer corrects. Forced here on a small board: the same bytes' layout."""
    monkeypatch.setattr(package, "_needs_zip64", lambda size: size > 1000)
    files = unzip(make_package()[0])
    assert len(files["board.jsonl"]) > 1000 > len(files["SHA256SUMS"])
    data = package.zip_members(list(files.items()))
    board = next(
        i for i in zipfile.ZipFile(io.BytesIO(data)).infolist() if i.filename == "board.jsonl"
    )
    local = struct.unpack("<4s5H3L2H", data[board.header_offset : board.header_offset + 30])
    assert local[1] == 45 and local[7:] == (0xFFFFFFFF, 0xFFFFFFFF, 11, 20)
    assert (board.create_version, board.extract_version) == (45, 45)  # the central header's
    assert zipfile.ZipFile(io.BytesIO(data)).read("board.jsonl") == files["board.jsonl"]
    code, output = verify(data)
    assert code == 0, output
    # A member under the threshold keeps the plain header: version 2.0, no extra field.
    sums = zipfile.ZipFile(io.BytesIO(data)).getinfo("SHA256SUMS")
    local = struct.unpack("<4s5H3L2H", data[sums.header_offset : sums.header_offset + 30])
    assert (local[1], local[-1]) == (20, 0)
    # The same field with a size that is not the central header's, or another field, is not.
    content = next(m.content for m in signed if m.name == "board.jsonl")
    for extra in (
        struct.pack("<HHQQ", 1, 16, len(content) + 1, 0),
        struct.pack("<HHQQ", 0x5455, 16, len(content), 0),
    ):
        member = Member("board.jsonl", content)
        deflated = len(member.stored())
        extra = extra[:12] + struct.pack("<Q", deflated)
        crafted = with_member(
            signed, "board.jsonl", local_extra=extra, local_size=0xFFFFFFFF, version=45
        )
        refused(
            verify,
            craft_zip(crafted),
            "zip: board.jsonl's local header differs from its central directory header",
        )
    good = struct.pack("<HHQQ", 1, 16, len(content), len(Member("board.jsonl", content).stored()))
    crafted = with_member(signed, "board.jsonl", local_extra=good, local_size=0xFFFFFFFF)
    assert verify(craft_zip(crafted))[0] == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda ms: ms + [Member("board.jsonl", b"")], "member board.jsonl appears more than once"),
        (lambda ms: ms + [Member("docs/", b"")], "unexpected member 'docs/'"),
        (lambda ms: ms + [Member("../cycle.json", b"")], "unexpected member '../cycle.json'"),
        (lambda ms: ms + [Member("Cycle.json", b"")], "unexpected member 'Cycle.json'"),
        (lambda ms: [m for m in ms if m.name != "SHA256SUMS"], "missing member SHA256SUMS"),
    ],
    ids=["duplicate", "directory", "dot-dot", "case", "missing"],
)
def test_member_names(verify, signed, change, message):
    refused(verify, craft_zip(change(list(signed))), message)


def test_the_end_record_and_the_central_directory_must_add_up(verify, signed):
    refused(
        verify,
        craft_zip(signed, Layout(disk=1)),
        "zip: the end-of-central-directory record is not a single disk's",
    )
    refused(
        verify,
        craft_zip(signed, Layout(extra_header=True, count=5)),
        "zip: the central directory holds more than the 5 headers its end record counts",
    )
    data = bytearray(craft_zip(signed))
    second = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4)
    data[second : second + 4] = b"PK\x01\x03"
    refused(verify, bytes(data), "zip: central directory header 2 is malformed")


def test_a_wrong_crc_or_a_lying_size_fails_as_the_member_is_read(verify, signed):
    code, output = verify(craft_zip(with_member(signed, "result.json", crc=1)))
    assert code == 1 and failure(output).startswith("result.json cannot be read: Bad CRC-32")
    content = next(m.content for m in signed if m.name == "result.json")
    lying = with_member(signed, "result.json", size=len(content) + 10)
    refused(verify, craft_zip(lying), "result.json is not the size its header declares")


# --- gap 9: exit status 2 or 1 --------------------------------------------------------------


@pytest.mark.parametrize("keep", [0, 1, 21, 100, 1500, -23, -22, -1])
def test_a_truncated_package_is_unreadable_exit_2(verify, keep):
    data = make_package()[0]
    cut = data[:keep] if keep >= 0 else data[: len(data) + keep]
    code, output = verify(cut)
    assert code == 2, output
    assert output.startswith("error: ") and " is not a zip archive: its last 22 bytes" in output


def test_a_file_over_the_file_cap_is_not_read(tmp_path, capsys):
    path = tmp_path / "huge.zip"
    with path.open("wb") as out:
        out.truncate(FILE_CAP + 1)  # sparse: nothing is written, nor read
    assert main([str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path} is larger than any tally package may be ({FILE_CAP} bytes)\n"
    )

    class Huge(bytes):
        def __len__(self) -> int:
            return FILE_CAP + 1

    with pytest.raises(package.UnreadablePackage, match=r"^is larger than any tally package"):
        package.read_package(Huge(b""))


def test_an_unreadable_file_is_a_failed_check_for_callers_of_verify_package():
    """The tally's own check before keeping a package catches CheckFailed: an unreadable file
    is one (Unreadable), though the command line gives it exit status 2."""
    with pytest.raises(Unreadable) as raised:
        verify_package(make_package()[0][:-1])
    assert isinstance(raised.value, CheckFailed)
    assert str(raised.value).startswith("the package is not a zip archive: its last 22 bytes")


def test_a_damaged_zip_that_ends_with_its_end_record_is_a_failed_check(verify, signed):
    data = bytearray(craft_zip(signed))
    data[100:110] = b"\xff" * 10  # inside cycle.json's deflated data
    code, output = verify(bytes(data))
    assert code == 1 and failure(output).startswith("cycle.json cannot be read")


# --- gap 4: board lines ----------------------------------------------------------------------


def _board(files: dict[str, bytes]) -> list[bytes]:
    return files["board.jsonl"].splitlines()


@pytest.mark.parametrize(
    ("rewrite", "byte"),
    [
        (lambda line: line.replace(b'":', b'": ', 1), 12),
        (lambda line: line + b"\r", len(_board(unzip(make_package()[0]))[1]) + 1),
        (
            lambda line: json.dumps(
                dict(reversed(json.loads(line).items())), separators=(",", ":")
            ).encode(),
            3,
        ),
        (lambda line: line.replace(b'"receipt_hash"', b'"receipt\\u005fhash"'), None),
    ],
    ids=["space", "CRLF", "key order", "escape"],
)
def test_a_line_that_is_not_canonical_is_refused_naming_it(verify, rewrite, byte):
    data, key = make_package()
    files = unzip(data)
    lines = _board(files)
    lines[1] = rewrite(lines[1])
    files["board.jsonl"] = b"".join(line + b"\n" for line in lines)
    code, output = verify(rezip(files, key))
    assert code == 1
    message = failure(output)
    assert message.startswith("board.jsonl line 2 is not the canonical JSON of its entry")
    if byte is not None:
        assert message.endswith(f"(it differs from it at byte {byte})")


def test_a_board_in_crlf_or_without_its_last_newline_is_refused(verify):
    data, key = make_package()
    files = unzip(data)
    crlf = files["board.jsonl"].replace(b"\n", b"\r\n")
    code, output = verify(rezip(files | {"board.jsonl": crlf}, key))
    assert code == 1 and failure(output).startswith("board.jsonl line 1 is not the canonical")
    code, output = verify(rezip(files | {"board.jsonl": files["board.jsonl"][:-1]}, key))
    assert code == 1 and failure(output) == "board.jsonl must end with a newline"


def test_canonical_lines_with_wrong_values_fail_the_chain_not_the_form(verify):
    """Uppercase hex and repeated choices are canonical JSON: the chain check names them."""
    data, key = make_package()
    files = unzip(data)
    lines = _board(files)
    entry = json.loads(lines[0])
    lines[0] = lines[0].replace(
        entry["receipt_hash"].encode(), entry["receipt_hash"].upper().encode()
    )
    files["board.jsonl"] = b"".join(line + b"\n" for line in lines)
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output) == "entry 1: receipt_hash is not 64 lowercase hex digits"


def test_a_self_signed_non_canonical_board_with_rehashed_entries_is_still_refused(verify):
    """Even with every entry hash right for its values, a line in another form is refused."""
    definition = make_definition()
    entries = extend(definition["cycle"]["slug"], 0, GENESIS_HASH, [(receipt(1), [10, 20])])
    data, key = make_package(ballots=[[10, 20]])
    files = unzip(data)
    spaced = json.dumps(entries[0].as_dict(), sort_keys=True).encode() + b"\n"
    code, output = verify(rezip(files | {"board.jsonl": spaced}, key))
    assert code == 1
    assert failure(output) == (
        "board.jsonl line 1 is not the canonical JSON of its entry (it differs from it at byte 12)"
    )
    canonical = entries[0].line() + b"\n"
    assert verify(rezip(files | {"board.jsonl": canonical}, key))[0] == 0


# --- gap 6: caps ------------------------------------------------------------------------------


def test_the_line_cap_is_the_documented_formula():
    definition = make_definition()  # 8 proposals, ids of 2 digits
    assert package.board_caps(definition, 12) == (353, 12 * 353)
    assert package.board_caps(definition, 12, paper=True) == (387, 12 * 387)
    assert package.board_caps(definition, 0)[0] == 263 + 1 + 8 * 3 + 64
    assert package.board_caps(definition, 10_000_000)[0] == 263 + 8 + 8 * 3 + 64


def test_a_line_of_l_bytes_is_read_and_one_of_l_plus_1_is_refused(verify):
    data, key = make_package()
    files = unzip(data)
    lines = files["board.jsonl"].splitlines(keepends=True)
    for length, message in (
        (353, "board.jsonl line 2 is not valid JSON"),
        (354, "board.jsonl line 2 is longer than any entry of this ballot can be (353 bytes)"),
    ):
        lines[1] = b"x" * (length - 1) + b"\n"  # `length` bytes, newline included
        code, output = verify(rezip(files | {"board.jsonl": b"".join(lines)}, key))
        assert code == 1 and failure(output).startswith(message)


def test_board_jsonl_is_not_under_the_16_mib_cap_of_the_other_json_files(verify):
    """70,000 ballots make a board of more than 16 MiB: it verifies; cycle.json may not be
    that large."""
    ballots = [[10 + n % 3, 20, 30 + n % 2] for n in range(70_000)]
    data, _ = make_package(ballots=ballots)
    board = unzip(data)["board.jsonl"]
    assert len(board) > package.MAX_MEMBER_BYTES["cycle.json"] == 16 * 1024**2
    code, output = verify(data)
    assert code == 0, output[-500:]


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        (
            "cycle.json",
            16 * 1024**2 + 1,
            f"cycle.json declares {16 * 1024**2 + 1} bytes, over its cap",
        ),
        (
            "result.json",
            16 * 1024**2 + 1,
            f"result.json declares {16 * 1024**2 + 1} bytes, over its cap",
        ),
        ("SHA256SUMS", 64 * 1024 + 1, f"SHA256SUMS declares {64 * 1024 + 1} bytes, over its cap"),
        (
            "SHA256SUMS.sig",
            64 * 1024 + 1,
            f"SHA256SUMS.sig declares {64 * 1024 + 1} bytes, over its cap",
        ),
        (
            "board.jsonl",
            2 * 1024**3 + 1,
            f"members declare {2 * 1024**3 + 1 + 4000} bytes in all, over the cap",
        ),
    ],
)
def test_declared_sizes_over_their_caps_are_refused_before_anything_is_inflated(
    verify, signed, name, size, message
):
    members = with_member(signed, name, size=size)
    if name == "board.jsonl":  # the others' sizes, made round so the total is known
        members = [m if m.name == name else replace(m, size=1000) for m in members]
    refused(verify, craft_zip(members), message)


def test_declared_sizes_at_their_caps_pass_the_header_checks(verify, signed):
    # At the cap exactly, the header is accepted; reading then finds the member shorter.
    members = with_member(signed, "cycle.json", size=16 * 1024**2)
    refused(verify, craft_zip(members), "cycle.json is not the size its header declares")


def test_the_ballots_result_json_declares_are_capped(verify):
    data, key = make_package()
    files = with_result(unzip(data), lambda r: r.update(ballots=10_000_001))
    refused(verify, rezip(files, key), "result.json: ballots is 10000001, over the cap of 10000000")


# --- gap 5: Equal Shares completed with R$ 1 steps -------------------------------------------


def test_mes_completed_with_r_1_steps_runs_far_fewer_times_than_the_literal_bound(
    verify, monkeypatch
):
    """A small vote with a large budget (the page's example): the literal loop's bound
    ceil((T - B/n) / i) + 1 is in the hundreds of thousands; the reference verifier runs Equal
    Shares a handful of times, never past the budget where the literal loop stops at the
    latest."""
    import random

    rng = random.Random(1)
    definition = make_definition("mes-completed")
    definition["region_budgets_cents"] = {}
    definition["proposals"] = [
        {"id": i, "code": f"P-{i}", "title": "Obra", "region_id": None,
         "cost_cents": rng.randrange(50_000, 2_000_000) * 100}
        for i in range(1, 13)
    ]  # fmt: skip
    total = sum(p["cost_cents"] for p in definition["proposals"])
    definition["budget_cents"] = total // 3
    ballots = [sorted(rng.sample(range(1, 13), rng.randint(1, 4))) for _ in range(20)]
    slug = definition["cycle"]["slug"]
    entries = extend(slug, 0, GENESIS_HASH, [(receipt(n), b) for n, b in enumerate(ballots, 1)])
    result = make_result(definition, entries)
    supported = sum(
        p["cost_cents"] for p in definition["proposals"] if any(p["id"] in b for b in ballots)
    )
    start = Fraction(definition["budget_cents"], len(ballots))
    literal = ceil(max(0, supported - start) / 100) + 1
    assert literal > 100_000
    budgets = []
    original = Run.__init__

    def counted(run, prep, budget, *args, **kwargs):
        budgets.append(budget)
        original(run, prep, budget, *args, **kwargs)

    monkeypatch.setattr(Run, "__init__", counted)
    data = package.build_package(definition, entries, result, Ed25519PrivateKey.generate())
    budgets.clear()
    code, output = verify(data)
    assert code == 0, output
    assert 0 < len(budgets) <= 50
    assert all((b - start) % 100 == 0 and b <= start + (literal - 1) * 100 for b in budgets)


# --- gap 13: the first difference, hex case, --public-key -------------------------------------


def test_result_fields_are_compared_in_the_documented_order_whatever_the_files_order(verify):
    """counting_rule's fields in the page's order (name first), though cycle.json, parsed in
    file order, lists increment_cents first."""
    data, key = make_package()
    files = with_result(
        unzip(data), lambda r: r["counting_rule"].update(name="mes", increment_cents=5)
    )
    refused(
        verify,
        rezip(files, key),
        'result.json: counting_rule.name is "mes", the recount gives "greedy"',
    )
    files = with_result(
        unzip(data), lambda r: r["by_region"][1].update(allocated_cents=1, budget_cents=2)
    )
    refused(
        verify,
        rezip(files, key),
        "result.json: by_region[region 1].budget_cents is 2, the recount gives 50000",
    )


def test_votes_come_before_selected_and_missing_before_extra(verify):
    data, key = make_package()

    def change(r):
        r["selected"].reverse()
        r["allocated_cents"] += 1
        r["votes"][7]["votes"] += 1

    refused(
        verify,
        rezip(with_result(unzip(data), change), key),
        "result.json: votes[proposal 40].votes is 3, the recount gives 2",
    )

    def shuffle(r):
        r.pop("by_region")
        r["zeta"] = r["alpha"] = 1

    refused(
        verify, rezip(with_result(unzip(data), shuffle), key), "result.json: by_region is missing"
    )
    refused(
        verify,
        rezip(with_result(unzip(data), lambda r: r.update(zeta=1, alpha=1)), key),
        "result.json: alpha is not a result field",
    )


def test_first_difference_on_values_arrays_and_labels():
    recount = {
        "ballots": 1,
        "votes": [{"proposal_id": 3, "votes": 1}],
        "by_region": [{"region_id": None, "selected": [3]}],
        "selected": [3, 4],
    }
    assert first_difference(recount, {**recount, "votes": [5]}) == (
        'votes[proposal 3] is 5, the recount gives {"proposal_id": 3, "votes": 1}'
    )
    assert first_difference(recount, {**recount, "selected": [4]}) == (
        "selected[0] is 4, the recount gives 3"
    )
    assert first_difference(recount, {**recount, "selected": [3]}) == (
        "selected has 1 items, the recount 2"
    )
    changed = {**recount, "by_region": [{"region_id": None, "selected": [3, 9]}], "ballots": True}
    assert first_difference(recount, changed) == "ballots is true, the recount gives 1"
    assert first_difference(recount, {**changed, "ballots": 1}) == (
        "by_region[city-wide].selected has 2 items, the recount 1"
    )
    assert list(FIELD_ORDER[""])[:4] == ["ballots", "participation", "board_head", "votes"]


def test_hex_on_the_command_line_is_taken_in_either_case(verify):
    data, key = make_package()
    fingerprint = keys.fingerprint(keys.public_key_raw(key))
    head = json.loads(unzip(data)["result.json"])["board_head"]
    for given in (fingerprint.upper(), f"  {fingerprint[:30].upper()}{fingerprint[30:]}\n"):
        code, output = verify(data, "--public-key", given)
        assert code == 0, output
        assert "the embedded key, whose fingerprint is the one you gave" in output
    for value in (f"{head['seq']}:{head['hash'].upper()}", f"0012:{head['hash']}", f"0:{'0' * 64}"):
        code, output = verify(data, "--head", value)
        assert code == 0, (value, output)


@pytest.mark.parametrize(
    "value",
    [
        "12 :" + "a" * 64,
        "12: " + "a" * 64,
        "١٢:" + "a" * 64,  # Arabic-Indic digits are digits, not ASCII ones
        "12:" + "a" * 63,
        "12:" + "ａ" * 64,  # fullwidth letters lowercase to themselves, not to hex
        "-1:" + "a" * 64,
        "12",
    ],
)
def test_a_malformed_head_exits_2(verify, value):
    data, _ = make_package()
    code, output = verify(data, f"--head={value}")  # "-1:..." would read as an option
    assert code == 2
    assert (
        output
        == f"error: --head {value!r}: expected SEQ:HASH (an entry number and 64 hex digits)\n"
    )


def test_public_key_readings_in_the_documented_order(verify, tmp_path, monkeypatch):
    data, key = make_package()
    raw = keys.public_key_raw(key)
    b64 = base64.b64encode(raw).decode()
    pem = keys.public_key_pem(key)
    fingerprint = keys.fingerprint(raw)
    # 3 and 4: PEM text and base64, with ASCII whitespace around.
    for given in (pem, f"\t{b64} \n"):
        code, output = verify(data, "--public-key", given)
        assert code == 0 and "(the key you gave)" in output, output
    # 1: a file, PEM or base64.
    for name, content in (("key.pem", pem), ("key.b64", b64 + "\n")):
        (tmp_path / name).write_text(content)
        code, output = verify(data, "--public-key", str(tmp_path / name))
        assert code == 0 and "(the key you gave)" in output, output
    # 1 before 2: a file named like a fingerprint is read as a file.
    other = keys.fingerprint(keys.public_key_raw(Ed25519PrivateKey.generate()))
    code, output = verify(data, "--public-key", other)
    assert code == 1
    assert (
        failure(output)
        == f"the package is signed by key {fingerprint}, not by the expected key {other}"
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / other).write_text(b64)
    code, output = verify(data, "--public-key", other)
    assert code == 0 and "(the key you gave)" in output, output
    # A directory is not a file: the name is read as the fingerprint it looks like.
    (tmp_path / other).unlink()
    (tmp_path / other).mkdir()
    assert verify(data, "--public-key", other)[0] == 1


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("a" * 63, "not base64 of a raw Ed25519 public key, nor PEM"),
        ("a" * 32 + " " + "a" * 32, "not base64 of a raw Ed25519 public key, nor PEM"),
        (base64.b64encode(b"\xff" * 48).decode(), "a raw Ed25519 public key has 32 bytes, not 48"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM public key"),
    ],
)
def test_a_key_that_fails_its_reading_exits_2(verify, given, message):
    data, _ = make_package()
    code, output = verify(data, "--public-key", given)
    assert code == 2
    assert output == f"error: {message}\n"


def test_64_hex_digits_are_a_fingerprint_even_where_they_are_also_base64(verify):
    """Base64 of 48 zero bytes is 64 "A"s, also 64 hex digits: test 2 comes first, so it is
    taken as a fingerprint (which does not match), not refused as a key of 48 bytes."""
    data, key = make_package()
    given = base64.b64encode(bytes(48)).decode()
    code, output = verify(data, "--public-key", given)
    assert code == 1
    assert failure(output).endswith(f"not by the expected key {given.lower()}")


def test_a_fingerprint_is_never_base64_of_a_key():
    # Why tests 2 and 4 of --public-key cannot both apply: base64 of 32 bytes is 44 characters,
    # a fingerprint 64.
    assert {len(base64.b64encode(bytes(n))) for n in range(32, 33)} == {44}
    assert len(keys.fingerprint(bytes(32))) == 64
