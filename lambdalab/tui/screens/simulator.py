"""The simulator: a scenario running in virtual time, shown live, with play, pause, step, speed and knobs.

The engine runs in a worker thread (LiveRun slices its work so the UI thread
never waits long); the screen reads it ten times a second and never redraws
per engine event. Every view shows the same window of virtual time, so a
column is one instant in each; a time cursor (keys or a click) pins the
window, and the inspector tells what happened under it in the words the
graded checks use (lambdalab.engine.explain).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, RichLog, Static
from textual.worker import get_current_worker

from lambdalab.charts import time_axis
from lambdalab.course.model import Variation
from lambdalab.engine.explain import EXPLAINED, sentence
from lambdalab.engine.real_code import RealEnvironmentsExceeded
from lambdalab.engine.report import build_report
from lambdalab.inputs import load_yaml
from lambdalab.inputs.sam import as_scenario
from lambdalab.tui import views
from lambdalab.tui.knobs import KnobSettings, apply, scenario_from
from lambdalab.tui.live_run import LiveRun, clock
from lambdalab.tui.screens.compare import CompareScreen
from lambdalab.tui.screens.knobs import KnobsScreen
from lambdalab.tui.views import LABEL_WIDTH, fit_words
from lambdalab.tui.widgets.concurrency_chart import ConcurrencyChart
from lambdalab.tui.widgets.env_timeline import LEGEND, EnvironmentTimeline
from lambdalab.tui.widgets.lane_view import CursorAt, LaneView
from lambdalab.tui.widgets.run_panels import AsyncPanel, Counters
from lambdalab.tui.window import Window

SPEEDS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
TICK_S = 0.1  # the UI samples the engine ten times a second
DEFAULT_SPEED = 1
OFF_SCALE = 4  # a limit more than this many times the chart's highest value is named, not drawn
SPANS = (10, 30, 60, 120, 300, 600, 1800, 3600, 6 * 3600, 86400, 7 * 86400)  # the window's widths, zooming
DEFAULT_SPAN = 120  # the whole of a short demo; a longer run's last two minutes until zoomed out
LOG_LINES = 40  # up to the cursor (or now): more than the panel shows, to scroll back a little
LOG_REDRAWS_PER_S = 3
SHOWN_EVENTS = 5  # the inspector's sentences for one column; the rest are counted
VIEW_NAMES = {
    "environments": "Environments",
    "concurrency": "Concurrency",
    "async": "Async",
    "sqs": "SQS",
    "streams": "Streams",
    "versions": "Versions",
    "access": "Access",
    "managed": "Managed",
    "durable": "Durable",
    "tenants": "Tenants",
    "numbers": "Numbers",
}
MIN_HEIGHT = {"environments": 4, "concurrency": 6}  # the rest: lanes need about this (the axis: 2 more, once)
LANES_MIN_HEIGHT = 5
JUMPS = {
    "throttle": "throttle",
    "retry": "async_wait",
    "cold start": "cold_start",
    "scaling decision": "scale",
    "durable resume": "durable_resume",
}
INTEREST = (
    "scale",  # one decision explains the throttles around it
    "instance_start",
    "throttle",
    "rejected",
    "denied",
    "recursion_stop",
    "async_drop",
    "redrive",
    "batch_discarded",
    "durable_end",
    "deployment",
    "pollers",
    "durable_callback",
    "durable_start",
    "durable_resume",
    "durable_suspend",
    "batch_done",
    "window_final_done",
    "async_wait",
    "failure",
    "delivery",
    "edge_answer",
    "cold_start",
)  # the inspector's order, most telling first
KIND_NAMES = {
    "throttle": "throttled",
    "denied": "denied",
    "async_drop": "given up",
    "redrive": "redriven",
    "batch_discarded": "records given up",
    "deployment": "deployment step",
    "async_wait": "retry wait",
    "failure": "failed",
    "delivery": "destination record",
    "batch_done": "batch ended",
    "window_final_done": "window final invocation",
    "edge_answer": "CloudFront answer",
    "cold_start": "cold start",
    "recursion_stop": "recursive loop stopped",
    "rejected": "refused",
    "pollers": "pollers changed",
    "scale": "scaling decision",
    "instance_start": "instance launched",
    "durable_start": "durable start",
    "durable_suspend": "suspended",
    "durable_resume": "resumed",
    "durable_callback": "callback",
    "durable_end": "execution ended",
}


def _interest(kind: str, data: dict) -> int:
    """Where an event comes in the inspector: by kind, a batch that succeeded after everything else."""
    if kind == "batch_done" and (data.get("outcome") == "processed" or data.get("failed") == []):
        return len(INTEREST)
    return INTEREST.index(kind)


class SimulatorScreen(Screen):
    CSS_PATH = "simulator.tcss"
    BINDINGS = [
        Binding("space", "toggle_play", "Play/pause"),
        Binding("full_stop", "step", "Step", show=False),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("left", "cursor(-1)", "Cursor", priority=True),
        Binding("right", "cursor(1)", "Cursor right", priority=True, show=False),
        Binding("shift+left", "cursor(-10)", "Cursor 10 left", show=False, priority=True),
        Binding("shift+right", "cursor(10)", "Cursor 10 right", show=False, priority=True),
        Binding("l", "live", "Live edge", show=False),
        Binding("t", "jump('throttle')", "Next throttle"),
        Binding("y", "jump('retry')", "Next retry", show=False),
        Binding("s", "jump('cold start')", "Next cold start", show=False),
        Binding("g", "jump('scaling decision')", "Next Managed Instances scaling decision", show=False),
        Binding("d", "jump('durable resume')", "Next durable execution resumed", show=False),
        Binding("v", "next_view", "Next view"),
        Binding("left_square_bracket", "zoom(-1)", "Zoom in", show=False),
        Binding("right_square_bracket", "zoom(1)", "Zoom out", show=False),
        Binding("e", "run_to_end", "Run to end", show=False),
        Binding("r", "restart", "Restart", show=False),
        Binding("k", "knobs", "Knobs"),
        Binding("c", "compare", "Compare", show=False),
        Binding("f", "next_function", "Chart: next function", show=False),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(
        self, path: Path, autoplay: bool = True, watch: tuple[str, ...] = (), tries: tuple[Variation, ...] = ()
    ):
        super().__init__()
        self.path = path
        self.autoplay = autoplay
        self.to_watch = watch  # not self.watch, which would hide Textual's DOMNode.watch method
        self.tries = tries
        # InputErrors propagate to the caller, which shows them; a SAM template is the scenario it describes,
        # which the knobs change
        self.data = as_scenario(load_yaml(path)).data
        self.changes = "as written"
        self.scenario = scenario_from(self.data, str(path))
        self.run = LiveRun(self.scenario)
        self.speed_index = SPEEDS.index(DEFAULT_SPEED)
        self.playing = False
        self.to_end = False
        self.previous: dict | None = None  # the last run's report, for the comparison
        self.chart_function = next(iter(self.scenario.functions))
        self.views = views.features(self.scenario)
        self.first_view = 0  # the views shown start here (all of them when the screen is tall enough)
        self.span = min((s for s in SPANS if s >= min(DEFAULT_SPAN, self.scenario.duration)), default=SPANS[-1])
        self.cursor_t: float | None = None  # None: the window follows the run's live edge
        self.window = Window(0.0, float(self.span), 1)
        self._log_key: tuple = ()
        self._log_drawn = 0.0  # when the log was last redrawn (monotonic seconds)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="sim-status")
        yield Static(id="view-tabs")
        with Horizontal(id="sim-main"):
            with Vertical(id="sim-views"):
                with Vertical(id="view-environments", classes="view"):
                    yield Static(id="timeline-title", classes="view-title")
                    yield EnvironmentTimeline(id="timeline")
                    yield Static(Content(LEGEND), id="timeline-legend")
                    yield Static(id="timeline-axis")
                yield ConcurrencyChart(id="chart", classes="view")
                for name in self.views[2:]:
                    yield LaneView(id=f"view-{name}", classes="view")
                yield Static(id="inspect")
            with Vertical(id="sim-right"):
                yield Counters(id="counters")
                yield AsyncPanel(id="async")
                yield Static(Content(self._guide()), id="guide")
        yield RichLog(id="sim-log", max_lines=LOG_LINES * 4, wrap=True, markup=False, highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.scenario.name
        self.set_interval(TICK_S, self._tick)
        self._drive()
        self.playing = self.autoplay
        self._tick()
        self.query_one("#timeline", EnvironmentTimeline).focus()

    def _guide(self) -> str:
        lines = []
        if self.to_watch:
            lines += ["Watch:", *(f"- {w}" for w in self.to_watch)]
        for n, v in enumerate(self.tries, 1):
            lines += [f"Try this ({n}): {v.change} (k opens the knobs)", f"  Predict first: {v.predict}"]
        return "\n".join(lines)

    # --- the engine, in a worker thread ---------------------------------------------------------

    @work(thread=True, exclusive=True, group="engine")
    def _drive(self) -> None:
        worker = get_current_worker()
        last = time.monotonic()
        while not worker.is_cancelled:
            time.sleep(0.02)
            now = time.monotonic()
            elapsed, last = now - last, now
            run = self.run
            if self.playing and not run.finished:
                try:
                    run.advance_to(run.sim.end if self.to_end else run.now + elapsed * SPEEDS[self.speed_index])
                except RealEnvironmentsExceeded as exc:
                    self.playing = self.to_end = False
                    self.app.call_from_thread(
                        self.notify, str(exc), title="The run stopped", severity="error", timeout=20
                    )

    # --- the UI tick ----------------------------------------------------------------------------

    def _tick(self) -> None:
        view = self.run.read()
        snapshot = view.snapshot
        if snapshot.finished:
            self.playing = self.to_end = False
        self.window = self._place_window(snapshot.time_s)
        column = self.window.column_of(self.cursor_t) if self.cursor_t is not None else None
        with self.app.batch_update():
            self.query_one("#timeline", EnvironmentTimeline).show(self.run, view.environments, self.window, column)
            self._draw_axis()
            self._draw_chart(column)
            wanted = {"environments": min(16, max(2, view.environments)) + 2, "concurrency": 10}
            with self.run.lock:
                for name in self.views[2:]:
                    built = views.BUILDERS[name](self.run, self.window)
                    self.query_one(f"#view-{name}", LaneView).show(built, self.window, column)
                    wanted[name] = len(built.lanes) + 2
            self._size_views(wanted)
            self.query_one("#counters", Counters).show(snapshot, view.costs)
            self.query_one("#async", AsyncPanel).show(snapshot)
            self._draw_log(view.logged)
            self.query_one("#sim-status", Static).update(Content(self._status(snapshot.time_s, snapshot.finished)))
            self.query_one("#timeline-title", Static).update(Content(self._selection()))
            self.query_one("#inspect", Static).update(Content(self._inspect()))
            self.query_one("#view-tabs", Static).update(self._tabs())

    # --- the shared window and its cursor --------------------------------------------------------

    def _place_window(self, now: float) -> Window:
        """Following the live edge, the window ends now; with a cursor, it stays put unless the cursor leaves it."""
        columns = max(1, self.query_one("#sim-views").size.width - LABEL_WIDTH)
        span = float(min(self.span, max(SPANS[0], self.scenario.duration)))
        if self.cursor_t is None:
            end = max(now, span)
            return Window(end - span, end, columns)
        start = self.window.start
        if not start <= self.cursor_t < start + span:
            start = self.cursor_t - span / 2
        start = max(0.0, min(start, max(now, span) - span))
        return Window(start, start + span, columns)

    def _draw_axis(self) -> None:
        rule, labels = time_axis(self.window.start, self.window.end, self.window.columns)
        self.query_one("#timeline-axis", Static).update(
            Content(" " * (LABEL_WIDTH - 1) + "└" + rule + "\n" + " " * LABEL_WIDTH + labels)
        )

    def _inspect(self) -> str:
        """The story under the cursor, in the graded checks' words; or how to get one."""
        if self.cursor_t is None:
            more = "".join(
                f" {key}: the next {what}."
                for view, key, what in (("managed", "g", "scaling decision"), ("durable", "d", "durable resume"))
                if view in self.views
            )
            return (
                "Live: the views follow the run. ← → put a time cursor on them (or click a column); t, y, s jump "
                "to the next throttle, retry or cold start; [ ] zoom; l back to live." + more
            )
        t0, t1 = self.window.bucket(self.window.column_of(self.cursor_t) or 0)
        with self.run.lock:
            found = self.run.recorder.between(EXPLAINED, t0, t1)
        found.sort(key=lambda event: (_interest(event[1], event[2]), event[0]))  # the rare and telling first
        kinds = Counter(kind for _, kind, _ in found)
        head = f"Cursor at t = {t0:,.2f}–{t1:,.2f} s: " + (
            ", ".join(f"{n} {KIND_NAMES[kind]}" for kind, n in kinds.most_common()) + "."
            if found
            else "nothing happened here."
        )
        lines = [
            head,
            *(sentence(kind, t, data, self.scenario, self._request_name) for t, kind, data in found[:SHOWN_EVENTS]),
        ]
        if len(found) > SHOWN_EVENTS:
            lines.append(f"… and {len(found) - SHOWN_EVENTS} more in this column ([ zooms in).")
        return "\n".join(lines)

    def _request_name(self, number: int | None) -> str:
        """A request by its number and the start of its RequestId, as the log shows it."""
        return str(number) if number is None else f"{number} ({self.run.sim.request_id(number)[:8]})"

    def _draw_log(self, logged: int) -> None:
        """The log up to the cursor (or now), each line at its own time. Redrawn when that changes, and while
        the run plays at most LOG_REDRAWS_PER_S times a second: nobody reads a log faster."""
        until = self.cursor_t if self.cursor_t is not None else self.run.now
        key = (logged, self.cursor_t)
        now = time.monotonic()
        if key == self._log_key or (self.playing and now - self._log_drawn < 1 / LOG_REDRAWS_PER_S):
            return
        self._log_key, self._log_drawn = key, now
        log = self.query_one("#sim-log", RichLog)
        log.clear()
        width = log.scrollable_content_region.width or None  # wrapped to the panel, not to an 80-column console
        lines = [
            f"{clock(time_s)}  {function}: {text.replace(chr(9), '  ')}"
            for time_s, function, text in self.run.log_lines(until, LOG_LINES)
        ]
        if lines:
            log.write(Text("\n".join(lines)), width=width)

    def _tabs(self) -> Text:
        tabs = Text("Views: ", style="dim")
        shown = self._shown_views()
        for name in self._view_names():
            tabs.append(f" {VIEW_NAMES[name]} ", style="reverse" if name in shown else "")
        hint = fit_words(f"  v: next · {self._span_label()} window, [ ] zoom", self.size.width - tabs.cell_len)
        tabs.append(hint if hint != "…" else "", style="dim")
        return tabs

    def _span_label(self) -> str:
        span = min(self.span, max(SPANS[0], self.scenario.duration))
        return f"{span / 3600:g} h" if span >= 3600 else f"{span / 60:g} min" if span >= 60 else f"{span:g} s"

    def _status(self, now: float, finished: bool) -> str:
        state = (
            "finished"
            if finished
            else ("running to the end" if self.to_end else "playing" if self.playing else "paused")
        )
        glyph = "■" if finished else "▶" if self.playing else "‖"
        if state == "paused" and now == 0.0:
            state = "paused: Space plays"
        return (
            f" {glyph} {state} at {SPEEDS[self.speed_index]:g}x   t = {now:,.1f} s of {self.run.sim.end:,.0f} s"
            f"   seed {self.run.sim.seed}   settings: {self.changes}"
        )

    def _selection(self) -> str:
        """The timeline's title: the environment picked with ↑↓ and the request it serves."""
        selected = self.query_one("#timeline", EnvironmentTimeline).selected
        if selected is None:
            return "Environments: one row each (↑↓ pick one)"
        serving = (
            f" serving {selected.request_id[:8]}" if selected.request_id and selected.state in ("busy", "init") else ""
        )
        return f"Environments: {selected.function}#{selected.env} is {selected.state}{serving} (↑↓ pick)"

    def _draw_chart(self, column: int | None) -> None:
        name = self.chart_function
        sim, step = self.run.sim, self.run.recorder.step
        with self.run.lock:
            sampler = sim.sampler
            members = sampler.members[name]
            peaks = sampler.family_concurrency.get(name) or sampler.concurrency[members[0].name]
            busy = views.levels(peaks, step, self.window)
            throttled = [
                sum(c)
                for c in zip(*(views.counts(sampler.counts[m.name]["throttles"], step, self.window) for m in members))
            ]
        fn = self.scenario.functions[name]
        account = self.scenario.account.concurrency
        limits = {f"account {account:,}": account}
        if fn.reserved_concurrency is not None:
            limits[f"reserved {fn.reserved_concurrency:,}"] = fn.reserved_concurrency
        else:  # an unreserved function shares what reservations leave of the account's concurrency
            unreserved = self.run.sim.account.unreserved_capacity
            if unreserved != account:
                limits[f"unreserved {unreserved:,}"] = unreserved
        if fn.provisioned_concurrency:
            limits[f"provisioned {fn.provisioned_concurrency:,}"] = fn.provisioned_concurrency
        # A limit far above everything else would squash the columns to a line: name it instead of drawing it.
        scale = max([*busy, *(v for k, v in limits.items() if not k.startswith("account")), 1])
        off_scale = {k: v for k, v in limits.items() if v > OFF_SCALE * scale}
        title = f"Concurrency of {name} (f: next function)"
        if off_scale:
            title += f", {', '.join(off_scale)} above"
        self.query_one("#chart", ConcurrencyChart).show(
            title, busy, throttled, {k: v for k, v in limits.items() if k not in off_scale}, self.window, column
        )

    @on(EnvironmentTimeline.Moved)
    def _moved(self) -> None:
        self.query_one("#timeline-title", Static).update(Content(self._selection()))

    @on(CursorAt)
    def _clicked(self, event: CursorAt) -> None:
        self._put_cursor(event.time)

    # --- which views are on screen -----------------------------------------------------------------

    @property
    def narrow(self) -> bool:
        """Below 110 columns the side panel of numbers is a view of its own, not a column beside the views."""
        return self.size.width < 110

    def _view_names(self) -> list[str]:
        return [*self.views, "numbers"] if self.narrow else list(self.views)

    def _shown_views(self) -> list[str]:
        """As many views as fit the height, from the one chosen with v: all of them on a tall screen."""
        names = self._view_names()
        room = self.query_one("#sim-views").size.height - max(3, self.query_one("#inspect").size.height)
        shown: list[str] = []
        for name in names[self.first_view :] + names[: self.first_view]:
            need = MIN_HEIGHT.get(name, LANES_MIN_HEIGHT)
            if shown and (name == "numbers" or "numbers" in shown or need + 2 > room):
                break
            shown.append(name)
            room -= need
        return shown

    def _lay_out(self) -> None:
        shown = self._shown_views()
        numbers_only = shown == ["numbers"]
        for name in self.views:
            widget = self.query_one("#chart" if name == "concurrency" else f"#view-{name}")
            widget.display = name in shown
        self.query_one("#sim-right").display = not self.narrow or numbers_only
        self.query_one("#sim-views").display = not numbers_only
        last = self._lowest(shown)  # the lowest view draws the time axis they all share
        self.query_one("#timeline-axis").display = last == "environments"
        self.query_one("#chart", ConcurrencyChart).with_axis = last == "concurrency"
        for name in self.views[2:]:
            self.query_one(f"#view-{name}", LaneView).with_axis = last == name

    def _lowest(self, shown: list[str]) -> str | None:
        """The view drawn lowest on screen: views stand in the scenario's order, whichever one v brought first."""
        return next((name for name in reversed(self._view_names()) if name in shown), None)

    def _size_views(self, wanted: dict[str, int]) -> None:
        """Share the height among the views on screen: each its minimum, then what it wants in turn from the
        room left, the concurrency chart last (it draws well at any height)."""
        shown = [name for name in self._shown_views() if name != "numbers"]
        room = self.query_one("#sim-views").size.height - self.query_one("#inspect").outer_size.height
        lowest = self._lowest(shown)
        heights = {name: MIN_HEIGHT.get(name, LANES_MIN_HEIGHT) + 2 * (name == lowest) for name in shown}
        left = room - sum(heights.values())
        for name in sorted(shown, key=lambda n: n == "concurrency"):
            extra = max(0, min(left, wanted[name] + 2 * (name == lowest) - heights[name]))
            heights[name] += extra
            left -= extra
        if "concurrency" in heights:
            heights["concurrency"] += max(0, left)
        for name, height in heights.items():
            widget = self.query_one("#chart" if name == "concurrency" else f"#view-{name}")
            if widget.styles.height is None or widget.styles.height.value != height:
                widget.styles.height = height

    def on_resize(self) -> None:
        self.call_after_refresh(self._relayout)

    def _relayout(self) -> None:
        self._log_key = ()  # rewrap the log to its new width
        self._lay_out()
        self._tick()

    # --- actions --------------------------------------------------------------------------------

    def action_toggle_play(self) -> None:
        self.playing = not self.playing and not self.run.finished
        self.to_end = False
        self._tick()

    def action_step(self) -> None:
        self.playing = self.to_end = False
        self.run.step(1)
        self._tick()

    def action_faster(self) -> None:
        self.speed_index = min(len(SPEEDS) - 1, self.speed_index + 1)
        self._tick()

    def action_slower(self) -> None:
        self.speed_index = max(0, self.speed_index - 1)
        self._tick()

    def action_run_to_end(self) -> None:
        self.playing = self.to_end = not self.run.finished
        self._tick()

    def action_cursor(self, columns: int) -> None:
        """Move the time cursor by columns; the first press puts it at the newest column."""
        self.playing = self.to_end = False
        if self.cursor_t is None:
            self._put_cursor(self.window.end - self.window.per_column / 2)
            return
        self._put_cursor(self.cursor_t + columns * self.window.per_column)

    def _put_cursor(self, time_s: float) -> None:
        self.playing = self.to_end = False
        self.cursor_t = max(0.0, min(time_s, self.run.now))
        self._tick()

    def action_live(self) -> None:
        self.cursor_t = None
        self._tick()

    def action_jump(self, what: str) -> None:
        """To the next throttle, retry or cold start after the cursor (from the window's start when live)."""
        after = (
            self.window.bucket(self.window.column_of(self.cursor_t) or 0)[1]
            if self.cursor_t is not None
            else self.window.start
        )
        kind = JUMPS[what]
        with self.run.lock:
            found = self.run.recorder.between((kind,), after, float("inf"))
        if not found:
            self.notify(f"No {what} after t = {after:,.2f} s yet.")
            return
        self._put_cursor(found[0][0])

    def action_next_view(self) -> None:
        names = self._view_names()
        self.first_view = (self.first_view + len(self._shown_views())) % len(names) if len(names) > 1 else 0
        self._lay_out()
        self.call_after_refresh(self._tick)

    def show_view(self, name: str) -> None:
        """Bring one view to the top of those shown (what `v` steps through)."""
        self.first_view = self._view_names().index(name)
        self._lay_out()
        self.call_after_refresh(self._tick)

    def action_zoom(self, direction: int) -> None:
        index = SPANS.index(self.span) if self.span in SPANS else 0
        self.span = SPANS[max(0, min(len(SPANS) - 1, index + direction))]
        self._tick()

    def action_restart(self) -> None:
        self._replace_run(self.scenario)

    def action_next_function(self) -> None:
        names = list(self.scenario.functions)
        self.chart_function = names[(names.index(self.chart_function) + 1) % len(names)]
        self._tick()

    def action_knobs(self) -> None:
        self.playing = False
        self.app.push_screen(KnobsScreen(self.data, str(self.path), self.chart_function), self._knobs_done)

    def _knobs_done(self, settings: KnobSettings | None) -> None:
        if settings is None:
            return
        self.previous = self._report()
        self.data = apply(self.data, settings)
        changed = ", ".join(f"{k}={v}" for k, v in settings.values.items()) if settings.values else ""
        rate = f", traffic x{settings.rate_multiplier:g}" if settings.rate_multiplier != 1.0 else ""
        self.changes = f"{settings.function}: {changed}{rate}"
        self._replace_run(scenario_from(self.data, str(self.path)))
        self.playing = True
        self.notify("Re-running with the new settings. Press c to compare with the previous run.")

    def action_compare(self) -> None:
        if self.previous is None:
            self.notify("Change a knob first (k): the comparison is between the previous run and this one.")
            return
        self.app.push_screen(CompareScreen(self.previous, self._report()))

    def _report(self) -> dict:
        with self.run.lock:
            report = build_report(self.run.sim)
        report["changes"] = self.changes
        return report

    def on_unmount(self) -> None:
        self.run.close()

    def _replace_run(self, scenario) -> None:
        self.run.close()
        self.scenario = scenario
        self.run = LiveRun(scenario)
        self.cursor_t = None
        self._log_key = ()
        self._tick()

    # --- for tests and demos: a fixed picture --------------------------------------------------

    def seek(self, time_s: float) -> None:
        """Pause and show the run at virtual `time_s` (snapshot tests use this for a stable screen)."""
        self.playing = self.to_end = False
        self.run.advance_to(time_s)
        self._tick()
