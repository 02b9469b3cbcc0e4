"""A simulation the UI can watch: advanced by a worker thread, read by the UI ten times a second.

No Textual here. The engine publishes every event; this keeps only what a
screen can show, bounded in size, behind one lock: each environment's recent
history, the latest log events (formatted only when shown), the engine's series
sampled on a fine grid of virtual time, and the Recorder's counts, spans and
events for the concept views. Readers ask for what is on screen (the rows of
the timeline in view, the log lines up to the cursor), so a thousand
environments cost the UI what forty do.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from lambdalab.engine import Simulation
from lambdalab.engine.logs import traced_lines
from lambdalab.engine.model import Scenario
from lambdalab.engine.pricing import function_cost
from lambdalab.engine.simulation import Snapshot
from lambdalab.grading import processes
from lambdalab.tui.recorder import Recorder, step_for
from lambdalab.tui.window import Window

LOG_EVENTS_KEPT = 2_000  # the log can follow the cursor back this many events
SLICE_EVENTS = 5_000  # engine events per lock hold: a UI tick waits at most this much work
SPANS_KEPT = 256  # per environment: enough to fill a wide timeline row, zoomed out
WAITING_SHOWN = 8
FORGET_AFTER_S = 300.0  # shut-down environments leave the timeline after five minutes of virtual time

# Environment states on the timeline
INIT, BUSY, IDLE, GONE = "init", "busy", "idle", "shutdown"
_LOGGED = ("invoke_end", "throttle", "denied", "async_wait", "async_drop", "delivery")


@dataclass
class EnvironmentTrack:
    """One execution environment's recent history: (from, to, state) spans, plus where it is now."""

    function: str
    env: int
    provisioned: bool
    state: str
    since: float
    request_id: int | None = None  # the request's number in the run (LiveRun.request_id makes it an id)
    tenant: str | None = None  # in tenant isolation mode: the one tenant it serves
    busy: int = 0  # requests in it: one, or on Managed Instances up to its slots
    spans: deque = field(default_factory=lambda: deque(maxlen=SPANS_KEPT))

    def change(self, now: float, state: str) -> None:
        if now > self.since:
            self.spans.append((self.since, now, self.state))
        self.state, self.since = state, now


@dataclass(frozen=True)
class TimelineRow:
    """One environment as a timeline row: its name, where it is now, and one (glyph state) per column."""

    function: str
    env: int
    provisioned: bool
    state: str
    request_id: str | None
    tenant: str | None
    cells: tuple[str, ...]  # a state per column (INIT, BUSY, IDLE, GONE), plus "cold" where an Init began


@dataclass(frozen=True)
class View:
    snapshot: Snapshot
    environments: int  # timeline rows in all
    logged: int  # log events so far: the log panel redraws when this or its cursor changes
    costs: dict[str, float]


