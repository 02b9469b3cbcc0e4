"""The event loop: virtual time, a heap of pending actions, one seeded random generator.

Like SimPy's core without processes: an action is a plain callable and its one
argument, ordered by (time, sequence) so that equal times run in the order they
were scheduled. Nothing here reads the wall clock, so a run is a pure function
of the scenario and the seed.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

Action = Callable[[Any], None]
Listener = Callable[[float, str, dict[str, Any]], None]


class EventLoop:
    """Virtual time and what happens next; also the one place engine events are published."""

    __slots__ = ("now", "heap", "rng", "listeners", "events_run", "next_id", "seq")

    def __init__(self, seed: int):
        self.now = 0.0
        self.heap: list[tuple[float, int, Action, Any]] = []
        self.rng = random.Random(seed)
        self.listeners: list[Listener] = []
        self.events_run = 0
        self.next_id = itertools.count(1).__next__  # request and environment numbers, in creation order
        # Tie-breaker for equal times. Hot handlers push (time, next(loop.seq), action, arg) themselves.
        self.seq = itertools.count()

    def at(self, time: float, action: Action, arg: Any = None) -> None:
        heappush(self.heap, (time, next(self.seq), action, arg))

    def next_time(self) -> float | None:
        return self.heap[0][0] if self.heap else None

    def run_until(self, end: float, max_events: int = -1) -> int:
        """Run every action due at or before `end` (or `max_events` of them); returns how many ran."""
        heap = self.heap
        count = 0
        # `while True` on purpose: its JUMP_BACKWARD is what lets CPython 3.11 specialise this loop's
        # bytecode; a `while <condition>:` loop jumps back with POP_JUMP_BACKWARD_IF_TRUE, which
        # never does, so a single long call (a whole run) would stay on the slow generic path.
        while True:
            if count == max_events or not heap:
                break
            time, seq, action, arg = heappop(heap)
            if time > end:  # not yet: back where it was (its sequence number keeps its place)
                heappush(heap, (time, seq, action, arg))
                break
            self.now = time
            action(arg)
            count += 1
        if count != max_events and self.now < end:
            self.now = end
        self.events_run += count
        return count

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        """Tell every listener what just happened. Callers check `listeners` first, so a silent run pays nothing."""
        for listener in self.listeners:
            listener(self.now, kind, data)
