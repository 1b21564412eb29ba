"""Tally benchmark on a real database: `opdigital tally` of a closed cycle of N ballots.

    .venv/bin/python -m benchmarks.tally_cycle [--ballots 1000000] [--rule mes-completed]
        [--repeat N] [--database NAME]

Prepares a closed cycle on PostgreSQL ($DATABASE_URL's server): the 50 works and the seeded
ballots of `benchmarks.tally_package` (the same vote, so the two benchmarks' counts agree), the
ballots chained onto its sealed board and one participation per ballot, all loaded with COPY.
Then runs the operator's command, `opdigital tally SLUG --out FILE`, as its own process, and
prints its wall time, CPU time and peak memory with the steps the command reports (reading the
board, counting, the package, the verifier, storing). Between repeats the cycle is put back to
"closed" (package deleted, proposals unmarked), so every run counts from the board.

`--database NAME` keeps the prepared database (created when missing, reused when it holds the
same vote), so repeated runs skip the preparation; without it a scratch database is dropped at
the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from benchmarks.common import app_on, migrated_app, scratch_database
from benchmarks.tally_package import MEASURE, ballots, definition
from opdigital.ledger import chain

SLUG = "tally-bench"


def _server_url() -> object:
    return make_url(
        os.environ.get("DATABASE_URL", "postgresql://root@127.0.0.1:5432/test").replace(
            "postgres://", "postgresql://", 1
        )
    ).set(drivername="postgresql")


@contextlib.contextmanager
def named_database(name: str):
    """A database kept between runs: created (and migrated) when missing."""
    server = _server_url()
    admin = server.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name, drivername="postgresql+psycopg")
    yield url.render_as_string(hide_password=False), not exists


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def prepare(url: str, count: int, rule: str) -> None:
    """The closed cycle with its works, its sealed board and its participations."""
    migrated_app(url)  # migrations and the nine regions
    spec = definition(rule)
    started = time.perf_counter()
    entries = chain.extend(SLUG, 0, chain.GENESIS_HASH, ballots(count))
    opens = datetime(2026, 11, 1, 3, tzinfo=UTC)
    cycle_id = _cycle_with_works(url, spec, rule, opens)
    with psycopg.connect(_plain(url)) as conn:
        with conn.cursor().copy(
            "COPY board_entry (cycle_id, seq, receipt_hash, choices, prev_hash, entry_hash) "
            "FROM STDIN"
        ) as copy:
            for e in entries:
                copy.write_row(
                    (cycle_id, e.seq, e.receipt_hash, json.dumps(list(e.choices)),
                     e.prev_hash, e.entry_hash)
                )  # fmt: skip
        conn.execute(
            "INSERT INTO board_head (cycle_id, seq, entry_hash, sealed_at) VALUES (%s, %s, %s, %s)",
            (cycle_id, entries[-1].seq, entries[-1].entry_hash, opens + timedelta(days=41)),
        )
        with conn.cursor().copy(
            "COPY participation (cycle_id, voter_key, voted_on, channel) FROM STDIN"
        ) as copy:
            for n in range(count):
                copy.write_row((cycle_id, f"{n:064x}", "2026-11-20", "web"))
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE board_entry")
        conn.execute("VACUUM ANALYZE participation")
    print(f"prepared {count:,} ballots in {time.perf_counter() - started:.1f} s")


def _cycle_with_works(url: str, spec: dict, rule: str, opens: datetime) -> int:
    from opdigital.cycles.models import Cycle, Phase
    from opdigital.extensions import db
    from opdigital.proposals.models import Proposal

    app = app_on(url)
    with app.app_context():
        cycle = Cycle(
            slug=SLUG, kind="op-digital", title="Tally benchmark", edition=2026,
            state="closed", total_budget_cents=spec["budget_cents"], ballot_rule="approval",
            ballot_rule_params=spec["ballot_rule"]["params"], ballot_frozen_at=opens,
            counting_rule=rule,
        )  # fmt: skip
        cycle.phases.append(
            Phase(kind="voting", name="Votação", starts_at=opens, ends_at=opens + timedelta(41))
        )
        db.session.add(cycle)
        for p in spec["proposals"]:
            proposal = Proposal(
                cycle=cycle, code=p["code"], title=p["title"], description="Obra do benchmark.",
                estimated_cost_cents=p["cost_cents"], status="on_ballot",
            )  # fmt: skip
            db.session.add(proposal)
            db.session.flush()
            assert proposal.id == p["id"], "a fresh database is needed (proposal ids 1..50)"
        db.session.commit()
        cycle_id = cycle.id
        db.session.remove()
        db.engine.dispose()
    return cycle_id


def prepared_ballots(url: str) -> int | None:
    with psycopg.connect(_plain(url)) as conn:
        try:
            row = conn.execute(
                "SELECT h.seq FROM board_head h JOIN cycle c ON c.id = h.cycle_id "
                "WHERE c.slug = %s",
                (SLUG,),
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            return None
    return row[0] if row else None


def reset(url: str, rule: str) -> None:
    """Back to "closed" with no package, as the vote's close leaves it."""
    with psycopg.connect(_plain(url)) as conn:
        cycle_id = conn.execute("SELECT id FROM cycle WHERE slug = %s", (SLUG,)).fetchone()[0]
        conn.execute("DELETE FROM tally WHERE cycle_id = %s", (cycle_id,))
        conn.execute("UPDATE proposal SET status = 'on_ballot' WHERE cycle_id = %s", (cycle_id,))
        conn.execute(
            "UPDATE cycle SET state = 'closed', counting_rule = %s WHERE id = %s", (rule, cycle_id)
        )


