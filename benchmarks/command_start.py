"""Command start benchmark: how long `opdigital` takes before it does anything, as whole processes.

    .venv/bin/python -m benchmarks.command_start [--runs 7] [--ballots 200000] [--skip-pabutools]
        [--opdigital PATH]

Times, wall clock, the median of --runs processes each of: `python -c pass` (the interpreter's
own start, the baseline), `opdigital --help` and `opdigital pb outcome --help` (the installed
console script), and prints each command's own start (its time less the baseline; target: under
0.3 s). Then writes the seeded Pabulib file of benchmarks.count_mes with --ballots voters and
times `opdigital pb outcome FILE --rule mes` (median of 3) and, for comparison,
`python -m opdigital.counting FILE --rule mes` and pabutools (parse_pabulib and
method_of_equal_shares, once, killed after --pabutools-timeout seconds) as whole processes:
prints the ratio (target: `opdigital pb outcome` at least 50 times faster) and whether both
selected the same projects. Needs pabutools (the `test` extra) unless --skip-pabutools.
--opdigital times another `opdigital` script (another checkout's, to compare).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.count_mes import PABUTOOLS_SCRIPT, timed, write_file

OPDIGITAL = str(Path(sys.executable).with_name("opdigital"))
START_TARGET_S = 0.3
RATIO_TARGET = 50


def median_run(command: list[str], runs: int) -> float:
    """Median wall-clock seconds of `runs` runs of `command` (which must succeed)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)  # noqa: S603 - our commands
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_starts(opdigital: str, runs: int) -> None:
    baseline = median_run([sys.executable, "-c", "pass"], runs)
    print(f"python -c pass: {baseline * 1000:.0f} ms (median of {runs}, the baseline)")
    for args in (["--help"], ["pb", "outcome", "--help"]):
        seconds = median_run([opdigital, *args], runs)
        own = seconds - baseline
        verdict = "ok" if own < START_TARGET_S else "OVER TARGET"
        print(
            f"opdigital {' '.join(args)}: {seconds * 1000:.0f} ms, own start {own * 1000:.0f} ms"
            f" (target < {START_TARGET_S * 1000:.0f} ms: {verdict})"
        )


def time_outcome(
    opdigital: str, ballots: int, pabutools_timeout: float, skip_pabutools: bool
) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pb"
        write_file(path, ballots)
        print(f"file: {ballots:,} ballots, 50 projects, {path.stat().st_size / 1e6:.1f} MB")

        command = [opdigital, "pb", "outcome", str(path), "--rule", "mes"]
        runs = [timed(command, None) for _ in range(3)]
        ours_s = statistics.median(seconds for seconds, _ in runs)
        ours = runs[0][1] or []
        print(
            f"opdigital pb outcome --rule mes: {ours_s:.2f} s (median of 3), {len(ours)} projects"
        )
        module_s, _ = timed(
            [sys.executable, "-m", "opdigital.counting", str(path), "--rule", "mes"], None
        )
        print(f"python -m opdigital.counting --rule mes: {module_s:.2f} s")
        if skip_pabutools:
            return 0
        theirs_s, theirs = timed(
            [sys.executable, "-c", PABUTOOLS_SCRIPT, str(path)], pabutools_timeout
        )
        if theirs is None:
            print(f"pabutools: killed after {theirs_s:.0f} s; ratio > {theirs_s / ours_s:.0f}x")
            return 0
        ratio = theirs_s / ours_s
        verdict = "ok" if ratio >= RATIO_TARGET else "UNDER TARGET"
        print(f"pabutools (parse_pabulib + method_of_equal_shares, Cost_Sat): {theirs_s:.2f} s")
        print(
            f"ratio: opdigital pb outcome is {ratio:.1f}x faster"
            f" (target >= {RATIO_TARGET}x: {verdict})"
        )
        same = set(ours) == set(theirs)
        print(f"same selected projects: {'yes' if same else 'NO'}")
        return 0 if same else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--ballots", type=int, default=200_000)
    parser.add_argument("--pabutools-timeout", type=float, default=600)
    parser.add_argument("--skip-pabutools", action="store_true")
    parser.add_argument("--opdigital", default=OPDIGITAL, help="the script to time")
    args = parser.parse_args()
    time_starts(args.opdigital, args.runs)
    return time_outcome(args.opdigital, args.ballots, args.pabutools_timeout, args.skip_pabutools)


if __name__ == "__main__":
    sys.exit(main())
