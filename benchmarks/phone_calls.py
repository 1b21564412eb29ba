"""Phone-line benchmark: many callers at once through the real voice webhooks on gunicorn.

    .venv/bin/python -m benchmarks.phone_calls [--calls 1000] [--concurrency 64]
        [--workers 4] [--threads 4]

Builds the cast benchmark's throw-away database (an OP Digital 2011-style cycle, 36 works, one
choice per region) with the voice line switched on, starts gunicorn against it and the local
Redis, and places `--calls` calls with the phone simulator (`opdigital.phone.simulator.Call`),
signed as the provider signs, `--concurrency` at a time, each a different voter: título, birth
date, one work, the summary, confirm, end (7 webhooks and the status callback). Prints calls
completed per second, webhooks per second and the webhooks' p50/p99 latency, and checks that
every call heard a receipt and that the votes are all in the database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from benchmarks.cast_votes import BIRTH, _prepare
from benchmarks.common import app_on, scratch_database

TOKEN = "benchmark-phone-token"  # noqa: S105 - a throw-away server's
PUBLIC = "https://op.benchmark.example"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        slug, _choices = _prepare(url, Path(tmp), args.calls)
        rows = (Path(tmp) / "roll.csv").read_text().splitlines()[1:]
        # Keyed in: the digits alone (the roll writes some títulos with dots and spaces).
        titulos = ["".join(ch for ch in row.split(",")[0] if ch.isdigit()) for row in rows]
        _switch_the_line_on(url, slug)
        return _call(url, slug, titulos[: args.calls], args)


def _switch_the_line_on(url: str, slug: str) -> None:
    from opdigital.cycles.models import Cycle
    from opdigital.extensions import db

    app = app_on(url)
    with app.app_context():
        db.session.execute(db.update(Cycle).where(Cycle.slug == slug).values(phone_voice=True))
        db.session.commit()
        db.engine.dispose()


def _call(url: str, slug: str, titulos: list[str], args) -> int:
    from opdigital.phone.simulator import Call
    from tests.support.live import gunicorn

    env = {
        "DATABASE_URL": url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "RATELIMIT_KEY_PREFIX": f"opdigital-bench-{uuid.uuid4().hex[:6]}",
        "PHONE_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": PUBLIC,
    }
    latencies: list[float] = []
    lock = threading.Lock()
    local = threading.local()

    def post(address: str, form: dict, headers: dict):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.post(address, data=form, headers=headers, timeout=60)
        with lock:
            latencies.append(time.perf_counter() - started)
        return response.status_code, response.text

    birth = BIRTH.strftime("%d%m%Y")
    failures: list = []  # what the first call without a receipt heard last
    with gunicorn(env, workers=args.workers, threads=args.threads) as base:

        def place(n: int) -> str | None:
            number = f"+55319{n:08d}"
            caller = Call(base, TOKEN, slug, number, public_url=PUBLIC, post=post)
            transcript = caller.run([titulos[n], birth, "1", "#", "1", "2"])
            if not transcript.receipt and not failures:
                failures.append(transcript.error or transcript.sentences[-3:])
            return transcript.receipt

        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            receipts = list(pool.map(place, range(len(titulos))))
        elapsed = time.perf_counter() - started
    if failures:
        print(f"A call without a receipt heard last: {failures[0]}", file=sys.stderr)
    return _report(url, slug, receipts, latencies, elapsed, args)


def _report(url, slug, receipts, latencies, elapsed, args) -> int:
    from opdigital.cycles.models import Cycle
    from opdigital.extensions import db
    from opdigital.voting.models import Participation

    app = app_on(url)
    with app.app_context():
        cycle_id = db.session.scalar(db.select(Cycle.id).where(Cycle.slug == slug))
        votes = db.session.scalar(
            db.select(db.func.count())
            .select_from(Participation)
            .where(Participation.cycle_id == cycle_id, Participation.channel == "voice")
        )
        db.engine.dispose()
    heard = sum(1 for receipt in receipts if receipt)
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{len(receipts)} calls, {args.concurrency} at a time, gunicorn {args.workers} workers x "
        f"{args.threads} threads: {len(receipts) / elapsed:.1f} calls/s, "
        f"{len(latencies) / elapsed:.0f} webhooks/s, webhook p50 "
        f"{statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms; "
        f"{heard} receipts heard, {votes} votes recorded"
    )
    return 0 if heard == votes == len(receipts) else 1


if __name__ == "__main__":
    sys.exit(main())