def run_tally(url: str, out: Path, key: Path) -> tuple[float, float, int, str]:
    """`opdigital tally` as the operator runs it: (wall s, CPU s, peak RSS bytes, its output)."""
    env = dict(os.environ, DATABASE_URL=_plain(url), SIGNING_KEY_PATH=str(key))
    env.setdefault("OPDIGITAL_CONFIG", "development")
    command = [str(Path(sys.executable).with_name("opdigital")), "tally", SLUG, "--out", str(out)]
    measured = subprocess.run(  # noqa: S603
        [sys.executable, MEASURE, *command], capture_output=True, text=True, env=env
    )
    *output, last = measured.stdout.splitlines() or [""]
    if measured.returncode:
        sys.exit("\n".join(output) + measured.stderr)
    seconds, cpu, peak, _ = last.split()  # one process (its threads share its memory)
    steps = [line for line in measured.stderr.splitlines() if "tally of" in line]
    return float(seconds), float(cpu), int(peak), "\n".join(output + steps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--rule", default="mes-completed")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--database", metavar="NAME", help="keep (and reuse) this database")
    args = parser.parse_args()
    place = named_database(args.database) if args.database else _scratch()
    with place as (url, fresh), tempfile.TemporaryDirectory() as tmp:
        if fresh or prepared_ballots(url) != args.ballots:
            if not fresh:
                sys.exit(f"{args.database} holds another vote: drop it or choose another name")
            prepare(url, args.ballots, args.rule)
        key = Path(tmp) / "signing-key.pem"
        subprocess.run(  # noqa: S603
            [str(Path(sys.executable).with_name("opdigital")), "keys", "generate"],
            env=dict(os.environ, DATABASE_URL=_plain(url), SIGNING_KEY_PATH=str(key)),
            check=True,
            capture_output=True,
        )
        for _ in range(args.repeat):
            reset(url, args.rule)
            out = Path(tmp) / "tally.zip"
            seconds, cpu, peak, output = run_tally(url, out, key)
            print(output)
            print(
                f"opdigital tally, {args.ballots:,} ballots, {args.rule}: {seconds:.1f} s "
                f"(CPU {cpu:.1f} s, peak RSS {peak / 1e6:.0f} MB), package "
                f"{out.stat().st_size / 1e6:.0f} MB"
            )
    return 0


@contextlib.contextmanager
def _scratch():
    with scratch_database() as url:
        yield url, True


if __name__ == "__main__":
    sys.exit(main())
