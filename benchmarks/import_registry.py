"""Import benchmark: N valid electoral-roll rows into a throw-away PostgreSQL database.

    .venv/bin/python -m benchmarks.import_registry [--rows 2000000]

Creates a database on the server of DATABASE_URL (default postgresql://root@127.0.0.1:5432/test),
migrates it, adds the nine regions, writes a temporary CSV of valid títulos, imports it twice
(the second run must find every row unchanged), prints rows, seconds and rows/s, and drops the
database. Target (issue 3): two million rows in under 60 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.common import REGIONS, migrated_app, scratch_database
from opdigital.registry.titulo import check_suffix


def write_roll(path: Path, rows: int, seed: int = 2026) -> None:
    """A CSV of `rows` distinct valid títulos (sequential part = row number), some formatted."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    first = date(1930, 1, 1)
    births = [(first + timedelta(days=d)).isoformat() for d in range(0, 365 * 78, 1)]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("titulo,birth_date,region\n")
        out = []
        for i in range(rows):
            sequential = f"{i:08d}"
            state = "02" if i % 5 else f"{rng.randint(1, 28):02d}"  # mostly MG, as in BH
            number = sequential + state + check_suffix(sequential, state)
            if i % 10 == 0:  # as typed by people: "1234 5678 0201"
                number = f"{number[:4]} {number[4:8]} {number[8:]}"
            out.append(f"{number},{rng.choice(births)},{rng.choice(REGIONS)}\n")
            if len(out) == 50_000:
                f.write("".join(out))
                out.clear()
        f.write("".join(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    with scratch_database() as url:
        return _run(url, args.rows)


def _run(url: str, rows: int) -> int:
    from opdigital.extensions import db
    from opdigital.registry.services import import_registry

    app = migrated_app(url)
    with tempfile.TemporaryDirectory() as tmp, app.app_context():
        path = Path(tmp) / "roll.csv"
        started = time.perf_counter()
        write_roll(path, rows)
        print(f"generated {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)

        for label in ("first import", "re-import"):
            started = time.perf_counter()
            report = import_registry(path, city=True)
            seconds = time.perf_counter() - started
            print(
                f"{label}: {report.rows:,} rows in {seconds:.1f} s = {report.rows / seconds:,.0f}"
                f" rows/s (inserted {report.inserted:,}, updated {report.updated:,},"
                f" unchanged {report.unchanged:,}, rejected {len(report.rejected):,})",
                flush=True,
            )
            if report.rejected:
                return 1
        db.session.remove()
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
