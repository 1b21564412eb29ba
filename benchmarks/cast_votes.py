"""Vote-casting benchmark: gunicorn + PostgreSQL + Redis under wrk, many distinct voters.

    .venv/bin/python -m benchmarks.cast_votes [--voters 120000] [--connections 32]
        [--seconds 20] [--workers 4] [--threads 1]

Builds a throw-away database with an OP Digital 2011-style cycle (36 works, one choice per
region) and a roll of distinct voters, starts gunicorn against it and the local Redis, then
drives `POST /api/v1/cycles/{slug}/ballots` with wrk (Debian package `wrk`), one voter per
request. Prints accepted votes/s and p50/p99 latency. Target (issue 3): 1,000 accepted votes/s
with p99 under 100 ms at 32 concurrent clients.

The per-address vote limit is lifted for the run (every request comes from 127.0.0.1, as from
one big voting point); everything else — eligibility, ballot validation, the one-vote
constraint, turnout counters, the rate-limit bookkeeping in Redis — runs as in production.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import date, timedelta
from pathlib import Path

from benchmarks.common import cpu_seconds_by_program, migrated_app, scratch_database
from benchmarks.import_registry import write_roll

ROOT = Path(__file__).resolve().parent.parent
BIRTH = date(1970, 1, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=120_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        slug, choices = _prepare(url, Path(tmp), args.voters)
        bodies = Path(tmp) / "bodies.jsonl"
        _write_bodies(Path(tmp) / "roll.csv", bodies, choices)
        return _load(url, slug, bodies, args)


def _prepare(url: str, tmp: Path, voters: int) -> tuple[str, dict[int, list[int]]]:
    """The cycle, its 36 works on the ballot, and a roll of `voters` people born on BIRTH."""
    from opdigital.clock import now
    from opdigital.cycles.models import Cycle, Phase
    from opdigital.extensions import db
    from opdigital.proposals.models import Proposal
    from opdigital.regions.models import Region
    from opdigital.registry.services import import_registry

    app = migrated_app(url)
    with app.app_context():
        start = now() - timedelta(days=1)
        cycle = Cycle(
            slug="op-digital-bench", kind="op-digital", title="OP Digital (benchmark)",
            edition=2026, state="voting", total_budget_cents=50_000_000_00,
            ballot_rule="one-per-region", ballot_rule_params={"max_choices_per_region": 1},
            ballot_frozen_at=start,
        )  # fmt: skip
        cycle.phases.append(
            Phase(kind="voting", name="Votação", starts_at=start, ends_at=start + timedelta(30))
        )
        db.session.add(cycle)
        by_region: dict[int, list[int]] = {}
        for region in db.session.scalars(db.select(Region)):
            for n in range(4):
                proposal = Proposal(
                    cycle=cycle, code=f"B-{region.slug}-{n}", title=f"Obra {n} {region.name}",
                    description="Obra do benchmark de votação.", region_id=region.id,
                    estimated_cost_cents=2_000_000_00, status="on_ballot",
                )  # fmt: skip
                db.session.add(proposal)
                db.session.flush()
                by_region.setdefault(region.id, []).append(proposal.id)
        db.session.commit()
        roll = tmp / "roll.csv"
        write_roll(roll, voters)
        _same_birth_date(roll)
        report = import_registry(roll, city=True)
        assert not report.rejected, report.rejected[:3]
        db.session.remove()
        db.engine.dispose()
    return "op-digital-bench", by_region


def _same_birth_date(roll: Path) -> None:
    lines = roll.read_text().splitlines()
    rows = [lines[0]] + [f"{line.split(',')[0]},{BIRTH.isoformat()},{line.rsplit(',', 1)[1]}"
                         for line in lines[1:]]  # fmt: skip
    roll.write_text("\n".join(rows) + "\n")


def _write_bodies(roll: Path, bodies: Path, by_region: dict[int, list[int]]) -> None:
    """One JSON ballot per voter: one work in each of a few random regions."""
    rng = random.Random(7)  # noqa: S311 - load data, not secrets
    regions = list(by_region)
    with roll.open() as source, bodies.open("w") as out:
        next(source)
        for line in source:
            titulo = line.split(",")[0]
            chosen = [rng.choice(by_region[r]) for r in rng.sample(regions, rng.randint(1, 9))]
            credentials = {"titulo": titulo, "birth_date": BIRTH.isoformat()}
            out.write(json.dumps({"credentials": credentials, "choices": chosen}) + "\n")


def _load(url: str, slug: str, bodies: Path, args) -> int:
    from tests.support.live import gunicorn

    env = {
        "DATABASE_URL": url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "RATELIMIT_KEY_PREFIX": f"opdigital-bench-{uuid.uuid4().hex[:6]}",
        "VOTE_LIMIT_PER_IP": "100000000 per minute",
    }
    threads = 2
    with gunicorn(env, workers=args.workers, threads=args.threads) as base:
        script = str(ROOT / "benchmarks" / "cast_votes.lua")
        command = [
            "wrk", f"-t{threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
            "-s", script, f"{base}/api/v1/cycles/{slug}/ballots",
        ]  # fmt: skip
        run_env = os.environ | {"BODIES": str(bodies), "THREADS": str(threads)}
        before = cpu_seconds_by_program()
        load_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        output = subprocess.run(command, env=run_env, capture_output=True, text=True, check=True)  # noqa: S603
        load_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        after = cpu_seconds_by_program()
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    used["wrk"] = sum(
        getattr(load_after, f) - getattr(load_before, f) for f in ("ru_utime", "ru_stime")
    )
    return _report(output.stdout, args, used)


def _report(text: str, args, cpu: dict[str, float]) -> int:
    status = dict(re.findall(r"(\w+)=(\d+)", re.search(r"STATUS (.*)", text).group(1)))
    latency = dict(re.findall(r"(\w+)=(\d+)", re.search(r"LATENCY (.*)", text).group(1)))
    seconds = int(re.search(r"DURATION_US (\d+)", text).group(1)) / 1e6
    accepted = int(status["created"])
    print(
        f"{args.connections} connections, {args.workers} gunicorn workers x {args.threads} "
        f"threads, {seconds:.1f} s: "
        f"{accepted:,} votes accepted = {accepted / seconds:,.0f} votes/s; "
        f"p50 {int(latency['p50_us']) / 1000:.1f} ms, p99 {int(latency['p99_us']) / 1000:.1f} ms; "
        f"other answers: 409={status['conflicts']} 429={status['limited']} other={status['other']}"
    )
    if accepted:
        # CPU per vote: steadier than votes/s on a shared machine, and it shows where time goes.
        parts = {"app": "gunicorn", "PostgreSQL": "postgres", "Redis": "redis-server", "wrk": "wrk"}
        shares = ", ".join(
            f"{label} {cpu.get(name, 0.0) / accepted * 1000:.2f}" for label, name in parts.items()
        )
        print(f"CPU ms per accepted vote: {shares}")
    return 0 if int(status["other"]) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
