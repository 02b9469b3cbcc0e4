"""The simulator: a scenario running in virtual time, shown live, with play, pause, step, speed and knobs.

The engine runs in a worker thread (LiveRun slices its work so the UI thread
never waits long); the screen samples it ten times a second and never redraws
per engine event.
"""

from __future__ import annotations

import time
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Log, Static
from textual.worker import get_current_worker

from lambdalab.course.model import Variation
from lambdalab.engine.real_code import RealEnvironmentsExceeded
from lambdalab.engine.report import build_report
from lambdalab.inputs import load_yaml
from lambdalab.tui.knobs import KnobSettings, apply, scenario_from
from lambdalab.tui.live_run import LiveRun
from lambdalab.tui.screens.compare import CompareScreen
from lambdalab.tui.screens.knobs import KnobsScreen
from lambdalab.tui.widgets.concurrency_chart import ConcurrencyChart
from lambdalab.tui.widgets.env_timeline import LEGEND, EnvironmentTimeline
from lambdalab.tui.widgets.run_panels import AsyncPanel, Counters

SPEEDS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
TICK_S = 0.1  # the UI samples the engine ten times a second
DEFAULT_SPEED = 1
OFF_SCALE = 4  # a limit more than this many times the chart's highest value is named, not drawn


class SimulatorScreen(Screen):
    BINDINGS = [
        Binding("space", "toggle_play", "Play/pause"),
        Binding("full_stop", "step", "Step"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("e", "run_to_end", "Run to end"),
        Binding("r", "restart", "Restart"),
        Binding("k", "knobs", "Knobs"),
        Binding("c", "compare", "Compare"),
        Binding("f", "next_function", "Chart: next function"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, path: Path, autoplay: bool = True, watch: tuple[str, ...] = (), tries: tuple[Variation, ...] = ()):
        super().__init__()
        self.path = path
        self.autoplay = autoplay
        self.watch = watch
        self.tries = tries
        self.data = load_yaml(path).data  # InputErrors propagate to the caller, which shows them
        self.changes = "as written"
        self.scenario = scenario_from(self.data, str(path))
        self.run = LiveRun(self.scenario)
        self.speed_index = SPEEDS.index(DEFAULT_SPEED)
        self.playing = False
        self.to_end = False
        self.previous: dict | None = None  # the last run's report, for the comparison
        self.chart_function = next(iter(self.scenario.functions))
        self._last_sample_time = -1.0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="sim-status")
        with Horizontal(id="sim-main"):
            with Vertical(id="sim-left"):
                yield EnvironmentTimeline(id="timeline")
                yield Static(Content(LEGEND), id="timeline-legend")
                yield ConcurrencyChart(id="chart")
            with Vertical(id="sim-right"):
                yield Counters(id="counters")
                yield AsyncPanel(id="async")
                yield Static(Content(self._guide()), id="guide")
        yield Log(id="sim-log", max_lines=400)
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
        if self.watch:
            lines += ["Watch:", *(f"- {w}" for w in self.watch)]
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
                    self.app.call_from_thread(self.notify, str(exc), title="The run stopped", severity="error",
                                              timeout=20)

    # --- the UI tick ----------------------------------------------------------------------------

    def _tick(self) -> None:
        view = self.run.read(sample=self.run.now > self._last_sample_time)
        snapshot = view.snapshot
        self._last_sample_time = snapshot.time_s
        if snapshot.finished:
            self.playing = self.to_end = False
        with self.app.batch_update():
            self.query_one("#timeline", EnvironmentTimeline).show(self.run, view.environments)
            self._draw_chart()
            self.query_one("#counters", Counters).show(snapshot, view.costs)
            self.query_one("#async", AsyncPanel).show(snapshot)
            if view.log_lines:
                self.query_one("#sim-log", Log).write_lines(view.log_lines)
            self.query_one("#sim-status", Static).update(Content(self._status(snapshot.time_s, snapshot.finished)))
            self.query_one("#timeline-legend", Static).update(Content(self._selection()))

    def _status(self, now: float, finished: bool) -> str:
        state = "finished" if finished else ("running to the end" if self.to_end else
                                             "playing" if self.playing else "paused")
        glyph = "■" if finished else "▶" if self.playing else "‖"
        if state == "paused" and now == 0.0:
            state = "paused: Space plays"
        return (f" {glyph} {state} at {SPEEDS[self.speed_index]:g}x   t = {now:,.1f} s of {self.run.sim.end:,.0f} s"
                f"   seed {self.run.sim.seed}   settings: {self.changes}")

    def _selection(self) -> str:
        """The legend line, with the environment under the cursor and the request it serves."""
        selected = self.query_one("#timeline", EnvironmentTimeline).selected
        if selected is None:
            return LEGEND
        serving = f" serving {selected.request_id}" if selected.request_id and selected.state in ("busy", "init") else ""
        return f"{LEGEND}   | {selected.function}#{selected.env}: {selected.state}{serving}"

    def _draw_chart(self) -> None:
        name = self.chart_function
        history = list(self.run.history)

        def of_function(figures: dict[str, int]) -> int:  # all its versions together
            return sum(v for k, v in figures.items() if k == name or k.startswith(name + ":"))

        busy = [of_function(s.busy) for s in history]
        throttled = [max(0, of_function(b.throttles) - of_function(a.throttles)) for a, b in zip(history, history[1:])]
        throttled.insert(0, 0)
        fn = self.scenario.functions[name]
        account = self.scenario.account.concurrency
        limits = {f"account {account:,}": account}
        if fn.reserved_concurrency is not None:
            limits[f"reserved {fn.reserved_concurrency:,}"] = fn.reserved_concurrency
        else:  # an unreserved function shares what reservations leave of the account's concurrency
            unreserved = self.run.sim.account.unreserved_capacity
            if unreserved != account:
                limits[f"unreserved {unreserved:,}"] = unreserved
        # A limit far above everything else would squash the columns to a line: name it instead of drawing it.
        scale = max([*busy, *(v for k, v in limits.items() if not k.startswith("account")), 1])
        off_scale = {k: v for k, v in limits.items() if v > OFF_SCALE * scale}
        title = f"{name} concurrency"
        if off_scale:
            title += f" ({', '.join(off_scale)} above)"
        self.query_one("#chart", ConcurrencyChart).show(
            title, busy, throttled, {k: v for k, v in limits.items() if k not in off_scale})

    @on(EnvironmentTimeline.Moved)
    def _moved(self) -> None:
        self.query_one("#timeline-legend", Static).update(Content(self._selection()))

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
        self._last_sample_time = -1.0
        self.query_one("#sim-log", Log).clear()
        self._tick()

    # --- for tests and demos: a fixed picture --------------------------------------------------

    def seek(self, time_s: float) -> None:
        """Pause and show the run at virtual `time_s` (snapshot tests use this for a stable screen)."""
        self.playing = self.to_end = False
        self.run.advance_to(time_s)
        self._tick()

