"""Counting benchmark: Equal Shares on a Pabulib file, ours against pabutools, as whole processes.

    .venv/bin/python -m benchmarks.count_mes [--ballots 1000000] [--pabutools-timeout 600]
    .venv/bin/python -m benchmarks.count_mes --completed [--ballots N] [--skip-pabutools]
    .venv/bin/python -m benchmarks.count_mes --pabulib ../shared/data/pabulib

Writes a seeded Pabulib file of N approval ballots over 50 projects (voters approve 1 to 8
projects, popular ones more often, as in real city votes), then times, wall clock, each as a
separate process: (a) `python -m opdigital.counting FILE --rule mes` (the pure counting that
`opdigital pb outcome` runs too, now without building the app: benchmarks.command_start times
the command itself) and (b) a small script that parses
the same file with `pabutools.election.parse_pabulib` and runs `method_of_equal_shares` with
`Cost_Sat`. Prints both times, the ratio (target: ours at least 20 times faster) and whether
both selected the same projects. pabutools is killed after --pabutools-timeout seconds; the
ratio is then a lower bound. Also prints how long our reading and counting take in-process,
and with --completed how long Equal Shares completed (Add1U by 1 unit, then greedy) takes,
how many times it ran Equal Shares and how many passes its search for the next budget where
the outcome can change made (`mes_sweep`), against the increments one at a time would take.
With --pabulib DIR, the same for Equal Shares completed on every .pb file there (the real
files in shared/data/pabulib), and the totals. Needs pabutools (the `test` extra), except with
--skip-pabutools and --pabulib.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from opdigital.counting import mes_engine, mes_sweep
from opdigital.counting.equal_shares import mes_completed, method_of_equal_shares
from opdigital.counting.pabulib import read_pb

PABUTOOLS_SCRIPT = """
import sys
from pabutools.election import Cost_Sat, parse_pabulib
from pabutools.rules import method_of_equal_shares
instance, profile = parse_pabulib(sys.argv[1])
for p in method_of_equal_shares(instance, profile, sat_class=Cost_Sat):
    print(p.name)
"""


def write_file(path: Path, ballots: int, projects: int = 50, seed: int = 2026) -> None:
    """A Pabulib approval file: `ballots` voters, `projects` projects, budget ~ 1/3 of costs."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    ids = list(range(1, projects + 1))
    costs = [rng.randrange(50_000, 2_000_000, 500) for _ in ids]
    popularity = [rng.paretovariate(1.2) for _ in ids]
    budget = sum(costs) // 3
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("META\nkey;value\ndescription;OP Digital benchmark\ncountry;Brazil\n")
        f.write(f"unit;Belo Horizonte\ninstance;bench\nnum_projects;{projects}\n")
        f.write(f"num_votes;{ballots}\nbudget;{budget}\nvote_type;approval\nrule;equalshares\n")
        f.write("PROJECTS\nproject_id;cost;name\n")
        f.writelines(f"{i};{c};Obra {i}\n" for i, c in zip(ids, costs, strict=True))
        f.write("VOTES\nvoter_id;vote\n")
        sizes = rng.choices(range(1, 9), weights=[8, 7, 6, 5, 4, 3, 2, 1], k=ballots)
        batch: list[str] = []
        for voter, size in enumerate(sizes, start=1):
            chosen = set(rng.choices(ids, weights=popularity, k=size))
            batch.append(f"{voter};{','.join(map(str, sorted(chosen)))}\n")
            if len(batch) == 50_000:
                f.writelines(batch)
                batch.clear()
        f.writelines(batch)


def timed(command: list[str], timeout: float | None) -> tuple[float, list[str] | None]:
    """Wall-clock seconds of a process and its output lines (None if it was killed)."""
    start = time.perf_counter()
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            command, capture_output=True, text=True, timeout=timeout, check=True
        )
    except subprocess.TimeoutExpired:
        return time.perf_counter() - start, None
    return time.perf_counter() - start, done.stdout.split()


