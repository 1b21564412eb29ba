"""Sealing benchmark: the time to seal one batch must not grow with the board.

    .venv/bin/python -m benchmarks.seal_board [--sizes 0,100000,1000000] [--batches 40]

For each board size, fills a throw-away cycle's board with that many entries, then seals
`--batches` batches of BOARD_BATCH_SIZE pending ballots, as casts leave them, and prints the
median and the slowest sealing in milliseconds (each includes its commit, so the disk's flush
time counts). Migration 0004 exists because the first guard on
sealing deletes scanned the whole board: 2.7 ms per batch at 4,800 entries, 12 ms at 19,000,
growing with every vote.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from datetime import timedelta

import sqlalchemy as sa

from benchmarks.common import migrated_app, scratch_database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,100000,1000000")
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with scratch_database() as url:
        app = migrated_app(url)
        with app.app_context():
            from opdigital.board.services import batch_size

            for size in sizes:
                timings = _seal_batches(size, args.batches)
                print(
                    f"board of {size:,} entries: sealing a batch of {batch_size()} takes "
                    f"{statistics.median(timings):.1f} ms (median of {len(timings)}), "
                    f"slowest {max(timings):.1f} ms"
                )
    return 0


def _seal_batches(size: int, batches: int) -> list[float]:
    from opdigital.board.models import BoardHead
    from opdigital.board.services import batch_size, seal
    from opdigital.clock import now
    from opdigital.cycles.models import Cycle
    from opdigital.extensions import db

    cycle = Cycle(
        slug=f"seal-{size}", kind="op-digital", title="Sealing benchmark", edition=2026,
        state="voting", total_budget_cents=1_000_00, ballot_rule="approval",
        ballot_rule_params={}, ballot_frozen_at=now() - timedelta(days=1),
    )  # fmt: skip
    db.session.add(cycle)
    db.session.commit()
    if size:
        # The board as a long vote leaves it (the entries' hashes are not checked here).
        db.session.execute(
            sa.text(
                "INSERT INTO board_entry (cycle_id, seq, receipt_hash, choices, prev_hash, "
                "entry_hash) SELECT :cycle, n, md5(n::text) || md5((-n)::text), '[1, 2]', "
                "repeat('a', 64), repeat('a', 64) FROM generate_series(1, :size) AS n"
            ),
            {"cycle": cycle.id, "size": size},
        )
        db.session.add(BoardHead(cycle_id=cycle.id, seq=size, entry_hash="a" * 64, sealed_at=now()))
        db.session.commit()
        db.session.execute(sa.text("ANALYZE board_entry"))
        db.session.commit()
    timings = []
    for _ in range(batches):
        db.session.execute(
            sa.text(
                "INSERT INTO ballot (cycle_id, receipt_hash, choices) "
                "VALUES (:cycle, :receipt, CAST(:choices AS json))"
            ),
            [
                {"cycle": cycle.id, "receipt": secrets.token_hex(32), "choices": json.dumps([1])}
                for _ in range(batch_size())
            ],
        )
        db.session.commit()
        started = time.perf_counter()
        sealed = seal(cycle)
        timings.append((time.perf_counter() - started) * 1000)
        assert sealed == batch_size(), sealed
    return timings


if __name__ == "__main__":
    sys.exit(main())
