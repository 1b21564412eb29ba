"""The verifier runs in bounded time and memory on any input (issue 10, point 9).

A zip bomb (a small zip whose board.jsonl inflates to 256 MiB of newlines) is refused from what
the package declares, or at its first line, using little memory (measured in a subprocess);
the board is read line by line within caps derived from result.json's ballots and cycle.json's
proposals; the definition's numbers are bounded; and a self-signed package asking for Equal
Shares completed with a huge budget and an increment of one centavo is verified after a bounded
number of Equal Shares runs (counted, not timed).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opdigital.counting.mes_engine import Run
from opdigital.cycles.budget import MAX_AMOUNT_CENTS
from opdigital.ledger import package, result
from opdigital.ledger.chain import GENESIS_HASH, extend
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

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024**2


def newlines(total: int = 256 * MIB) -> Callable[[], Iterator[bytes]]:
    block = b"\n" * MIB
    return lambda: (block for _ in range(total // MIB))


def zip_with_board(
    files: dict[str, bytes],
    board: Callable[[], Iterator[bytes]],
    key: Ed25519PrivateKey | None = None,
) -> bytes:
    """The package's other members and a board streamed into the zip (never whole in memory);
    with `key`, SHA256SUMS lists the streamed board's hash and is signed (a self-signed forgery:
    only the caps can refuse it)."""
    files = dict(files)
    if key is not None:
        digest = hashlib.sha256()
        for chunk in board():
            digest.update(chunk)
        sums = {name: hashlib.sha256(files[name]).hexdigest() for name in ("cycle.json",)}
        sums |= {"result.json": hashlib.sha256(files["result.json"]).hexdigest()}
        sums |= {"board.jsonl": digest.hexdigest()}
        files["SHA256SUMS"] = "".join(f"{sums[n]}  {n}\n" for n in sorted(sums)).encode()
        files["SHA256SUMS.sig"] = package.signature_file(key, files["SHA256SUMS"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in package.MEMBERS:
            if name == "board.jsonl":
                info = zipfile.ZipInfo(name, date_time=package.ZIP_DATE_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w") as member:
                    for chunk in board():
                        member.write(chunk)
            else:
                archive.writestr(name, files[name])
    return buffer.getvalue()


# The peak resident memory of this process (VmHWM: getrusage's ru_maxrss would include the
# parent's, which a child inherits on Linux), the imports included.
MEASURE = """
import resource, sys
# A safety net for the old code, which took 4.4 GB on this input: fail, do not swap.
resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))
from opdigital.ledger.verify import main
code = main([sys.argv[1]])
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print("peak KiB:", peak)
sys.exit(code)
"""


def verify_measured(tmp_path: Path, data: bytes) -> tuple[int, str, float]:
    """Exit code, output and peak resident memory (MB) of the verifier in its own process."""
    if not Path("/proc/self/status").exists():
        pytest.skip("measures memory through Linux's /proc")
    path = tmp_path / "bomb.zip"
    path.write_bytes(data)
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", MEASURE, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    peak = [line for line in done.stdout.splitlines() if line.startswith("peak KiB:")]
    assert peak, output
    lines = [line for line in done.stdout.splitlines() if not line.startswith("peak KiB:")]
    return done.returncode, "\n".join(lines), int(peak[0].split(":")[1]) / 1024


def test_a_board_inflating_to_256_mib_of_newlines_is_refused_from_its_header(tmp_path):
    data, key = make_package()
    bomb = zip_with_board(unzip(data), newlines(), key)
    assert len(bomb) < 300 * 1024  # the 269 KB zip
    code, output, peak_mb = verify_measured(tmp_path, bomb)
    assert code == 1, output
    cap = failure(output)
    assert cap.startswith("board.jsonl declares 268435456 bytes, over its cap of ")
    assert "(12 ballots, as result.json states, of at most " in cap
    assert peak_mb < 100, f"{peak_mb:.0f} MB"


def test_a_self_signed_bomb_declaring_a_million_ballots_is_refused_at_its_first_line(tmp_path):
    # A million ballots allow ~350 MB of board: the header passes, the first line does not.
    data, key = make_package()
    files = with_result(unzip(data), lambda r: r.update(ballots=1_000_000))
    code, output, peak_mb = verify_measured(tmp_path, zip_with_board(files, newlines(), key))
    assert code == 1, output
    assert failure(output).startswith("board.jsonl line 1 is not valid JSON")
    assert peak_mb < 100, f"{peak_mb:.0f} MB"


def test_a_line_longer_than_any_entry_is_refused_before_it_is_read_whole(verify):
    data, key = make_package()
    files = with_result(unzip(data), lambda r: r.update(ballots=1_000_000))
    spaces = b" " * MIB
    code, output = verify(zip_with_board(files, lambda: (spaces for _ in range(16)), key))
    assert code == 1
    assert re.fullmatch(
        r"board.jsonl line 1 is longer than any entry of this ballot can be \(\d{3} bytes\)",
        failure(output),
    )


def test_a_board_with_more_lines_than_the_ballots_declared_is_refused(verify):
    data, key = make_package()
    files = with_result(unzip(data), lambda r: r.update(ballots=11))
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output) == "board.jsonl has more lines than the 11 ballots result.json states"


@pytest.mark.parametrize(
    ("ballots", "message"),
    [
        ("12", "result.json: ballots must be an integer >= 0 (it bounds how much of board.jsonl"),
        (-1, "result.json: ballots must be an integer >= 0"),
        (10**8, "result.json: ballots is 100000000, over the cap of 10000000"),
    ],
)
def test_the_ballots_result_json_declares_must_be_a_bounded_integer(verify, ballots, message):
    data, key = make_package()
    files = with_result(unzip(data), lambda r: r.update(ballots=ballots))
    code, output = verify(rezip(files, key))
    assert code == 1
    assert failure(output).startswith(message)


def test_entries_after_the_first_break_in_the_chain_are_not_kept(verify):
    # 5,000 copies of entry 1 deflate to almost nothing; only two entries are kept in memory.
    data, key = make_package()
    files = unzip(data)
    line = files["board.jsonl"].split(b"\n")[0] + b"\n"
    files = with_result(files, lambda r: r.update(ballots=5_000))
    forged = rezip(files | {"board.jsonl": line * 5_000}, key)
    assert len(package.read_package(forged).entries) == 2
    code, output = verify(forged)
    assert code == 1
    assert failure(output).startswith("entry 1: found where entry 2 should be")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.update(budget_cents=10**15),
            "cycle.json: budget_cents must be at most 10000000000000",
        ),
        (
            lambda d: d["proposals"][0].update(cost_cents=10**13 + 1),
            r"cycle.json: proposals[0].cost_cents must be at most 10000000000000",
        ),
        (
            lambda d: d["region_budgets_cents"].update({"1": 10**13 + 1}),
            "cycle.json: region_budgets_cents['1'] must be at most 10000000000000",
        ),
        (
            lambda d: d["counting_rule"].update(increment_cents=10**13 + 1),
            "cycle.json: counting_rule.increment_cents must be an integer from 1 to 10000000000000",
        ),
        (
            lambda d: d["proposals"][-1].update(id=2**63),
            "cycle.json: proposals[7].id must be at most 9223372036854775807",
        ),
        (
            lambda d: d["regions"][-1].update(id=2**63),
            "cycle.json: regions[2].id must be at most 9223372036854775807",
        ),
        (
            lambda d: d["proposals"].extend(
                {"id": 100 + n, "code": "", "title": "", "region_id": None, "cost_cents": 1}
                for n in range(10_000)
            ),
            "cycle.json: proposals must have at most 10000 items",
        ),
    ],
)
def test_the_definition_s_numbers_and_lists_are_bounded(verify, change, message):
    data, key = make_package("mes-completed")
    files = unzip(data)
    definition = json.loads(files["cycle.json"])
    change(definition)
    code, output = verify(rezip(files | {"cycle.json": package.human_json(definition)}, key))
    assert code == 1
    assert failure(output) == message


def test_the_money_cap_is_the_app_s():
    assert result.MAX_CENTS == MAX_AMOUNT_CENTS


def huge_budget_definition() -> dict:
    """Equal Shares completed, R$ 100 bilhões, one centavo at a time: proposal 1 (R$ 60 bi)
    has one supporter, proposal 2 (R$ 40 bi) eleven. Each of the 12 voters starts with
    R$ 8.3 bi: 2 is funded, 1 is not but fits what is left, and its supporter affords it only
    with R$ 60 bi: about 5 * 10^12 increments of one centavo."""
    definition = make_definition("mes-completed")
    definition["budget_cents"] = 10**13
    definition["region_budgets_cents"] = {}
    definition["counting_rule"]["increment_cents"] = 1
    definition["proposals"] = [
        {"id": 1, "code": "P-1", "title": "Metrô", "region_id": None, "cost_cents": 6 * 10**12},
        {"id": 2, "code": "P-2", "title": "Ônibus", "region_id": None, "cost_cents": 4 * 10**12},
    ]
    return definition


def test_mes_completed_with_a_huge_budget_and_one_centavo_steps_verifies_in_few_runs(
    verify, monkeypatch
):
    runs = 0
    original = Run.__init__

    def counted(run, *args, **kwargs):
        nonlocal runs
        runs += 1
        if runs > 2_000:  # the old completion ran once per centavo: for ever
            raise RuntimeError("unbounded Equal Shares completion")
        original(run, *args, **kwargs)

    monkeypatch.setattr(Run, "__init__", counted)
    definition = huge_budget_definition()
    ballots = [[1]] + [[2]] * 11
    entries = extend(
        definition["cycle"]["slug"],
        0,
        GENESIS_HASH,
        [(receipt(n), choices) for n, choices in enumerate(ballots, start=1)],
    )
    outcome = make_result(definition, entries)
    assert outcome["selected"] == [2, 1]
    key = Ed25519PrivateKey.generate()
    runs = 0
    code, output = verify(package.build_package(definition, entries, outcome, key))
    assert code == 0, output
    assert "recount with mes-completed equals result.json: 2 selected" in output
    assert runs <= 20  # 2 today (7 before the exact stepping)


def test_a_self_signed_huge_budget_package_is_refused_clearly(verify):
    definition = huge_budget_definition()
    data, key = make_package("mes-completed")
    files = unzip(data)
    definition["budget_cents"] = 10**18
    code, output = verify(rezip(files | {"cycle.json": package.human_json(definition)}, key))
    assert code == 1
    assert failure(output) == "cycle.json: budget_cents must be at most 10000000000000"