def count_completed(pb) -> tuple[float, int, int, int, list]:
    """Equal Shares completed in-process: CPU seconds, Equal Shares runs, passes, the increments
    one at a time would run (from the start to the budget where it stopped), the selection."""
    counts = {"runs": 0, "passes": 0}
    budgets: list = []
    run_init, pass_at = mes_engine.Run.__init__, mes_sweep.Sweep.pass_at

    def counted_run(self, prep, per_voter):
        counts["runs"] += 1
        budgets.append(per_voter)
        run_init(self, prep, per_voter)

    def counted_pass(self, *args):
        counts["passes"] += 1
        return pass_at(self, *args)

    mes_engine.Run.__init__ = counted_run  # type: ignore[method-assign]
    mes_sweep.Sweep.pass_at = counted_pass  # type: ignore[method-assign]
    try:
        start = time.process_time()
        selected = mes_completed(pb.instance, pb.profile)
        seconds = time.process_time() - start
    finally:
        mes_engine.Run.__init__ = run_init  # type: ignore[method-assign]
        mes_sweep.Sweep.pass_at = pass_at  # type: ignore[method-assign]
    increments = int(max(budgets) - min(budgets)) + 1  # the increment is 1
    return seconds, counts["runs"], counts["passes"], increments, selected


def time_completed(pb) -> None:
    seconds, runs, passes, increments, selected = count_completed(pb)
    print(
        f"in-process: Equal Shares completed {seconds:.2f} s CPU, {runs} Equal Shares runs and"
        f" {passes} passes where one increment at a time runs {increments},"
        f" {len(selected)} projects selected"
    )


def time_pabulib(folder: Path) -> int:
    """Equal Shares completed on every .pb file in `folder`, and the totals."""
    total = {"seconds": 0.0, "runs": 0, "passes": 0, "increments": 0}
    files = sorted(folder.glob("*.pb"))
    for path in files:
        seconds, runs, passes, increments, _ = count_completed(read_pb(path))
        for key, value in zip(total, (seconds, runs, passes, increments), strict=True):
            total[key] += value
        print(
            f"{path.name[:60]:60} {seconds:6.2f} s CPU {runs:5} runs {passes:5} passes"
            f" ({increments} increments)"
        )
    print(
        f"{len(files)} files: Equal Shares completed {total['seconds']:.2f} s CPU,"
        f" {total['runs']} Equal Shares runs and {total['passes']} passes"
        f" ({total['increments']} increments one at a time)"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--pabutools-timeout", type=float, default=600)
    parser.add_argument("--skip-pabutools", action="store_true")
    parser.add_argument(
        "--completed", action="store_true", help="also time Equal Shares completed in-process"
    )
    parser.add_argument(
        "--pabulib", type=Path, help="time Equal Shares completed on every .pb file there"
    )
    args = parser.parse_args()
    if args.pabulib:
        return time_pabulib(args.pabulib)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pb"
        start = time.perf_counter()
        write_file(path, args.ballots, args.projects)
        print(
            f"file: {args.ballots:,} ballots, {args.projects} projects, "
            f"{path.stat().st_size / 1e6:.1f} MB, written in {time.perf_counter() - start:.1f} s"
        )

        start = time.perf_counter()
        pb = read_pb(path)
        read_s = time.perf_counter() - start
        start = time.perf_counter()
        method_of_equal_shares(pb.instance, pb.profile)
        count_s = time.perf_counter() - start
        print(
            f"in-process: reading {read_s:.2f} s ({len(pb.profile.ballots):,} distinct "
            f"ballots), counting Equal Shares {count_s:.2f} s"
        )

        if args.completed:
            time_completed(pb)

        ours_s, ours = timed(
            [sys.executable, "-m", "opdigital.counting", str(path), "--rule", "mes"], None
        )
        print(
            f"ours (python -m opdigital.counting --rule mes): {ours_s:.2f} s, "
            f"{len(ours or [])} projects selected"
        )
        if args.skip_pabutools:
            return 0
        theirs_s, theirs = timed(
            [sys.executable, "-c", PABUTOOLS_SCRIPT, str(path)], args.pabutools_timeout
        )
        if theirs is None:
            print(f"pabutools: killed after {theirs_s:.0f} s; ratio > {theirs_s / ours_s:.0f}x")
            return 0
        print(f"pabutools (parse_pabulib + method_of_equal_shares, Cost_Sat): {theirs_s:.2f} s")
        print(f"ratio: ours is {theirs_s / ours_s:.1f}x faster (target >= 20x)")
        same = set(ours or []) == set(theirs)
        print(f"same selected projects: {'yes' if same else 'NO'}")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
