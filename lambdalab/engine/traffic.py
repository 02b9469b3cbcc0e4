"""Traffic generators: each arrival schedules the next, so a million requests never sit in the heap at once."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from heapq import heappush
from typing import Any

from lambdalab.engine.clock import EventLoop
from lambdalab.engine.model import Traffic

Send = Callable[[Any], object]  # takes one event payload (what it returns is not used)


def arrivals_by(spec: Traffic, elapsed: float) -> float:
    """How many arrivals a rate (or a ramp from `rate` to `ramp_to`) makes in its first `elapsed` seconds."""
    if not spec.ramp_to:
        return spec.rate * elapsed
    slope = (spec.ramp_to - spec.rate) / (spec.end - spec.start)
    return spec.rate * elapsed + slope * elapsed * elapsed / 2.0


def time_of_arrival(spec: Traffic, count: float) -> float:
    """When, after its start, a ramp has made `count` arrivals: the inverse of arrivals_by."""
    slope = (spec.ramp_to - spec.rate) / (spec.end - spec.start)
    if abs(slope) < 1e-12:
        return count / spec.rate
    # slope/2 t^2 + rate t - count = 0, the root at or after 0 (the rate stays above 0 over the ramp)
    return (math.sqrt(spec.rate * spec.rate + 2.0 * slope * count) - spec.rate) / slope


class Generator:
    """Arrivals at a steady or Poisson rate over [start, end), or a burst of N at one instant."""

    __slots__ = (
        "spec",
        "loop",
        "send",
        "payloads",
        "sent",
        "_rand",
        "_on_arrive",
        "_heap",
        "_seq",
        "_start",
        "_end",
        "_rate",
        "_poisson",
    )

    def __init__(self, spec: Traffic, loop: EventLoop, send: Send):
        self.spec = spec
        self.loop = loop
        self.send = send
        self.payloads = itertools.cycle(spec.events)  # each arrival sends the next, round and round
        self.sent = 0
        self._rand = loop.rng.random
        # Read on every arrival, so bound once.
        self._on_arrive = self._arrive
        self._heap, self._seq = loop.heap, loop.seq
        self._start, self._end, self._rate, self._poisson = spec.start, spec.end, spec.rate, spec.poisson

    def start(self) -> None:
        spec = self.spec
        if spec.burst:
            self.loop.at(spec.start, self._burst)
        elif spec.ramp_to:
            RampArrivals(self).start()
        elif spec.rate > 0 and spec.end > spec.start:
            first = spec.start + (self._gap() if spec.poisson else 0.0)
            if first < spec.end:
                self.loop.at(first, self._arrive)

    def _gap(self) -> float:
        return -math.log(1.0 - self._rand()) / self.spec.rate

    def _arrive(self, _: Any) -> None:
        sent, send = self.sent, self.send  # a callable in a slot, called from a local (see FunctionRuntime)
        send(next(self.payloads))
        self.sent = sent = sent + 1
        # Uniform times are computed from the start, not accumulated, so rounding cannot drift over a long run.
        nxt = self.loop.now + self._gap() if self._poisson else self._start + sent / self._rate
        if nxt < self._end:
            heappush(self._heap, (nxt, next(self._seq), self._on_arrive, None))

    def _burst(self, _: Any) -> None:
        send, payloads = self.send, self.payloads
        for _ in range(self.spec.burst):
            send(next(payloads))
        self.sent += self.spec.burst


class RampArrivals:
    """A rate that rises (or falls) linearly over the window: each arrival is placed where the ramp has made
    one more (uniform) or one more exponential draw of arrivals (Poisson, by a change of time), so the
    arrivals follow the rate exactly and nothing accumulates rounding."""

    __slots__ = ("generator", "mass")

    def __init__(self, generator: Generator):
        self.generator = generator
        self.mass = 0.0  # arrivals made so far, in the ramp's own count

    def start(self) -> None:
        self._schedule()

    def _schedule(self) -> None:
        generator = self.generator
        spec = generator.spec
        self.mass += -math.log(1.0 - generator.loop.rng.random()) if spec.poisson else (1.0 if generator.sent else 0.0)
        if arrivals_by(spec, spec.end - spec.start) <= self.mass:
            return
        generator.loop.at(spec.start + time_of_arrival(spec, self.mass), self._arrive)

    def _arrive(self, _: Any) -> None:
        generator = self.generator
        generator.send(next(generator.payloads))
        generator.sent += 1
        self._schedule()
