"""Run a command and report its wall time, CPU time and peak memory: `python measure.py CMD...`.

Started as its own small process (by path, importing nothing of ours) so that what it measures
is only the command: a child started straight from a benchmark (vfork + exec) would be charged
the benchmark's own peak by getrusage, since Linux records the address space an exec replaces.

Prints the command's output (its errors on stderr), then one line: wall seconds, CPU seconds
(user + system of the command and every process it started: on a shared machine the wall time
also counts other processes' turns), the largest single process's peak RSS (getrusage) and the
peak of the RSS of the command's processes added together, sampled every 10 ms from /proc (a
process that forks shares pages with its child; they are counted in each, so the sum is an
upper bound).
"""

import os
import resource
import subprocess
import sys
import tempfile
import time


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0  # gone meanwhile


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children", encoding="ascii") as f:
                todo += map(int, f.read().split())
        except OSError:
            pass
    return found


def main() -> int:
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(sys.argv[1:], stdout=out, stderr=err)  # noqa: S603
        peak_together = 0
        while process.poll() is None:
            peak_together = max(peak_together, sum(map(_rss, _tree(process.pid))))
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        for stream, written in ((sys.stdout, out), (sys.stderr, err)):
            written.seek(0)
            stream.write(written.read().decode(errors="replace"))
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"{seconds} {cpu} {usage.ru_maxrss * 1024} {peak_together}")
    return process.returncode


if __name__ == "__main__":
    sys.exit(main())
