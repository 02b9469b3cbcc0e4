"""What the simulator's views draw: counts per step of virtual time, spans per lane, and the trace's latest events.

No Textual here. The engine's own SeriesSampler (engine/series.py) gives each function's concurrency,
throttles, cold starts and waiting events per step; this adds what the concept views need on the same steps
(retries by attempt, arrivals at each DLQ and destination, redrives, denials, CloudFront's answers,
deployment shifts, throttles by reason), the
spans of each stream lane and FIFO group (a batch in flight, a failing batch holding its lane), each async
event's story (attempts and waits), each durable execution's life (running, suspended, replays, callbacks,
its end), each tenant's environments (in tenant isolation mode), and the latest events of each kind for the
inspector. Everything is
bounded: counts grow with the run's steps (about STEPS), spans and events are capped, so an hour at
a thousand requests a second costs what a minute does.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from lambdalab.engine.sources import SqsMapping

STEPS = 1200  # steps in a whole run: fine enough for a 160-column view of any part of it
NICE_STEPS = (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)
EVENTS_KEPT = 4000  # per kind: what the inspector can tell about an instant
SPANS_KEPT = 400  # per lane
STORIES_KEPT = 64  # async events with retries, the latest first
LANES_KEPT = 64  # FIFO groups (and any lane set) drawn at most; the rest are counted
EXECUTIONS_KEPT = 24  # durable executions drawn, the first started; the rest are counted


def step_for(duration: float) -> float:
    """A round step that cuts `duration` into at most STEPS pieces."""
    wanted = duration / STEPS
    return next((s for s in NICE_STEPS if s >= wanted), NICE_STEPS[-1])


@dataclass
class Spans:
    """(start, end, state) spans of one lane; the open one is `state` since `since` (None: nothing open)."""

    spans: deque = field(default_factory=lambda: deque(maxlen=SPANS_KEPT))
    state: str | None = None
    since: float = 0.0

    def open(self, now: float, state: str) -> None:
        self.close(now)
        self.state, self.since = state, now

    def close(self, now: float) -> None:
        if self.state is not None:
            self.spans.append((self.since, now, self.state))
        self.state = None


class Level:
    """A level that trace events change (live tenant environments), as its highest value in each step."""

    def __init__(self, step: float, scenario: Any = None):
        self.step = step
        self.handlers = dict(_HANDLERS)
        functions = scenario.functions.values() if scenario is not None else ()
        if any(f.tenant_isolation for f in functions):  # only then: the others pay nothing per invocation
            self.handlers.update(_TENANT_HANDLERS)
        self.peaks: list[int] = []
        self.value = 0

    def set(self, now: float, value: int) -> None:
        index, peaks = int(now / self.step), self.peaks
        if len(peaks) <= index:
            peaks.extend([self.value] * (index + 1 - len(peaks)))
        self.value = value
        if value > peaks[index]:
            peaks[index] = value

    def until(self, now: float) -> list[int]:
        """Per step up to `now`: a step without events holds the level it had."""
        return self.peaks + [self.value] * max(0, int(now / self.step) + 1 - len(self.peaks))


@dataclass
class Execution:
    """One durable execution on the time axis: running and suspended spans, the times it resumed (each a new
    invocation that replays the workflow), its callbacks (time, accepted) and how it ended (time, status)."""

    name: str
    spans: Spans = field(default_factory=Spans)
    resumed: list[float] = field(default_factory=list)
    callbacks: list[tuple[float, bool]] = field(default_factory=list)
    ended: tuple[float, str] | None = None
    invocations: int = 0


@dataclass
class Tenant:
    """One tenant's environments of a function in tenant isolation mode: how many are live, initialising and
    busy (its lane's state), and where each cold start began."""

    spans: Spans = field(default_factory=Spans)
    live: int = 0
    initialising: int = 0
    busy: int = 0
    cold: list[float] = field(default_factory=list)

    def update(self, now: float) -> None:
        state = "busy" if self.busy else "init" if self.initialising else "idle" if self.live else None
        if state != self.spans.state:
            if state is None:
                self.spans.close(now)
            else:
                self.spans.open(now, state)


@dataclass
class Story:
    """One asynchronous event's attempts: (time, what) with what in fail, wait-until, dlq, destination, done."""

    function: str
    request_id: int
    received: float
    steps: list[tuple[float, str, Any]] = field(default_factory=list)


class Recorder:
    """Subscribed to a Simulation's trace; read under the same lock as the engine runs."""

    def __init__(self, step: float, scenario: Any = None):
        self.step = step
        self.handlers = dict(_HANDLERS)
        functions = scenario.functions.values() if scenario is not None else ()
        if any(f.tenant_isolation for f in functions):  # only then: the others pay nothing per invocation
            self.handlers.update(_TENANT_HANDLERS)
        self.counts: dict[str, list[int]] = {}  # series key -> count per step
        self.events: dict[str, tuple[list[float], list[tuple[float, dict]]]] = {}  # kind -> (times, events)
        self.lanes: dict[str, dict[str, Spans]] = {}  # "stream NAME" or "groups QUEUE" -> lane name -> spans
        self.lane_overflow: dict[str, int] = {}  # lanes seen beyond LANES_KEPT
        self.stories: OrderedDict[tuple[str, int], Story] = OrderedDict()
        self.deployments: list[tuple[float, dict]] = []
        self.levels: dict[str, list[int]] = {}  # series key -> value at the end of each step (queues)
        self.checkpoints: dict[tuple[str, str], int] = {}  # (stream, lane) -> the last record it processed
        self._received: dict[str, int] = {}
        self.scaling: list[tuple[float, dict]] = []  # Managed Instances: the scaler's decisions
        self.instances: list[tuple[float, dict]] = []  # capacity providers' instance launches
        self.executions: dict[str, dict[str, Execution]] = {}  # durable function -> execution name -> its life
        self.execution_overflow: dict[str, int] = {}  # executions started beyond EXECUTIONS_KEPT
        self.tenants: dict[str, dict[str, Tenant]] = {}  # isolated function -> tenant -> its environments
        self.tenant_live: dict[str, Level] = {}  # isolated function -> its live tenant environments
        self._tenant_of: dict[tuple[str, int], str] = {}  # (runtime, env) -> its tenant

    def sample(self, sim: Any) -> None:
        """Close a step: levels the trace does not tell (each queue's messages and pollers), read from the run."""
        index = int(sim.now / self.step + 1e-9) - 1
        for mapping in sim.mappings:
            if not isinstance(mapping, SqsMapping):
                continue
            queue = mapping.queue
            name = queue.config.name
            for key, value in (
                (f"visible {name}", queue.visible),
                (f"in flight {name}", queue.not_visible),
                (f"pollers {name}", mapping.in_flight),
            ):
                series = self.levels.setdefault(key, [])
                series.extend([series[-1] if series else 0] * (index - len(series)))
                series.append(value)
            self.count(f"received {name}", max(0.0, sim.now - self.step), queue.received - self._received.get(name, 0))
            self._received[name] = queue.received

    # --- the trace (engine thread, lock held) ------------------------------------------------------

    def __call__(self, now: float, kind: str, data: dict[str, Any]) -> None:
        handler = self.handlers.get(kind)
        if handler is not None:
            handler(self, now, data)

    def count(self, key: str, now: float, n: int = 1) -> None:
        series = self.counts.setdefault(key, [])
        index = int(now / self.step)
        if len(series) <= index:
            series.extend([0] * (index + 1 - len(series)))
        series[index] += n

    def keep(self, kind: str, now: float, data: dict) -> None:
        times, events = self.events.setdefault(kind, ([], []))
        times.append(now)
        events.append((now, data))
        if len(times) > 2 * EVENTS_KEPT:  # drop the oldest half: amortised O(1), and bisect keeps working
            del times[:EVENTS_KEPT], events[:EVENTS_KEPT]

    def lane(self, family: str, name: str) -> Spans | None:
        lanes = self.lanes.setdefault(family, {})
        if name not in lanes:
            if len(lanes) >= LANES_KEPT:
                self.lane_overflow[family] = self.lane_overflow.get(family, 0) + 1
                return None
            lanes[name] = Spans()
        return lanes[name]

    def story(self, data: dict, now: float) -> Story:
        key = (data["function"], data["request_id"])
        story = self.stories.get(key)
        if story is None:
            story = self.stories[key] = Story(data["function"], data["request_id"], now)
            if len(self.stories) > STORIES_KEPT:
                self.stories.popitem(last=False)
        return story

    # --- reading (UI thread, lock held) ------------------------------------------------------------

    def between(self, kinds: tuple[str, ...], start: float, end: float) -> list[tuple[float, str, dict]]:
        """The kept events of these kinds in [start, end), in time order."""
        out = []
        for kind in kinds:
            times, events = self.events.get(kind, ((), ()))
            for t, data in events[bisect_left(times, start) : bisect_left(times, end)]:
                out.append((t, kind, data))
        return sorted(out, key=lambda e: e[0])

    def keys(self, prefix: str) -> list[str]:
        return sorted(k for k in self.counts if k.startswith(prefix))


def _throttle(r: Recorder, now: float, data: dict) -> None:
    r.keep("throttle", now, data)
    r.count(f"throttled {function_name(data)} {data['reason']}", now)


def _kept(kind: str) -> Any:
    """A handler that keeps the event for the inspector, and nothing more."""
    return lambda r, now, data: r.keep(kind, now, data)


def _rejected(r: Recorder, now: float, data: dict) -> None:
    r.keep("rejected", now, data)
    r.count(f"rejected {function_name(data)}", now)


def _scale(r: Recorder, now: float, data: dict) -> None:
    r.keep("scale", now, data)
    r.scaling.append((now, data))


def _instance_start(r: Recorder, now: float, data: dict) -> None:
    r.keep("instance_start", now, data)
    r.instances.append((now, data))


def execution(r: Recorder, data: dict) -> Execution | None:
    """The execution an event is about, if it is one of the first EXECUTIONS_KEPT of its function."""
    return r.executions.get(function_name(data), {}).get(data["execution"])


def _durable_start(r: Recorder, now: float, data: dict) -> None:
    r.keep("durable_start", now, data)
    if data["start"] != "new":
        return
    executions = r.executions.setdefault(function_name(data), {})
    if len(executions) >= EXECUTIONS_KEPT:
        r.execution_overflow[function_name(data)] = r.execution_overflow.get(function_name(data), 0) + 1
        return
    executions[data["execution"]] = Execution(data["execution"])
    executions[data["execution"]].spans.open(now, "running")


def _durable_suspend(r: Recorder, now: float, data: dict) -> None:
    r.keep("durable_suspend", now, data)
    found = execution(r, data)
    if found is not None:
        found.spans.open(now, "suspended")


def _durable_resume(r: Recorder, now: float, data: dict) -> None:
    r.keep("durable_resume", now, data)
    found = execution(r, data)
    if found is not None:
        found.spans.open(now, "running")
        found.resumed.append(now)


def _durable_callback(r: Recorder, now: float, data: dict) -> None:
    r.keep("durable_callback", now, data)
    found = execution(r, data)
    if found is not None:
        found.callbacks.append((now, data["accepted"]))


def _durable_end(r: Recorder, now: float, data: dict) -> None:
    r.keep("durable_end", now, data)
    found = execution(r, data)
    if found is not None:
        found.spans.close(now)
        found.ended, found.invocations = (now, data["status"]), data["invocations"]


def tenant(r: Recorder, data: dict, name: str | None = None, new: bool = False) -> Tenant | None:
    """The lane of an event's tenant (None: not an isolated function's, or past the first LANES_KEPT tenants
    that had an environment); `new`: an environment started, so a lane may begin."""
    name = name or data.get("tenant")
    if name is None:
        return None
    tenants = r.tenants.setdefault(function_name(data), {})
    if name not in tenants and new and len(tenants) < LANES_KEPT:
        tenants[name] = Tenant()
    return tenants.get(name)


def _tenant_env_start(r: Recorder, now: float, data: dict) -> None:
    if "tenant" not in data:
        return
    fn = function_name(data)
    r._tenant_of[(data["function"], data["env"])] = data["tenant"]
    live = r.tenant_live.setdefault(fn, Level(r.step))
    live.set(now, live.value + 1)
    found = tenant(r, data, new=True)
    if found is not None:
        found.live += 1
        found.update(now)


def _tenant_env_shutdown(r: Recorder, now: float, data: dict) -> None:
    name = r._tenant_of.pop((data["function"], data["env"]), None)
    if name is None:
        return
    live = r.tenant_live[function_name(data)]
    live.set(now, live.value - 1)
    found = tenant(r, data, name)
    if found is not None:
        found.live -= 1
        found.update(now)


def _tenant_init(r: Recorder, now: float, data: dict) -> None:
    _cold(r, now, data)
    found = tenant(r, data)
    if found is not None:
        found.initialising += 1
        found.cold.append(now)
        found.update(now)


def _tenant_invoke_start(r: Recorder, now: float, data: dict) -> None:
    found = tenant(r, data)
    if found is not None:
        if data["cold"]:
            found.initialising = max(0, found.initialising - 1)
        found.busy += 1
        found.update(now)


def _tenant_invoke_end(r: Recorder, now: float, data: dict) -> None:
    _invoke_end(r, now, data)
    found = tenant(r, data)
    if found is not None:
        found.busy -= 1
        found.update(now)


def _cold(r: Recorder, now: float, data: dict) -> None:
    r.keep("cold_start", now, data)
    r.count(f"cold {data['function']}", now)


def _invoke_end(r: Recorder, now: float, data: dict) -> None:
    if data["error"]:
        r.keep("failure", now, data)
    story = r.stories.get((data["function"], data["request_id"]))
    if story is not None:
        story.steps.append((now, "fail" if data["error"] else "ok", data["error"]))


def _async_wait(r: Recorder, now: float, data: dict) -> None:
    r.keep("async_wait", now, data)
    r.count(f"retry {data['function']} {data['attempts'] + 1}", now)
    r.story(data, now).steps.append((now, "wait", data["next_try_s"]))


def _async_drop(r: Recorder, now: float, data: dict) -> None:
    r.keep("async_drop", now, data)
    r.count(f"dropped {data['function']}", now)
    key = (data["function"], data["request_id"])
    if key in r.stories:
        r.stories[key].steps.append((now, "dropped", data["condition"]))


def _delivery(r: Recorder, now: float, data: dict) -> None:
    r.keep("delivery", now, data)
    r.count(f"to {data['target']}" if data["delivered"] else f"undelivered {data['target']}", now)
    key = (data["function"], data["request_id"])
    if key in r.stories:
        r.stories[key].steps.append((now, data["route"], data["target"]))


def _denied(r: Recorder, now: float, data: dict) -> None:
    r.keep("denied", now, data)
    r.count(f"denied {data['function']} {data['principal'] or 'anonymous'}", now)


def _batch(r: Recorder, now: float, data: dict) -> None:
    if "stream" in data:
        spans = r.lane(f"stream {data['stream']}", lane_name(data))
        if spans is not None and spans.state not in ("stuck", "bisect"):  # a retry keeps its lane held
            spans.open(now, "batch")
        return
    for group in sorted({g for g in data["groups"] if g}):
        spans = r.lane(f"groups {data['queue']}", group)
        if spans is not None:
            spans.open(now, "batch")


def _batch_done(r: Recorder, now: float, data: dict) -> None:
    r.keep("batch_done", now, data)
    if "stream" in data:
        outcome = data["outcome"]
        r.count(f"{outcome} {data['stream']}", now)
        spans = r.lane(f"stream {data['stream']}", lane_name(data))
        if spans is not None:
            if outcome == "processed":
                spans.close(now)
                r.checkpoints[(data["stream"], lane_name(data))] = data["records"][-1]
            else:  # the lane is held by a failing batch until it succeeds or is given up
                spans.open(now, "bisect" if outcome == "bisected" else "stuck")
        return
    if data["failed"]:
        r.count(f"failed batches {data['queue']}", now)
    for group in sorted({g for g in data["groups"] if g}):  # a group with a failed message waits for it
        spans = r.lane(f"groups {data['queue']}", group)
        if spans is not None:
            spans.open(now, "blocked")


def _batch_discarded(r: Recorder, now: float, data: dict) -> None:
    r.keep("batch_discarded", now, data)
    r.count(f"given up {data['stream']}", now, len(data["records"]))
    spans = r.lane(f"stream {data['stream']}", lane_name(data))
    if spans is not None:
        spans.close(now)


def _redrive(r: Recorder, now: float, data: dict) -> None:
    r.keep("redrive", now, data)
    r.count(f"redriven {data['queue']}", now)


def _deployment(r: Recorder, now: float, data: dict) -> None:
    r.keep("deployment", now, data)
    r.deployments.append((now, data))


def _edge(r: Recorder, now: float, data: dict) -> None:
    r.keep("edge_answer", now, data)
    r.count(f"edge {data['trigger']} {data['status']}", now)


def function_name(data: dict) -> str:
    """An event's function without its version: the views group a function's versions together."""
    return data["function"].partition(":")[0]


def lane_name(data: dict) -> str:
    return f"shard {data['shard']}" + (f".{data['part']}" if data.get("part") else "")


_HANDLERS = {
    "throttle": _throttle,
    "init_start": _cold,
    "invoke_end": _invoke_end,
    "async_wait": _async_wait,
    "async_drop": _async_drop,
    "delivery": _delivery,
    "denied": _denied,
    "batch": _batch,
    "batch_done": _batch_done,
    "batch_discarded": _batch_discarded,
    "redrive": _redrive,
    "deployment": _deployment,
    "edge_answer": _edge,
    "rejected": _rejected,
    "scale": _scale,
    "instance_start": _instance_start,
    "durable_start": _durable_start,
    "durable_suspend": _durable_suspend,
    "durable_resume": _durable_resume,
    "durable_callback": _durable_callback,
    "durable_end": _durable_end,
    "recursion_stop": _kept("recursion_stop"),
    "pollers": _kept("pollers"),
    "window_final_done": _kept("window_final_done"),
}
_TENANT_HANDLERS = {
    "env_start": _tenant_env_start,
    "env_shutdown": _tenant_env_shutdown,
    "init_start": _tenant_init,
    "invoke_start": _tenant_invoke_start,
    "invoke_end": _tenant_invoke_end,
}
