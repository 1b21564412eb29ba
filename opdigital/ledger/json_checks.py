"""Reading untrusted JSON field by field, naming the first field that is wrong.

Pure (standard library). The package's definition (`result.py`) and its paper ballots
(`paper.py`) are checked alike, each raising its own error so the verifier can say which part
of the package is at fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class FieldChecks:
    """Checks that raise `error` (a ValueError subclass) with a message naming the field."""

    def __init__(self, error: type[ValueError]):
        self.error = error

    def require(self, condition: bool, message: str) -> None:
        if not condition:
            raise self.error(message)

    def object(self, value: object, path: str, keys: Sequence[str]) -> dict[str, Any]:
        """`value` as a dict with exactly `keys`; a missing or unexpected key is named."""
        self.require(isinstance(value, dict), f"{path} must be an object")
        assert isinstance(value, dict)
        missing = [k for k in keys if k not in value]
        self.require(not missing, f"{path} lacks the field {missing[0] if missing else ''}")
        extra = sorted(set(value) - set(keys))
        self.require(not extra, f"{path} has an unexpected field {extra[0] if extra else ''}")
        return value

    def sorted_ids(self, ids: list[int], path: str) -> None:
        self.require(ids == sorted(set(ids)), f"{path} must be sorted by id, each id once")


# Every number in a package is an integer from 0 to 2**63 - 1 (docs/tally-format.md, section 2):
# what a signed 64-bit integer holds, so that an auditor's verifier that reads numbers that way
# accepts exactly what ours accepts (we would otherwise take 2**70 where it cannot).
MAX_INTEGER = 2**63 - 1


def number_problem(value: object, path: str) -> str | None:
    """The first number inside `value` (depth first, keys in order) that is not an integer from
    0 to MAX_INTEGER, named by its path, or None. Booleans are not numbers in JSON.

    Iterative: a parsed value can be as deep as the JSON parser allows, deeper than a recursive
    walk on top of the verifier's own stack may go.
    """
    pending: list[tuple[object, str]] = [(value, path)]
    while pending:
        item, where = pending.pop()
        if isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        if isinstance(item, int):
            if not 0 <= item <= MAX_INTEGER:
                return f"{where} must be an integer from 0 to {MAX_INTEGER}"
        elif isinstance(item, dict):
            pending.extend((v, f"{where}.{k}") for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            pending.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(item))))
        else:  # a float (or anything else a Python caller passed): not a JSON integer
            return f"{where} must be an integer from 0 to {MAX_INTEGER}"
    return None
