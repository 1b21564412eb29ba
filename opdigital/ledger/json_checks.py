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
