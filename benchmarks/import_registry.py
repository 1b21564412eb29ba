"""Import benchmark: N valid electoral-roll rows into a throw-away PostgreSQL database.

    .venv/bin/python -m benchmarks.import_registry [--rows 2000000] [--repeat 1]

Creates a database on the server of DATABASE_URL (default postgresql://root@127.0.0.1:5432/test),
migrates it, adds the nine regions, writes a temporary CSV of valid títulos, imports it twice
(the second run must find every row unchanged), prints rows, seconds and rows/s and where the
time went, and drops the database. Target (issue 16): two million rows in under 20 s.

Where the time goes: "reading" is this process reading, checking and keying the rows (one
core; not counting the time it waited for the database to take a part); "after reading" is how
long the import still took once the last row was read (the database finishing its parts); the
CPU seconds are this process's (reading, keying, sorting and formatting the COPY text) and its
PostgreSQL backend's (COPY, merge, heap and index inserts, foreign-key checks), read from /proc:
steadier than wall-clock seconds on a shared machine. `--repeat` runs both imports again, each
time on a new database.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
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
    parser.add_argument(
        "--repeat", type=int, default=1, help="times to run both imports, each on a new database"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roll.csv"
        started = time.perf_counter()
        write_roll(path, args.rows)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
        for _ in range(args.repeat):
            with scratch_database() as url:
                if _run(url, path):
                    return 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:,.0f} MB", flush=True)
    return 0


def _run(url: str, path: Path) -> int:
    import sqlalchemy as sa

    from opdigital.extensions import db
    from opdigital.registry.services import import_registry

    app = migrated_app(url)
    with app.app_context():
        for label in ("first import", "re-import"):
            # The import runs in this session's transaction, hence on this backend.
            backend = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            cpu_before = _cpu_seconds(backend), _own_cpu_seconds()
            started = time.perf_counter()
            report = import_registry(path, city=True)
            seconds = time.perf_counter() - started
            database_cpu = _cpu_seconds(backend) - cpu_before[0]
            own_cpu = _own_cpu_seconds() - cpu_before[1]
            timing = report.seconds
            print(
                f"{label}: {report.rows:,} rows in {seconds:.1f} s = {report.rows / seconds:,.0f}"
                f" rows/s (inserted {report.inserted:,}, updated {report.updated:,},"
                f" unchanged {report.unchanged:,}, rejected {len(report.rejected):,});"
                f" reading {timing['reading']:.1f} s, after reading {timing['after_reading']:.1f}"
                f" s; CPU: Python {own_cpu:.1f} s, PostgreSQL {database_cpu:.1f} s",
                flush=True,
            )
            if report.rejected:
                return 1
        db.session.remove()
        db.engine.dispose()
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a local process (the PostgreSQL backend), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.exit(main())
