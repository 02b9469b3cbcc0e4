"""One row per execution environment, virtual time left to right: init, busy, idle and shut down.

A line-API widget: only the rows on screen are drawn, so a thousand
environments cost what the visible forty do. Each state has its own glyph as
well as its colour, and a cold start is marked where its Init began.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from lambdalab.tui.live_run import BUSY, GONE, IDLE, INIT, EnvironmentTrack

LABEL_WIDTH = 16
GLYPH = {INIT: "▒", BUSY: "█", IDLE: "·", GONE: " "}
COLD = "❄"
LEGEND = f"{GLYPH[INIT]} init   {GLYPH[BUSY]} busy   {GLYPH[IDLE]} idle   {COLD} cold start   (blank: shut down)"


class EnvironmentTimeline(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"timeline--init", "timeline--busy", "timeline--idle", "timeline--label", "timeline--cursor"}
    BINDINGS = [Binding("up", "move(-1)", "Up", show=False), Binding("down", "move(1)", "Down", show=False)]
    DEFAULT_CSS = """
    EnvironmentTimeline { height: 1fr; }
    EnvironmentTimeline > .timeline--init { color: $warning; }
    EnvironmentTimeline > .timeline--busy { color: $primary; }
    EnvironmentTimeline > .timeline--idle { color: $text-muted; }
    EnvironmentTimeline > .timeline--label { color: $text-muted; }
    EnvironmentTimeline > .timeline--cursor { background: $boost; text-style: bold; }
    """

    cursor = reactive(0)

    class Moved(Message):
        """The cursor moved to another environment."""

    def __init__(self, window_s: float = 30.0, **kwargs):
        super().__init__(**kwargs)
        self.window_s = window_s
        self.tracks: list[EnvironmentTrack] = []
        self.now = 0.0

    def show(self, tracks: list[EnvironmentTrack], now: float) -> None:
        """New data from the UI tick: keep environments in creation order, function by function."""
        self.tracks = sorted(tracks, key=lambda t: (t.function, t.env))
        self.now = now
        self.virtual_size = Size(self.size.width, len(self.tracks))
        self.cursor = min(self.cursor, max(0, len(self.tracks) - 1))
        self.refresh()

    @property
    def selected(self) -> EnvironmentTrack | None:
        return self.tracks[self.cursor] if self.tracks else None

    def action_move(self, delta: int) -> None:
        if self.tracks:
            self.cursor = max(0, min(len(self.tracks) - 1, self.cursor + delta))
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False)
            self.refresh()
            self.post_message(self.Moved())

    def render_line(self, y: int) -> Strip:
        row = y + int(self.scroll_offset.y)
        width = self.size.width
        if row >= len(self.tracks):
            return Strip.blank(width, self.rich_style)
        track = self.tracks[row]
        columns = max(1, width - LABEL_WIDTH)
        cells = self._cells(track, columns)
        styles = {state: self.get_component_rich_style(f"timeline--{state}") for state in (INIT, BUSY, IDLE)}
        label_style = self.get_component_rich_style("timeline--label")
        if row == self.cursor and self.has_focus:
            label_style = label_style + self.get_component_rich_style("timeline--cursor")
        name = f"{track.function[:9]}#{track.env}{'P' if track.provisioned else ''}"
        segments = [Segment(f"{name:<{LABEL_WIDTH - 1}} ", label_style)]
        for glyph, state in cells:
            segments.append(Segment(glyph, styles.get(state, Style())))
        return Strip(segments).crop_extend(0, width, None).simplify()

    def _cells(self, track: EnvironmentTrack, columns: int) -> list[tuple[str, str]]:
        """One (glyph, state) per column; each column covers window_s / columns of virtual time."""
        start = self.now - self.window_s
        per_column = self.window_s / columns
        spans = [*track.spans, (track.since, self.now, track.state)]
        cells = [(" ", GONE)] * columns
        for begin, end, state in spans:
            if end <= start:
                continue
            first = max(0, int((begin - start) / per_column))
            last = min(columns - 1, int((end - start) / per_column - 1e-9))
            for c in range(first, last + 1):
                if state == BUSY or cells[c][1] in (GONE, IDLE):  # busy wins a shared column: it is what you look for
                    cells[c] = (GLYPH[state], state)
            if state == INIT and first < columns:
                cells[first] = (COLD, INIT)
        return cells