class LiveRun:
    def __init__(self, scenario: Scenario, seed: int | None = None):
        self.scenario = scenario
        step = step_for(scenario.duration)
        self.sim = Simulation(scenario, seed=seed, series_step=step)
        self.lock = threading.Lock()
        self._log_events: deque[tuple[float, str, dict]] = deque(maxlen=LOG_EVENTS_KEPT)
        self._logged = 0
        self.tracks: dict[str, dict[int, EnvironmentTrack]] = {name: {} for name in self.sim.runtimes}
        self.recorder = Recorder(step, scenario)
        self._next_sample = step
        self.sim.subscribe(self._on_event)
        self.sim.subscribe(self.recorder)
        for fn in self.sim.sampler.managed.values():  # started when the version was published, before the trace
            for ee in fn.ees:
                self.tracks[fn.name][ee.id] = EnvironmentTrack(fn.name, ee.id, True, IDLE, 0.0)

    # --- driving (worker thread) ------------------------------------------------------------------

    def advance_to(self, time_s: float) -> None:
        """Run up to virtual `time_s`, a slice at a time so that readers get the lock in between."""
        sim, recorder = self.sim, self.recorder
        target = min(time_s, sim.end)
        while True:
            with self.lock:
                if sim.finished or sim.now >= target:
                    break
                boundary = min(target, self._next_sample)
                if sim.loop.run_until(boundary, max_events=SLICE_EVENTS) < SLICE_EVENTS:
                    sim.advance_to(boundary)  # moves the clock to `boundary` and closes the run at the end
                    if sim.now >= self._next_sample:  # a step of the recorder's grid is over
                        recorder.sample(sim)
                        self._next_sample = (int(sim.now / recorder.step + 1e-9) + 1) * recorder.step

    def step(self, events: int = 1) -> None:
        with self.lock:
            self.sim.step(events)

    def close(self) -> None:
        """Stop the worker processes of functions that run real code, and (under `lambdalab serve`, as root) any
        process that code left behind."""
        with self.lock:
            self.sim.close()
        processes.end_strays()

    @property
    def now(self) -> float:
        return self.sim.now

    @property
    def finished(self) -> bool:
        return self.sim.finished

    # --- reading (UI thread) ----------------------------------------------------------------------

    def read(self) -> View:
        """A consistent view of counters and cost so far."""
        with self.lock:
            snapshot = self.sim.snapshot(environments=False, waiting_limit=WAITING_SHOWN)
            run_s = max(self.sim.now, 1e-9)
            costs = {
                name: function_cost(fn.config, fn.metrics, run_s).total_usd for name, fn in self.sim.runtimes.items()
            }
            rows = sum(len(t) for t in self.tracks.values())
        return View(snapshot, rows, self._logged, costs)

    def log_lines(self, until: float, count: int) -> list[tuple[float, str, str]]:
        """The last `count` log lines stamped at or before virtual time `until`: (time, function, text)."""
        with self.lock:
            events = [e for e in self._log_events if e[0] <= until]
            lines: list[tuple[float, str, str]] = []
            for event in reversed(events):
                lines[:0] = self._log_lines(*event)
                if len(lines) >= count:
                    break
        return sorted(lines, key=lambda line: line[0])[-count:]

    def timeline_rows(self, first: int, count: int, window: Window) -> list[TimelineRow]:
        """Rows `first` to `first + count` of the timeline (environments by function, then age) over `window`."""
        with self.lock:
            now = self.sim.now
            out: list[TimelineRow] = []
            skip = first
            for tracks in self.tracks.values():
                if skip >= len(tracks):
                    skip -= len(tracks)
                    continue
                for track in list(tracks.values())[skip : skip + count - len(out)]:
                    out.append(
                        TimelineRow(
                            track.function,
                            track.env,
                            track.provisioned,
                            track.state,
                            self.request_id(track.request_id),
                            track.tenant,
                            timeline_cells(track, now, window),
                        )
                    )
                skip = 0
                if len(out) >= count:
                    break
            return out

    # --- engine events (worker thread, lock held) -------------------------------------------------

    def _on_event(self, now: float, kind: str, data: dict[str, Any]) -> None:
        if kind == "env_start":
            state = IDLE if data["provisioned"] else INIT
            self.tracks[data["function"]][data["env"]] = EnvironmentTrack(
                data["function"], data["env"], data["provisioned"], state, now, tenant=data.get("tenant")
            )
        elif kind == "init_start":
            track = self.tracks[data["function"]][data["env"]]
            track.spans.append((now, now, "cold"))
            track.request_id = data["request_id"]
        elif kind == "invoke_start":
            track = self.tracks[data["function"]][data["env"]]
            track.busy += 1
            if track.state != BUSY:
                track.change(now, BUSY)
            track.request_id = data["request_id"]
        elif kind == "invoke_end":
            track = self.tracks[data["function"]][data["env"]]
            track.busy = max(0, track.busy - 1)
            if not track.busy:  # a Managed Instances environment stays busy while a slot is
                track.change(now, IDLE)
        elif kind == "env_shutdown":
            tracks = self.tracks[data["function"]]
            tracks[data["env"]].change(now, GONE)
            for env in [e for e, t in tracks.items() if t.state == GONE and now - t.since > FORGET_AFTER_S]:
                del tracks[env]
        if kind in _LOGGED:
            self._log_events.append((now, kind, data))
            self._logged += 1

    def request_id(self, number: int | None) -> str | None:
        return None if number is None else self.sim.request_id(number)

    def _log_lines(self, now: float, kind: str, data: dict[str, Any]) -> list[tuple[float, str, str]]:
        """The log lines of one engine event, each stamped at its own virtual time: an invocation's START at
        its start, its END and REPORT at its end."""
        fn, rid = data["function"], self.sim.request_id(data["request_id"])
        if kind == "invoke_end":
            lines = traced_lines(data, rid, self.sim.runtimes[fn].timeout, clock(now))
            started = now - data["duration_ms"] / 1000.0
            return [(started if n == 0 else now, fn, line) for n, line in enumerate(lines)]
        if kind == "throttle":
            text = f"{data['status']} {data['error']} ({data['reason']}), {data['invocation']} request {rid}"
        elif kind == "denied":
            text = (
                f"{data['status']} {data['error']}: {data['principal']} may not invoke it "
                f"({data['invocation']} request {rid})"
            )
        elif kind == "async_wait":
            text = (
                f"event {rid} waits ({data['reason']}, {data['attempts']} attempt(s) so far), "
                f"next try at {data['next_try_s']:.1f}s"
            )
        elif kind == "async_drop":
            text = f"event {rid} dropped ({data['condition']}) after {data['attempts']} attempt(s)"
        else:
            verdict = "delivered to" if data["delivered"] else "could not be delivered to"
            text = f"{data['route']} record {verdict} {data['target']}"
        return [(now, fn, text)]


def clock(seconds: float) -> str:
    """Virtual time as a run clock, HH:MM:SS.mmm (a log line's stamp; days past 24 h are added to the hours)."""
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def timeline_cells(track: EnvironmentTrack, now: float, window: Window) -> tuple[str, ...]:
    """A state per column of `window` (up to `now`); busy wins a shared column (it is what you look for), and
    the column where an Init began says "cold"."""
    start, columns, per_column = window.start, window.columns, window.per_column
    cells = [GONE] * columns
    for begin, end, state in [*track.spans, (track.since, now, track.state)]:
        if end < start or (end == start and state != "cold") or begin > window.end:
            continue
        first = max(0, int((begin - start) / per_column))
        if state == "cold":
            if first < columns:
                cells[first] = "cold"
            continue
        last = min(columns - 1, int((min(end, window.end) - start) / per_column - 1e-9))
        for c in range(first, last + 1):
            if cells[c] == "cold":
                continue
            if state == BUSY or cells[c] in (GONE, IDLE):
                cells[c] = state
    return tuple(cells)
