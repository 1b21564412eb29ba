"""Text that crosses a boundary: control characters in what people type, formulas in CSV cells.

Pure: standard library only, so forms, services, views, exporters and the Pabulib writer (in
the pure counting package) share one definition.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, TextIO

# Unicode category Cc (C0 \x00-\x1f, DEL, C1 \x80-\x9f) and the line and paragraph separators
# U+2028/U+2029: `str.splitlines()` (pabutools' reader), browsers' URL parsers and HTTP headers
# treat many of them as line breaks, and none has a place in a one-line text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A multi-line text (a description) keeps its line breaks and tabs, which are pasted from any
# editor; every other control character is refused there too.
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")

# Spreadsheet programs run a cell starting with one of these as a formula (OWASP "CSV
# injection"; ASVS 5.0 1.2.10 adds NUL). A newline is added for programs that skip it first.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00")


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """True when `text` holds a control character (line breaks and tabs allowed if multiline)."""
    pattern = _CONTROL_BUT_LINES if multiline else _CONTROL
    return pattern.search(text) is not None


def one_line(text: str) -> str:
    """`text` with every control character and line separator replaced by a space."""
    return _CONTROL.sub(" ", text)


def csv_cell(value: Any) -> Any:
    """A text cell that would start a formula gets a leading apostrophe; other values as given.

    Only text is neutralised: numbers are passed to the writer as numbers (int, Decimal), so a
    genuine negative amount stays readable as one, while a citizen's title "-1+1" does not run.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class FormulaSafeWriter:
    """`csv.writer` whose every row goes through `csv_cell`: no exporter can forget a column."""

    def __init__(self, out: TextIO, **fmtparams: Any) -> None:
        self._writer = csv.writer(out, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
