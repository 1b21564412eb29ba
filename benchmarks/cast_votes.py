"""Vote-casting benchmark: the cast beside a bare write path, gunicorn + PostgreSQL + Redis.

    .venv/bin/python -m benchmarks.cast_votes [--voters 120000] [--connections 32]
        [--seconds 20] [--workers 4] [--threads 1] [--rounds 2] [--skip-bare]

Builds a throw-away database with an OP Digital 2011-style cycle (36 works, one choice per
region) and a roll of distinct voters, starts gunicorn against it and the local Redis, then
drives `POST /api/v1/cycles/{slug}/ballots` with wrk (Debian package `wrk`), one voter per
request. Beside it, under the same gunicorn settings, runs `benchmarks.bare_write`: a plain
Flask app that only writes two rows in one transaction and increments a Redis counter, sent
the same bodies. The two take turns (bare, cast, then cast, bare, ...: `--rounds` of each,
the order swapped every round so that a drift in the machine's load falls on both), each for
`--seconds` at `--connections`; each cast round has voters of its own (the roll is split
between the rounds). Prints, for every run, accepted requests/s, p50/p99 latency and the CPU
per accepted request of the app (that server's processes only), PostgreSQL (the backends of the
benchmark's database), Redis and wrk; then the ratio cast/bare of accepted requests/s and of CPU
(medians over the rounds).

Targets: issue 3, 1,000 accepted votes/s with p99 under 100 ms at 32 concurrent clients;
issue 16, target 5, at least as many accepted votes/s as the bare write path in the same run.

The per-address vote limit is lifted for the run (every request comes from 127.0.0.1, as from
one big voting point); everything else — eligibility, ballot validation, the one-vote
constraint, turnout counters, the rate-limit bookkeeping in Redis, the board's sealing — runs
as in production.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from benchmarks.bare_write import counter_key, create_tables
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
    parser.add_argument("--rounds", type=int, default=2, help="runs of each app, alternately")
    parser.add_argument("--skip-bare", action="store_true", help="the cast alone")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    print(f"load average before: {_load_average()}")
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        slug, choices = _prepare(url, Path(tmp), args.voters)
        bodies = _write_bodies(Path(tmp) / "roll.csv", Path(tmp), choices, args.rounds)
        create_tables(url)
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


def _write_bodies(
    roll: Path, tmp: Path, by_region: dict[int, list[int]], rounds: int
) -> list[Path]:
    """One JSON ballot per voter (one work in each of a few random regions), the roll split
    into one file per round: a round's casts are all first votes."""
    rng = random.Random(7)  # noqa: S311 - load data, not secrets
    regions = list(by_region)
    with roll.open() as source:
        next(source)
        lines = []
        for line in source:
            titulo = line.split(",")[0]
            chosen = [rng.choice(by_region[r]) for r in rng.sample(regions, rng.randint(1, 9))]
            credentials = {"titulo": titulo, "birth_date": BIRTH.isoformat()}
            lines.append(json.dumps({"credentials": credentials, "choices": chosen}) + "\n")
    # Voters come in any order, not the roll's: no index is filled from one end.
    rng.shuffle(lines)
    share = -(-len(lines) // rounds)
    paths = []
    for n in range(rounds):
        path = tmp / f"bodies-{n}.jsonl"
        path.write_text("".join(lines[n * share : (n + 1) * share]))
        paths.append(path)
    return paths


@dataclass
class Run:
    """One wrk run against one app."""

    app: str  # "cast" or "bare"
    round: int
    seconds: float
    status: dict[str, int]
    p50_ms: float
    p99_ms: float
    cpu: dict[str, float]  # seconds, by part (PARTS)
    load: str

    @property
    def accepted(self) -> int:
        return self.status["created"]

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds

    def cpu_ms(self, part: str) -> float:
        return self.cpu.get(part, 0.0) / self.accepted * 1000 if self.accepted else float("nan")

    @property
    def total_cpu_ms(self) -> float:
        return sum(self.cpu_ms(part) for part in PARTS)


PARTS = ("app", "PostgreSQL", "Redis", "wrk")


def _load(url: str, slug: str, bodies: list[Path], args) -> int:
    from tests.support.live import gunicorn

    env = {
        "DATABASE_URL": url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "RATELIMIT_KEY_PREFIX": f"opdigital-bench-{uuid.uuid4().hex[:6]}",
        "VOTE_LIMIT_PER_IP": "100000000 per minute",
    }
    bare_env = {
        "BARE_DATABASE_URL": url,
        "BARE_REDIS_URL": env["REDIS_URL"],
        "BARE_KEY_PREFIX": f"{env['RATELIMIT_KEY_PREFIX']}-bare",
    }
    database = url.rsplit("/", 1)[1]
    runs: list[Run] = []
    with contextlib.ExitStack() as servers:
        cast_base = servers.enter_context(gunicorn(env, workers=args.workers, threads=args.threads))
        bare_base = None
        if not args.skip_bare:
            bare_base = servers.enter_context(
                _bare_server(bare_env, workers=args.workers, threads=args.threads)
            )
        for n, round_bodies in enumerate(bodies):
            targets = [("cast", cast_base, f"/api/v1/cycles/{slug}/ballots")]
            if bare_base is not None:
                # The cycle in the bare path's URL keeps each round's voters apart.
                bare = ("bare", bare_base, f"/cycles/{n + 1}/ballots")
                targets = [bare, *targets] if n % 2 == 0 else [*targets, bare]
            for app, base, path in targets:
                run = _wrk(app, n + 1, base, path, round_bodies, database, args)
                runs.append(run)
                _print_run(run, args)
    if not args.skip_bare:
        import redis

        redis.Redis.from_url(bare_env["BARE_REDIS_URL"]).delete(
            counter_key(bare_env["BARE_KEY_PREFIX"])
        )
    _summary(runs)
    return 0 if all(run.status["other"] == 0 for run in runs) else 1


@contextlib.contextmanager
def _bare_server(env: dict[str, str], workers: int, threads: int):
    """`benchmarks.bare_write` under gunicorn, with the command line `tests.support.live`
    gives the app (the same workers, threads and worker class)."""
    from tests.support.live import free_port, stop, wait_until_up

    port = free_port()
    log_path = ROOT / "instance" / f"gunicorn-bare-{port}.log"
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and app
            [
                sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                "--graceful-timeout", "5",
                *(["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []),
                "benchmarks.bare_write:app",
            ],
            cwd=ROOT, env=os.environ | env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, log_path, path="/healthz")
        yield base
    finally:
        stop(process)
    log_path.unlink(missing_ok=True)


def _wrk(app: str, n: int, base: str, path: str, bodies: Path, database: str, args) -> Run:
    threads = 2
    port = base.rsplit(":", 1)[1]
    script = str(ROOT / "benchmarks" / "cast_votes.lua")
    command = [
        "wrk", f"-t{threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
        "-s", script, base + path,
    ]  # fmt: skip
    run_env = os.environ | {"BODIES": str(bodies), "THREADS": str(threads)}
    before = _cpu_seconds(port, database)
    load_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(command, env=run_env, capture_output=True, text=True, check=True)  # noqa: S603
    load_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = _cpu_seconds(port, database)
    used = {part: after[part] - before.get(part, 0.0) for part in after}
    used["wrk"] = sum(
        getattr(load_after, f) - getattr(load_before, f) for f in ("ru_utime", "ru_stime")
    )
    text = output.stdout
    status = dict(re.findall(r"(\w+)=(\d+)", re.search(r"STATUS (.*)", text).group(1)))
    latency = dict(re.findall(r"(\w+)=(\d+)", re.search(r"LATENCY (.*)", text).group(1)))
    return Run(
        app=app,
        round=n,
        seconds=int(re.search(r"DURATION_US (\d+)", text).group(1)) / 1e6,
        status={name: int(value) for name, value in status.items()},
        p50_ms=int(latency["p50_us"]) / 1000,
        p99_ms=int(latency["p99_us"]) / 1000,
        cpu=used,
        load=_load_average(),
    )


def _cpu_seconds(port: str, database: str) -> dict[str, float]:
    """CPU seconds so far of the parts of one run, from `cpu_seconds_by_program`'s reading of
    /proc narrowed to this run's own processes where they can be told apart: the app is the
    gunicorn listening on `port` (master and workers), PostgreSQL the backends connected to
    `database` (others' tests share the server; its background writers are left out), Redis
    the whole server."""
    programs = cpu_seconds_by_program()
    ticks = os.sysconf("SC_CLK_TCK")
    app = postgres = 0.0
    listen, backend = f"127.0.0.1:{port} ", f" {database} "
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            if listen not in command and backend not in command:
                continue
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        if listen in command and "gunicorn" in command:
            app += seconds
        elif command.startswith("postgres:"):
            postgres += seconds
    return {"app": app, "PostgreSQL": postgres, "Redis": programs.get("redis-server", 0.0)}


def _load_average() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def _print_run(run: Run, args) -> None:
    status = run.status
    print(
        f"round {run.round} {run.app}: {args.connections} connections, {args.workers} gunicorn "
        f"workers x {args.threads} threads, {run.seconds:.1f} s: "
        f"{run.accepted:,} accepted = {run.rate:,.0f}/s; "
        f"p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms; "
        f"other answers: 409={status['conflicts']} 429={status['limited']} "
        f"other={status['other']}; load average {run.load}"
    )
    if run.accepted:
        # CPU per request: steadier than requests/s on a shared machine; it shows where time goes.
        shares = ", ".join(f"{part} {run.cpu_ms(part):.2f}" for part in PARTS)
        print(f"  CPU ms per accepted request: {shares} (total {run.total_cpu_ms:.2f})")


def _summary(runs: list[Run]) -> None:
    casts = {run.round: run for run in runs if run.app == "cast"}
    bares = {run.round: run for run in runs if run.app == "bare"}
    pairs = [(casts[n], bares[n]) for n in sorted(casts) if n in bares]
    if not pairs:
        return
    rates = [cast.rate / bare.rate for cast, bare in pairs if bare.rate]
    apps = [cast.cpu_ms("app") / bare.cpu_ms("app") for cast, bare in pairs]
    totals = [cast.total_cpu_ms / bare.total_cpu_ms for cast, bare in pairs]
    print(
        "cast/bare, by round: accepted/s "
        + ", ".join(f"{r:.2f}" for r in rates)
        + "; app CPU per request "
        + ", ".join(f"{r:.2f}" for r in apps)
        + "; all CPU per request "
        + ", ".join(f"{r:.2f}" for r in totals)
    )
    print(
        f"cast/bare, median of {len(pairs)} rounds: accepted/s {statistics.median(rates):.2f}, "
        f"app CPU per request {statistics.median(apps):.2f}, "
        f"all CPU per request {statistics.median(totals):.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
