"""Tally package benchmark: build, sign and verify the package of a large vote (pure, no DB).

    .venv/bin/python -m benchmarks.tally_package [--ballots 1000000] [--rule mes-completed]
        [--keep FILE] [--repeat N]
    .venv/bin/python -m benchmarks.tally_package --package FILE [--repeat N]

Chains N seeded ballots over 50 city-wide projects and 9 regions into a board, computes the
result, builds and signs the package (what `opdigital tally` does after reading the board), then
runs the verifier as a separate process (`python -m opdigital.ledger.verify --quiet`, what an
auditor runs). Prints each step's wall-clock time, the package size, and the verifier's wall
time, CPU time and peak memory (the largest process's maximum resident set size, and the peak of
its processes' together: it recounts in a forked child, see `benchmarks/measure.py`). `--keep`
writes the package to FILE; `--package` verifies an existing package only (no build), so the
verifier can be measured again and again (`--repeat`) on the same bytes.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opdigital.ledger import chain, result
from opdigital.ledger.package import build_package

PROJECTS = 50


def definition(rule: str) -> dict:
    rng = random.Random(7)  # noqa: S311 - benchmark data
    regions = [{"id": i, "slug": f"regiao-{i}", "name": f"Região {i}"} for i in range(1, 10)]
    proposals = [
        {
            "id": n,
            "code": f"P{n:03d}",
            "title": f"Obra {n}",
            "region_id": None,
            "cost_cents": rng.randrange(50_000_00, 5_000_000_00, 100),
        }
        for n in range(1, PROJECTS + 1)
    ]
    return {
        "format": result.FORMAT,
        "cycle": {"slug": "bench", "title": "Benchmark", "kind": "op-digital", "edition": 2026},
        "regions": regions,
        "budget_cents": sum(p["cost_cents"] for p in proposals) // 3,
        "region_budgets_cents": {},
        "proposals": proposals,
        "ballot_rule": {"name": "approval", "params": {"min_choices": 1, "max_choices": 8}},
        "counting_rule": {"name": rule, "per_region": False, "increment_cents": 100},
        "tie_break": result.TIE_BREAK,
        "voting": {
            "opens_at": "2026-11-01T03:00:00+00:00",
            "closes_at": "2026-12-12T03:00:00+00:00",
        },
    }


def ballots(count: int) -> list[tuple[str, list[int]]]:
    rng = random.Random(2026)  # noqa: S311 - benchmark data
    weights = [1 / (rank + 1) for rank in range(PROJECTS)]
    ids = list(range(1, PROJECTS + 1))
    items = []
    for n in range(count):
        chosen = sorted(set(rng.choices(ids, weights, k=rng.randint(1, 8))))
        items.append((f"{n:064x}", chosen))
    return items


# The verifier is started from this small process (see its docstring for why and what it reports).
MEASURE = str(Path(__file__).with_name("measure.py"))


def verify(path: Path) -> tuple[float, float, int, int, int]:
    """Run the auditor's verifier on `path` as its own process: (wall seconds, CPU seconds, exit
    code, peak RSS of its largest process and of its processes together, in bytes)."""
    command = [sys.executable, "-m", "opdigital.ledger.verify", str(path), "--quiet"]
    measured = subprocess.run(  # noqa: S603
        [sys.executable, MEASURE, *command], capture_output=True, text=True
    )
    *output, last = measured.stdout.splitlines() or [""]
    if measured.returncode or measured.stderr:
        print("\n".join(output) + measured.stderr)
    seconds, cpu, peak, together = last.split()
    return float(seconds), float(cpu), measured.returncode, int(peak), int(together)


def report_verify(path: Path, repeat: int) -> int:
    code = 0
    for _ in range(repeat):
        seconds, cpu, code, peak, together = verify(path)
        print(
            f"verify (separate process) {seconds:.1f} s (CPU {cpu:.1f} s), peak RSS"
            f" {peak / 1e6:.0f} MB (its processes together {together / 1e6:.0f} MB), exit {code}"
        )
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--rule", default="mes-completed")
    parser.add_argument("--keep", type=Path, metavar="FILE", help="write the package here")
    parser.add_argument("--package", type=Path, metavar="FILE", help="only verify this package")
    parser.add_argument("--repeat", type=int, default=1, help="verify this many times")
    args = parser.parse_args()
    if args.package:
        return report_verify(args.package, args.repeat)
    spec, items = definition(args.rule), ballots(args.ballots)
    started = time.perf_counter()
    entries = chain.extend("bench", 0, chain.GENESIS_HASH, items)
    chained = time.perf_counter()
    outcome = result.compute_result(
        spec,
        [e.choices for e in entries],
        participation=len(entries),
        head=(entries[-1].seq, entries[-1].entry_hash),
    )
    counted = time.perf_counter()
    package = build_package(spec, entries, outcome, Ed25519PrivateKey.generate())
    built = time.perf_counter()
    print(
        f"{args.ballots:,} ballots, rule {args.rule}: chain {chained - started:.1f} s, "
        f"count {counted - chained:.1f} s, zip + sign {built - counted:.1f} s "
        f"({len(package) / 1e6:.0f} MB)"
    )
    if args.keep:
        args.keep.write_bytes(package)
        return report_verify(args.keep, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tally.zip"
        path.write_bytes(package)
        return report_verify(path, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
