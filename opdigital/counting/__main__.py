"""`python -m opdigital.counting FILE.pb --rule greedy|mes|mes-completed`: the selected ids.

The pure entry point of `opdigital pb outcome`: standard library only, no Flask, no database, so
it starts in milliseconds and runs wherever Python does (an auditor's laptop, a benchmark).
Prints the selected project ids one per line, in the order the rule selected them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from fractions import Fraction

from opdigital.counting.pabulib import PabulibError, read_pb
from opdigital.counting.rules import count

FILE_RULES = ("greedy", "mes", "mes-completed")


def outcome(path: str, rule: str, increment: Fraction | int = 1) -> list[str]:
    """The selected project ids of a Pabulib approval file under `rule`."""
    pb = read_pb(path)
    return [str(pid) for pid in count(rule, pb.instance, pb.profile, increment=increment)]


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m opdigital.counting",
        description="Print the projects a counting rule selects in a Pabulib approval file.",
    )
    parser.add_argument("file", help="a Pabulib .pb file with approval votes")
    parser.add_argument("--rule", required=True, choices=FILE_RULES)
    parser.add_argument(
        "--increment",
        type=Fraction,
        default=Fraction(1),
        help="mes-completed: per-voter budget step, in the file's currency (default 1)",
    )
    args = parser.parse_args(argv)
    if args.increment <= 0:
        parser.error("--increment must be positive")
    try:
        ids = outcome(args.file, args.rule, args.increment)
    except OSError as e:
        print(f"error: cannot read {args.file}: {e.strerror}", file=sys.stderr)
        return 1
    except PabulibError as e:
        print(f"error: {args.file}: {e}", file=sys.stderr)
        return 1
    sys.stdout.write("".join(f"{pid}\n" for pid in ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
