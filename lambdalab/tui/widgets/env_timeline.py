"""One row per execution environment, virtual time left to right: init, busy, idle and shut down.

A line-API widget: it asks the live run for the rows in view only, so a
thousand environments cost what the visible forty do. Each state has its own
glyph as well as its colour, and a cold start is marked where its Init began.
"""

from __future__ import annotations

from itertools import groupby

from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from lambdalab.tui.live_run import BUSY, GONE, IDLE, INIT, LiveRun, TimelineRow
from lambdalab.tui.views import LABEL_WIDTH
from lambdalab.tui.widgets.lane_view import CachedStyles, CursorAt
from lambdalab.tui.window import Window

GLYPH = {INIT: "▒", BUSY: "█", IDLE: "·", GONE: " ", "cold": "❄"}
LEGEND = (
    f"{GLYPH[INIT]} init   {GLYPH[BUSY]} busy   {GLYPH[IDLE]} idle   {GLYPH['cold']} cold start   (blank: shut down)"
)


class EnvironmentTimeline(ScrollView, CachedStyles, can_focus=True):
    COMPONENT_CLASSES = {
        "timeline--init",
        "timeline--busy",
        "timeline--idle",
        "timeline--label",
        "timeline--cursor",
        "timeline--column",
    }
    BINDINGS = [Binding("up", "move(-1)", "Up", show=False), Binding("down", "move(1)", "Down", show=False)]
    DEFAULT_CSS = """
    EnvironmentTimeline { height: 1fr; }
    EnvironmentTimeline > .timeline--init { color: $warning; }
    EnvironmentTimeline > .timeline--busy { color: $primary; }
    EnvironmentTimeline > .timeline--idle { color: $text-muted; }
    EnvironmentTimeline > .timeline--label { color: $text-muted; }
    EnvironmentTimeline > .timeline--cursor { background: $boost; text-style: bold; }
    EnvironmentTimeline > .timeline--column { background: $boost; }
    """

    cursor = reactive(0, init=False)

    class Moved(Message):
        """The cursor moved to another environment."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.run: LiveRun | None = None
        self.total = 0
        self.first = 0  # the row index of rows[0]
        self.rows: list[TimelineRow] = []
        self.selected: TimelineRow | None = None
        self.window = Window(0.0, 1.0, 1)
        self.column: int | None = None  # the time cursor's column

    def show(self, run: LiveRun, total: int, window: Window, column: int | None) -> None:
        """New data from the UI tick."""
        self.run, self.total, self.window, self.column = run, total, window, column
        self.virtual_size = Size(self.size.width, total)
        self.cursor = min(self.cursor, max(0, total - 1))
        self._fetch()

    def _fetch(self) -> None:
        if self.run is None:
            return
        self.first = int(self.scroll_offset.y)
        self.rows = self.run.timeline_rows(self.first, self.size.height, self.window)
        picked = self.run.timeline_rows(self.cursor, 1, self.window) if self.total else []
        self.selected = picked[0] if picked else None
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._fetch()

    def on_resize(self) -> None:
        """The simulator gives the timeline more rows as environments appear: fetch the rows now in view."""
        self._fetch()

    def action_move(self, delta: int) -> None:
        if self.total:
            self.cursor = max(0, min(self.total - 1, self.cursor + delta))
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False)
            self._fetch()
            self.post_message(self.Moved())

    def on_click(self, event: events.Click) -> None:
        """The mouse selects too: the row clicked becomes the cursor's, and the column the time cursor's."""
        row = event.y + int(self.scroll_offset.y)
        if 0 <= row < self.total:
            self.action_move(row - self.cursor)
        column = event.x - LABEL_WIDTH
        if 0 <= column < self.window.columns:
            t0, t1 = self.window.bucket(column)
            self.post_message(CursorAt((t0 + t1) / 2))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = y + int(self.scroll_offset.y)
        row = self.rows[index - self.first] if 0 <= index - self.first < len(self.rows) else None
        if row is None:
            return Strip.blank(width, self.style(None))
        styles = {state: self.style(f"timeline--{state}") for state in (INIT, BUSY, IDLE)}
        styles["cold"], styles[GONE] = styles[INIT], self.style(None)
        label_style = self.style("timeline--label")
        if index == self.cursor and self.has_focus:
            label_style = label_style + self.style("timeline--cursor")
        name = f"{row.function[: LABEL_WIDTH - 7]}#{row.env}{'P' if row.provisioned else ''}"
        if row.tenant is not None:  # tenant isolation: the one tenant this environment serves
            name = f"{row.function[:8]}#{row.env} {row.tenant}"[: LABEL_WIDTH - 1]
        segments = [Segment(f"{name:<{LABEL_WIDTH - 1}} ", label_style)]
        # One segment per run of equal cells (and cursor column): a busy row is one segment, not a hundred.
        column_style = self.style("timeline--column")
        for (state, under), run in groupby(enumerate(row.cells), key=lambda item: (item[1], item[0] == self.column)):
            style = styles[state] + column_style if under else styles[state]
            segments.append(Segment(GLYPH[state] * len(list(run)), style))
        return Strip(segments).crop_extend(0, width, self.style(None))
