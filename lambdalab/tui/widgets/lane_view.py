"""A concept view drawn as lanes over the simulator's shared window of virtual time, with a time axis.

A line-API widget: the screen hands it a views.View (lanes of glyph and style name per column) and the
cursor's column; it colours them from its component classes, pads every cell with its own background
(a browser shows unstyled cells black), and turns a click into a cursor time.
"""

from __future__ import annotations

from itertools import groupby

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from lambdalab.charts import time_axis
from lambdalab.tui.views import LABEL_WIDTH, View, fit_words
from lambdalab.tui.window import Window

STYLES = ("busy", "init", "idle", "warn", "bad", "good", "muted", "mark")
NOTHING_YET = "nothing here yet in this run"  # a view without lanes (yet)


class CursorAt(Message):
    """A click on a view: put the time cursor at `time`."""

    def __init__(self, time: float):
        super().__init__()
        self.time = time


class CachedStyles(Widget):
    """Component styles looked up once, not per row: the lookup is most of what a redraw costs at ten a
    second. A theme or stylesheet change empties the cache."""

    def style(self, name: str | None) -> Style:
        """A component class's style; None: the widget's own (its background, for blank cells)."""
        cache = self.__dict__.setdefault("_style_cache", {})
        if name not in cache:
            cache[name] = self.rich_style if name is None else self.get_component_rich_style(name)
        return cache[name]

    def notify_style_update(self) -> None:
        self.__dict__.pop("_style_cache", None)
        super().notify_style_update()


class WindowRows(CachedStyles):
    """What every view over the shared window does: rows of segments drawn once per update, the cursor's column
    on the cursor's background, blank cells in the widget's own, and a click that moves the cursor."""

    CURSOR_CLASS = ""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.window = Window(0.0, 1.0, 1)
        self.cursor: int | None = None
        self.with_axis = True  # only the lowest view on screen draws the time axis they share
        self._rows: list[list[Segment]] = []

    def _draw(self) -> list[list[Segment]]:
        raise NotImplementedError

    def cells(self, cells: list[tuple[str, Style | None]]) -> list[Segment]:
        """Glyphs with their styles (None: blank) as runs of segments."""
        cursor = self.style(self.CURSOR_CLASS)
        segments = []
        for (style, under), run in groupby(enumerate(cells), key=lambda item: (item[1][1], item[0] == self.cursor)):
            base = self.style(None) if style is None else style
            segments.append(Segment("".join(cell[0] for _, cell in run), base + cursor if under else base))
        return segments

    def axis(self, style: Style) -> list[list[Segment]]:
        if not self.with_axis:
            return []
        rule, labels = time_axis(self.window.start, self.window.end, self.window.columns)
        return [[Segment(" " * (LABEL_WIDTH - 1) + "└" + rule, style)], [Segment(" " * LABEL_WIDTH + labels, style)]]

    def on_resize(self) -> None:
        self._rows = self._draw()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y >= len(self._rows):
            return Strip.blank(width, self.style(None))
        return Strip(self._rows[y]).crop_extend(0, width, self.style(None))

    def on_click(self, event: events.Click) -> None:
        column = event.x - LABEL_WIDTH
        if 0 <= column < self.window.columns:
            t0, t1 = self.window.bucket(column)
            self.post_message(CursorAt((t0 + t1) / 2))


class LaneView(WindowRows):
    COMPONENT_CLASSES = {*(f"lane--{s}" for s in STYLES), "lane--label", "lane--title", "lane--cursor", "lane--axis"}
    CURSOR_CLASS = "lane--cursor"
    DEFAULT_CSS = """
    LaneView { height: auto; max-height: 24; }
    LaneView > .lane--busy { color: $primary; }
    LaneView > .lane--init { color: $secondary; }
    LaneView > .lane--idle { color: $text-muted; }
    LaneView > .lane--warn { color: $warning; }
    LaneView > .lane--bad { color: $error; }
    LaneView > .lane--good { color: $success; }
    LaneView > .lane--muted { color: $text-muted; }
    LaneView > .lane--mark { color: $accent; text-style: bold; }
    LaneView > .lane--label { color: $text-muted; }
    LaneView > .lane--title { text-style: bold; }
    LaneView > .lane--axis { color: $text-muted; }
    LaneView > .lane--cursor { background: $boost; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.view: View | None = None

    def show(self, view: View, window: Window, cursor: int | None) -> None:
        grew = self.view is None or len(self.view.lanes) != len(view.lanes)
        self.view, self.window, self.cursor = view, window, cursor
        self._rows = self._draw()
        self.refresh(layout=grew)

    def get_content_height(self, container, viewport, width: int) -> int:
        """As tall as its lanes (a title, the lanes, a key and the axis): no empty rows below a short view."""
        return max(1, len(self.view.lanes) if self.view else 1) + 2 + 2 * self.with_axis

    def _draw(self) -> list[list[Segment]]:
        view, width = self.view, self.size.width
        if view is None:
            return []
        style = self.style
        label = style("lane--label")
        styles = {name: style(f"lane--{name}") for name in STYLES}
        rows = [[Segment(fit_words(view.title, width), style("lane--title"))]]
        room = max(1, self.size.height - 2 - 2 * self.with_axis)  # a title, the key and the axis take the rest
        lanes = list(view.lanes)
        if not lanes:
            rows.append([Segment(" " * LABEL_WIDTH + NOTHING_YET, label)])
        hidden = len(lanes) - room + 1 if len(lanes) > room else 0
        for lane in lanes[: len(lanes) - hidden]:
            if lane.heading:
                rows.append([Segment(fit_words(lane.label, width), style("lane--title"))])
                continue
            rows.append(
                [
                    Segment(f"{lane.label[: LABEL_WIDTH - 1]:<{LABEL_WIDTH - 1}} ", label),
                    *self.cells([(glyph, styles.get(kind)) for glyph, kind in lane.cells]),
                ]
            )
        if hidden:
            rows.append(
                [Segment(fit_words(f"… {hidden} more lane(s): a taller window, or fewer views (v)", width), label)]
            )
        rows.append([Segment(fit_words(view.key, width), label)])
        return rows + self.axis(style("lane--axis"))
