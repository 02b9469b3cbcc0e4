"""Traffic generators: each arrival schedules the next, so a million requests never sit in the heap at once."""

from __future__ import annotations

import math
from heapq import heappush
from typing import Any, Callable

from lambdalab.engine.clock import EventLoop
from lambdalab.engine.model import Traffic

Send = Callable[[Any], None]  # takes one event payload


class Generator:
    """Arrivals at a steady or Poisson rate over [start, end), or a burst of N at one instant."""

    __slots__ = ("spec", "loop", "send", "events", "count", "sent", "_rand", "_on_arrive")

    def __init__(self, spec: Traffic, loop: EventLoop, send: Send):
        self.spec = spec
        self.loop = loop
        self.send = send
        self.events = spec.events
        self.count = len(spec.events)
        self.sent = 0
        self._rand = loop.rng.random
        self._on_arrive = self._arrive

    def start(self) -> None:
        spec = self.spec
        if spec.burst:
            self.loop.at(spec.start, self._burst)
        elif spec.rate > 0 and spec.end > spec.start:
            first = spec.start + (self._gap() if spec.poisson else 0.0)
            if first < spec.end:
                self.loop.at(first, self._arrive)

    def _gap(self) -> float:
        return -math.log(1.0 - self._rand()) / self.spec.rate

    def _arrive(self, _: Any) -> None:
        spec = self.spec
        sent = self.sent
        self.send(self.events[sent % self.count] if self.count > 1 else self.events[0])
        self.sent = sent = sent + 1
        # Uniform times are computed from the start, not accumulated, so rounding cannot drift over a long run.
        nxt = self.loop.now + self._gap() if spec.poisson else spec.start + sent / spec.rate
        if nxt < spec.end:
            heappush(self.loop.heap, (nxt, next(self.loop.seq), self._on_arrive, None))

    def _burst(self, _: Any) -> None:
        send, events, count = self.send, self.events, self.count
        for i in range(self.spec.burst):
            send(events[i % count])
        self.sent += self.spec.burst
