"""A simulation the UI can watch: advanced by a worker thread, read by the UI ten times a second.

No Textual here. The engine publishes every event; this keeps only what a
screen can show (recent log lines, each environment's recent history, a
concurrency sample per UI tick), bounded in size, behind one lock, so the UI
thread never waits for more than a small slice of engine work.
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

LOG_LINES_KEPT = 400  # more than a log panel shows; older lines are not worth the memory
SLICE_EVENTS = 5_000  # engine events per lock hold: a UI tick waits at most this much work
HISTORY_SAMPLES = 600  # concurrency samples kept for the chart (a minute of ticks at 10/s)

# Environment states on the timeline
INIT, BUSY, IDLE, GONE = "init", "busy", "idle", "shutdown"


@dataclass
class EnvironmentTrack:
    """One execution environment's recent history: (from, to, state) spans, plus where it is now."""

    function: str
    env: int
    provisioned: bool
    state: str
    since: float
    request_id: str | None = None
    cold_starts: int = 0
    spans: deque = field(default_factory=lambda: deque(maxlen=64))

    def change(self, now: float, state: str) -> None:
        if now > self.since:
            self.spans.append((self.since, now, self.state))
        self.state, self.since = state, now


@dataclass(frozen=True)
class Sample:
    """What the chart needs at one UI tick."""

    time_s: float
    busy: dict[str, int]
    throttles: dict[str, int]  # cumulative
    account_busy: int


class LiveRun:
    def __init__(self, scenario: Scenario, seed: int | None = None):
        self.scenario = scenario
        self.sim = Simulation(scenario, seed=seed)
        self.lock = threading.Lock()
        self.log: deque[str] = deque(maxlen=LOG_LINES_KEPT)
        self._log_new = 0  # lines added since the UI last drained
        self.tracks: dict[tuple[str, int], EnvironmentTrack] = {}
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
                ran = sim.loop.run_until(target, max_events=SLICE_EVENTS)
                if ran < SLICE_EVENTS:
                    sim.advance_to(target)  # moves the clock to `target` and closes the run at the end
                    break

    def step(self, events: int = 1) -> None:
        with self.lock:
            self.sim.step(events)

    @property
    def now(self) -> float:
        return self.sim.now

    @property
    def finished(self) -> bool:
        return self.sim.finished

    # --- reading (UI thread) ----------------------------------------------------------------------

    def read(self, sample: bool = True) -> tuple[Snapshot, list[EnvironmentTrack], list[str], dict[str, float]]:
        """A consistent view: the snapshot, the environments' tracks, new log lines and cost so far.

        With `sample`, the concurrency now is also added to `history` (once per UI tick that saw time move).
        """
        with self.lock:
            snapshot = self.sim.snapshot()
            tracks = [EnvironmentTrack(t.function, t.env, t.provisioned, t.state, t.since, t.request_id,
                                       t.cold_starts, deque(t.spans)) for t in self.tracks.values()]
            new = list(self.log)[-self._log_new:] if self._log_new else []
            self._log_new = 0
            costs = self._costs()
            if sample:
                self.history.append(Sample(snapshot.time_s, {n: f.busy for n, f in snapshot.functions.items()},
                                           {n: f.counters["throttles"] for n, f in snapshot.functions.items()},
                                           snapshot.account.get("busy", 0)))
        return snapshot, tracks, new, costs

    def _costs(self) -> dict[str, float]:
        run_s = max(self.sim.now, 1e-9)
        return {name: function_cost(fn.config, fn.invocations, fn.billed_ms, fn.billed_ms_provisioned, run_s).total_usd
                for name, fn in self.sim.functions.items()}

    # --- engine events (worker thread, lock held) -------------------------------------------------

    def _on_event(self, now: float, kind: str, data: dict[str, Any]) -> None:
        key = (data.get("function"), data.get("env"))
        if kind == "env_start":
            state = IDLE if data["provisioned"] else INIT
            self.tracks[key] = EnvironmentTrack(data["function"], data["env"], data["provisioned"], state, now)
        elif kind == "init_start":
            track = self.tracks[key]
            track.cold_starts += 1
            track.request_id = self.sim.request_id(data["request_id"])
        elif kind == "invoke_start":
            track = self.tracks[key]
            track.change(now, BUSY)
            track.request_id = self.sim.request_id(data["request_id"])
        elif kind == "invoke_end":
            self.tracks[key].change(now, IDLE)
            self._log_invocation(now, data)
        elif kind == "env_shutdown":
            self.tracks[key].change(now, GONE)
            self._forget_old_tracks(now)
        elif kind == "throttle":
            self._add_log(f"{timestamp(now)}  {data['function']}: {data['status']} {data['error']} "
                          f"({data['reason']}), {data['invocation']} request {self.sim.request_id(data['request_id'])}")
        elif kind == "async_wait":
            self._add_log(f"{timestamp(now)}  {data['function']}: event {self.sim.request_id(data['request_id'])} waits "
                          f"({data['reason']}, {data['attempts']} attempt(s) so far), next try at {data['next_try_s']:.1f}s")
        elif kind == "async_drop":
            self._add_log(f"{timestamp(now)}  {data['function']}: event {self.sim.request_id(data['request_id'])} "
                          f"dropped ({data['condition']}) after {data['attempts']} attempt(s)")
        elif kind == "delivery":
            verdict = "delivered to" if data["delivered"] else "could not be delivered to"
            self._add_log(f"{timestamp(now)}  {data['function']}: {data['route']} record {verdict} {data['target']}")

    def _log_invocation(self, now: float, data: dict[str, Any]) -> None:
        report = InvocationReport(
            request_id=self.sim.request_id(data["request_id"]), duration_ms=data["duration_ms"],
            billed_ms=data["billed_ms"], memory_mb=data["memory_mb"], max_memory_used_mb=data["max_memory_used_mb"],
            init_ms=data["init_ms"], error=data["error"], error_message=data["error_message"],
            timed_out=data["timed_out"], timeout_s=self.sim.functions[data["function"]].timeout, timestamp=timestamp(now),
        )
        for line in invocation_lines(report):
            self._add_log(f"{timestamp(now)}  {data['function']}: {line}")

    def _add_log(self, line: str) -> None:
        self.log.append(line)
        self._log_new = min(self._log_new + 1, LOG_LINES_KEPT)

    def _forget_old_tracks(self, now: float, keep_s: float = 60.0) -> None:
        """Shut-down environments stay on the timeline for a minute of virtual time, then leave it."""
        if len(self.tracks) < 64:
            return
        for key in [k for k, t in self.tracks.items() if t.state == GONE and now - t.since > keep_s]:
            del self.tracks[key]
