"""Concurrent executions over the shared window, against the reserved, provisioned and account limits, with the
requests throttled in each column as a series of their own and a time axis.

Columns in the theme's primary colour, limit lines (named at the left, where every view names its lanes)
in warning, throttles in error; every cell padded with the widget's own background.
"""

from __future__ import annotations

from rich.segment import Segment

from lambdalab.charts import BLOCKS, LIMIT
from lambdalab.tui.views import LABEL_WIDTH, fit_words
from lambdalab.tui.widgets.lane_view import WindowRows
from lambdalab.tui.window import Window


class ConcurrencyChart(WindowRows):
    CURSOR_CLASS = "chart--cursor"
    COMPONENT_CLASSES = {
        "chart--bar",
        "chart--limit",
        "chart--axis",
        "chart--throttle",
        "chart--title",
        "chart--cursor",
    }
    DEFAULT_CSS = """
    ConcurrencyChart { height: 1fr; }
    ConcurrencyChart > .chart--bar { color: $primary; }
    ConcurrencyChart > .chart--limit { color: $warning; }
    ConcurrencyChart > .chart--axis { color: $text-muted; }
    ConcurrencyChart > .chart--throttle { color: $error; }
    ConcurrencyChart > .chart--title { text-style: bold; }
    ConcurrencyChart > .chart--cursor { background: $boost; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.title = ""
        self.busy: list[float] = []  # the highest concurrency in each column
        self.throttled: list[int] = []  # requests refused in each column
        self.limits: dict[str, float] = {}

    def show(
        self,
        title: str,
        busy: list[float],
        throttled: list[int],
        limits: dict[str, float],
        window: Window,
        cursor: int | None,
    ) -> None:
        self.title, self.busy, self.throttled, self.limits = title, busy, throttled, limits
        self.window, self.cursor = window, cursor
        self._rows = self._draw()
        self.refresh()

    def _draw(self) -> list[list[Segment]]:
        style = self.style
        bar, limit, axis, throttle = (style(f"chart--{n}") for n in ("bar", "limit", "axis", "throttle"))
        height = max(2, self.size.height - 2 - 2 * self.with_axis)
        top = max([*self.busy, *self.limits.values(), 1])
        rows = [[Segment(fit_words(self.title, self.size.width), style("chart--title"))]]
        for r in range(height, 0, -1):
            low, high = (r - 1) * top / height, r * top / height
            chars = []
            for v in self.busy:
                fill = (v - low) / (high - low)
                chars.append(BLOCKS[-1] if fill >= 1 else BLOCKS[max(0, int(fill * 8))] if fill > 0 else " ")
            names = [name for name, level in self.limits.items() if low < level <= high]
            if names:
                chars = [LIMIT if c == " " else c for c in chars]
            label = ", ".join(names) or (f"{top:g}" if r == height else "0" if r == 1 else "")
            prefix = Segment(f"{label[: LABEL_WIDTH - 2]:>{LABEL_WIDTH - 2}} ┤", limit if names else axis)
            rows.append(
                [prefix, *self.cells([(c, bar if c in BLOCKS[1:] else limit if c == LIMIT else None) for c in chars])]
            )
        peak = max(self.throttled, default=0)
        strip = [
            "▲" if t > 0 and peak <= 1 else BLOCKS[max(1, round(t / peak * 8))] if t > 0 else " "
            for t in self.throttled
        ]
        label = f"throttled {sum(self.throttled):,}"
        rows.append(
            [
                Segment(f"{label[: LABEL_WIDTH - 2]:>{LABEL_WIDTH - 2}} ┤", throttle),
                *self.cells([(c, throttle if c != " " else None) for c in strip]),
            ]
        )
        return rows + self.axis(axis)
