"""Errors that point an author at the exact place to fix."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class InputError:
    """One problem in an input file: where it is, which key, and what is wrong."""

    file: str
    line: int  # 1-based; 0 when the problem has no position (an unreadable file)
    column: int
    path: str  # dotted key path, e.g. "functions.api.memory"; "" for the whole file
    message: str
    # Set when the input is valid for the contract but uses a feature the engine does not have yet:
    # course validation accepts such a demo and reports what it waits for.
    waits_for: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class InputErrors(Exception):
    """Every problem found in one input file, in file order."""

    def __init__(self, errors: list[InputError]):
        self.errors = sorted(errors, key=lambda e: (e.line, e.column, e.path))
        super().__init__("\n".join(str(e) for e in self.errors))


def did_you_mean(word: str, options: list[str]) -> str:
    """' (did you mean 'memory'?)' for a near miss, else ''."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
