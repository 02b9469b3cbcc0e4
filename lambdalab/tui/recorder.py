"""What the simulator's views draw: counts per step of virtual time, spans per lane, and the trace's latest events.

No Textual here. The engine's own SeriesSampler (engine/series.py) gives each function's concurrency,
throttles, cold starts and waiting events per step; this adds what the concept views need on the same steps
(retries by attempt, arrivals at each DLQ and destination, redrives, denials, CloudFront's answers,
deployment shifts), the
spans of each stream lane and FIFO group (a batch in flight, a failing batch holding its lane), each async
event's story (attempts and waits), and the latest events of each kind for the inspector. Everything is
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


@dataclass
class Story:
    """One asynchronous event's attempts: (time, what) with what in fail, wait-until, dlq, destination, done."""

    function: str
    request_id: int
    received: float
    steps: list[tuple[float, str, Any]] = field(default_factory=list)


class Recorder:
    """Subscribed to a Simulation's trace; read under the same lock as the engine runs."""

    def __init__(self, step: float):
        self.step = step
        self.counts: dict[str, list[int]] = {}  # series key -> count per step
        self.events: dict[str, tuple[list[float], list[tuple[float, dict]]]] = {}  # kind -> (times, events)
        self.lanes: dict[str, dict[str, Spans]] = {}  # "stream NAME" or "groups QUEUE" -> lane name -> spans
        self.lane_overflow: dict[str, int] = {}  # lanes seen beyond LANES_KEPT
        self.stories: OrderedDict[tuple[str, int], Story] = OrderedDict()
        self.deployments: list[tuple[float, dict]] = []
        self.levels: dict[str, list[int]] = {}  # series key -> value at the end of each step (queues)
        self.checkpoints: dict[tuple[str, str], int] = {}  # (stream, lane) -> the last record it processed
        self._received: dict[str, int] = {}

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
        handler = _HANDLERS.get(kind)
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
}
