"""The span of virtual time the simulator's views show, shared by all of them so a column is one instant."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Window:
    """The span of virtual time on screen, cut into columns."""

    start: float
    end: float
    columns: int

    @property
    def per_column(self) -> float:
        return (self.end - self.start) / max(1, self.columns)

    def column_of(self, time: float) -> int | None:
        column = int((time - self.start) / self.per_column)
        return column if 0 <= column < self.columns and self.start <= time <= self.end else None

    @cached_property
    def edges(self) -> list[float]:
        """Where each column starts, and where the last one ends."""
        return [self.start + c * self.per_column for c in range(self.columns + 1)]

    def bucket(self, column: int) -> tuple[float, float]:
        return self.start + column * self.per_column, self.start + (column + 1) * self.per_column
