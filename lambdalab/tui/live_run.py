"""A simulation the UI can watch: advanced by a worker thread, read by the UI ten times a second.

No Textual here. The engine publishes every event; this keeps only what a
screen can show, bounded in size, behind one lock: each environment's recent
history, the last few hundred log events (formatted only when shown), and a
concurrency sample per UI tick. Readers ask for what is on screen (the rows
of the timeline in view, the next waiting events), so a thousand environments
cost the UI what forty do.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from lambdalab.engine import Simulation
from lambdalab.engine.destinations import timestamp
from lambdalab.engine.logs import InvocationReport, invocation_lines
from lambdalab.engine.model import Scenario
from lambdalab.engine.pricing import function_cost
from lambdalab.engine.simulation import Snapshot

LOG_EVENTS_KEPT = 200  # more than a log panel shows
LOG_LINES_PER_TICK = 20  # at high speed, the newest lines only: the panel shows a handful, nobody reads faster
SLICE_EVENTS = 5_000  # engine events per lock hold: a UI tick waits at most this much work
HISTORY_SAMPLES = 600  # concurrency samples kept for the chart (a minute of ticks at 10/s)
SPANS_KEPT = 64  # per environment: enough to fill a timeline row
WAITING_SHOWN = 8
FORGET_AFTER_S = 60.0  # shut-down environments leave the timeline after a minute of virtual time

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
    request_id: str | None = None
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
    cells: tuple[str, ...]  # a state per column (INIT, BUSY, IDLE, GONE), plus "cold" where an Init began


@dataclass(frozen=True)
class Sample:
    """What the chart needs at one UI tick."""

    time_s: float
    busy: dict[str, int]
    throttles: dict[str, int]  # cumulative


@dataclass(frozen=True)
class View:
    snapshot: Snapshot
    environments: int  # timeline rows in all
    log_lines: list[str]  # new since the last read (the newest, at most LOG_LINES_PER_TICK)
    costs: dict[str, float]


class LiveRun:
    def __init__(self, scenario: Scenario, seed: int | None = None):
        self.scenario = scenario
        self.sim = Simulation(scenario, seed=seed)
        self.lock = threading.Lock()
        self._log_events: deque[tuple[float, str, dict]] = deque(maxlen=LOG_EVENTS_KEPT)
        self._log_new = 0  # events added since the UI last read
        self.tracks: dict[str, dict[int, EnvironmentTrack]] = {name: {} for name in self.sim.runtimes}
        self.history: deque[Sample] = deque(maxlen=HISTORY_SAMPLES)
        self.sim.subscribe(self._on_event)

    # --- driving (worker thread) ------------------------------------------------------------------

    def advance_to(self, time_s: float) -> None:
        """Run up to virtual `time_s`, a slice at a time so that readers get the lock in between."""
        sim = self.sim
        target = min(time_s, sim.end)
        while True:
            with self.lock:
                if sim.finished or sim.now >= target:
                    break
                if sim.loop.run_until(target, max_events=SLICE_EVENTS) < SLICE_EVENTS:
                    sim.advance_to(target)  # moves the clock to `target` and closes the run at the end
                    break

    def step(self, events: int = 1) -> None:
        with self.lock:
            self.sim.step(events)

    def close(self) -> None:
        """Stop the worker processes of functions that run real code."""
        with self.lock:
            self.sim.close()

    @property
    def now(self) -> float:
        return self.sim.now

    @property
    def finished(self) -> bool:
        return self.sim.finished

    # --- reading (UI thread) ----------------------------------------------------------------------

    def read(self, sample: bool = True) -> View:
        """A consistent view of counters, new log lines and cost so far.

        With `sample`, the concurrency now is also added to `history` (once per UI tick that saw time move).
        """
        with self.lock:
            snapshot = self.sim.snapshot(environments=False, waiting_limit=WAITING_SHOWN)
            fresh = list(self._log_events)[-min(self._log_new, LOG_LINES_PER_TICK):] if self._log_new else []
            self._log_new = 0
            lines = [line for event in fresh for line in self._log_lines(*event)]
            if sample:
                self.history.append(Sample(snapshot.time_s, {n: f.busy for n, f in snapshot.functions.items()},
                                           {n: f.counters["throttles"] for n, f in snapshot.functions.items()}))
            run_s = max(self.sim.now, 1e-9)
            costs = {name: function_cost(fn.config, fn.invocations, fn.billed_ms, fn.billed_ms_provisioned, run_s).total_usd
                     for name, fn in self.sim.runtimes.items()}
            rows = sum(len(t) for t in self.tracks.values())
        return View(snapshot, rows, lines[-LOG_LINES_PER_TICK:], costs)

    def timeline_rows(self, first: int, count: int, window_s: float, columns: int) -> list[TimelineRow]:
        """Rows `first` to `first + count` of the timeline (environments by function, then age)."""
        with self.lock:
            now = self.sim.now
            out: list[TimelineRow] = []
            skip = first
            for tracks in self.tracks.values():
                if skip >= len(tracks):
                    skip -= len(tracks)
                    continue
                for track in list(tracks.values())[skip:skip + count - len(out)]:
                    out.append(TimelineRow(track.function, track.env, track.provisioned, track.state,
                                           self.request_id(track.request_id),
                                           timeline_cells(track, now, window_s, columns)))
                skip = 0
                if len(out) >= count:
                    break
            return out

    # --- engine events (worker thread, lock held) -------------------------------------------------

    def _on_event(self, now: float, kind: str, data: dict[str, Any]) -> None:
        if kind == "env_start":
            state = IDLE if data["provisioned"] else INIT
            self.tracks[data["function"]][data["env"]] = EnvironmentTrack(data["function"], data["env"],
                                                                          data["provisioned"], state, now)
        elif kind == "init_start":
            track = self.tracks[data["function"]][data["env"]]
            track.spans.append((now, now, "cold"))
            track.request_id = data["request_id"]
        elif kind == "invoke_start":
            track = self.tracks[data["function"]][data["env"]]
            track.change(now, BUSY)
            track.request_id = data["request_id"]
        elif kind == "invoke_end":
            self.tracks[data["function"]][data["env"]].change(now, IDLE)
        elif kind == "env_shutdown":
            tracks = self.tracks[data["function"]]
            tracks[data["env"]].change(now, GONE)
            for env in [e for e, t in tracks.items() if t.state == GONE and now - t.since > FORGET_AFTER_S]:
                del tracks[env]
        if kind in _LOGGED:
            self._log_events.append((now, kind, data))
            self._log_new += 1

    def request_id(self, number: int | None) -> str | None:
        return None if number is None else self.sim.request_id(number)

    def _log_lines(self, now: float, kind: str, data: dict[str, Any]) -> list[str]:
        """The log lines for one engine event, as a CloudWatch-minded reader would want them."""
        stamp, fn, rid = timestamp(now), data["function"], self.sim.request_id(data["request_id"])
        if kind == "invoke_end":
            report = InvocationReport(
                request_id=rid, duration_ms=data["duration_ms"], billed_ms=data["billed_ms"], memory_mb=data["memory_mb"],
                max_memory_used_mb=data["max_memory_used_mb"], init_ms=data["init_ms"], error=data["error"],
                error_message=data["error_message"], timed_out=data["timed_out"],
                timeout_s=self.sim.runtimes[fn].timeout, timestamp=stamp, version=data["version"],
            )
            return [f"{stamp}  {fn}: {line}" for line in invocation_lines(report, output=data["output"])]
        if kind == "throttle":
            return [f"{stamp}  {fn}: {data['status']} {data['error']} ({data['reason']}), "
                    f"{data['invocation']} request {rid}"]
        if kind == "denied":
            return [f"{stamp}  {fn}: {data['status']} {data['error']}: {data['principal']} may not invoke it "
                    f"({data['invocation']} request {rid})"]
        if kind == "async_wait":
            return [f"{stamp}  {fn}: event {rid} waits ({data['reason']}, {data['attempts']} attempt(s) so far), "
                    f"next try at {data['next_try_s']:.1f}s"]
        if kind == "async_drop":
            return [f"{stamp}  {fn}: event {rid} dropped ({data['condition']}) after {data['attempts']} attempt(s)"]
        verdict = "delivered to" if data["delivered"] else "could not be delivered to"
        return [f"{stamp}  {fn}: {data['route']} record {verdict} {data['target']}"]


def timeline_cells(track: EnvironmentTrack, now: float, window_s: float, columns: int) -> tuple[str, ...]:
    """A state per column over the last `window_s` of virtual time; busy wins a shared column (it is what you
    look for), and the column where an Init began says "cold"."""
    start = now - window_s
    per_column = window_s / columns
    cells = [GONE] * columns
    for begin, end, state in [*track.spans, (track.since, now, track.state)]:
        if end < start or (end == start and state != "cold"):
            continue
        first = max(0, int((begin - start) / per_column))
        if state == "cold":
            if first < columns:
                cells[first] = "cold"
            continue
        last = min(columns - 1, int((end - start) / per_column - 1e-9))
        for c in range(first, last + 1):
            if cells[c] == "cold":
                continue
            if state == BUSY or cells[c] in (GONE, IDLE):
                cells[c] = state
    return tuple(cells)
