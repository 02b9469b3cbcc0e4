"""Concurrent executions over the last minute, against the reserved and account limits, with throttles marked.

Drawn by lambdalab.charts (the same chart the CLI report prints), coloured
here: columns in the theme's primary colour, limit lines in warning, and a
throttle strip below the axis where requests were refused.
"""

from __future__ import annotations

from itertools import groupby

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from lambdalab.charts import BLOCKS, LIMIT, column_chart, resample

THROTTLE = "▲"


class ConcurrencyChart(Widget):
    COMPONENT_CLASSES = {"chart--bar", "chart--limit", "chart--axis", "chart--throttle"}
    DEFAULT_CSS = """
    ConcurrencyChart { height: 12; }
    ConcurrencyChart > .chart--bar { color: $primary; }
    ConcurrencyChart > .chart--limit { color: $warning; }
    ConcurrencyChart > .chart--axis { color: $text-muted; }
    ConcurrencyChart > .chart--throttle { color: $error; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.title = ""
        self.busy: list[float] = []
        self.throttled: list[float] = []  # requests refused in each sample
        self.limits: dict[str, float] = {}
        self._rows: list[str] = []

    def show(self, title: str, busy: list[float], throttled: list[float], limits: dict[str, float]) -> None:
        self.title, self.busy, self.throttled, self.limits = title, busy, throttled, limits
        self._rows = self._draw()
        self.refresh()

    def _draw(self) -> list[str]:
        height = max(3, self.size.height - 3)
        label_width = 6
        columns = max(1, self.size.width - label_width - 2 - 24)  # room at the right for the limits' names
        busy = resample(self.busy, columns)
        throttled = resample(self.throttled, columns, sum)
        rows = column_chart(busy, height, self.limits, label_width=label_width)
        strip = "".join(THROTTLE if t > 0 else " " for t in throttled)
        total = int(sum(self.throttled))
        return [self.title, *rows, " " * (label_width + 2) + strip + (f"  {THROTTLE} throttled: {total:,}" if total else "")]

    def on_resize(self) -> None:
        self._rows = self._draw()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        text = self._rows[y]
        bar = self.get_component_rich_style("chart--bar")
        limit = self.get_component_rich_style("chart--limit")
        axis = self.get_component_rich_style("chart--axis")
        throttle = self.get_component_rich_style("chart--throttle")
        axis_row = y in (0, len(self._rows) - 2)  # the title and the x axis: their "─" is not a limit

        def style_of(ch: str) -> Style:
            if ch in BLOCKS[1:]:
                return bar
            if ch == LIMIT and not axis_row:
                return limit
            return throttle if ch == THROTTLE else axis

        segments = [Segment("".join(run), style) for style, run in groupby(text, key=style_of)]
        return Strip(segments).crop_extend(0, width, self.rich_style)
