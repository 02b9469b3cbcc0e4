"""Tumbling windows on a Kinesis or DynamoDB stream mapping: state carried between a shard's invocations.

As https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html and
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html describe it: each record belongs to
the window of its arrival time; a batch holds records of one window and the event carries the `state` the
shard's last invocation returned, the `window` (start, end), `shardId`, `eventSourceARN`,
`isFinalInvokeForWindow` and `isWindowTerminatedEarly`; the function returns `{"state": {...},
"batchItemFailures": [...]}`, and a response without `state` counts as a failed invocation. At the window's
end a final invocation gets the state; when it succeeds the window is closed and the next one starts with a
fresh state; when it fails, the shard waits until it succeeds. A state over 1 MB ends the window early.

lambdalab's choices where AWS documents no detail (UNCONFIRMED):
- windows are aligned to multiples of their length since the Unix epoch (a 1-minute window starts on a
  whole minute);
- the final invocation carries no records (`Records: []`), and comes once the window has ended and its
  last record has been processed;
- a window ended early by its state's size gets a final invocation with both flags true and that state;
  the window's later records start again from a fresh state, as a new piece of the same window;
- each of a shard's `parallelization_factor` parts keeps its own state, as it reads its own records;
- a behaviour model's state counts the records the window has held so far: `{"records": N}`;
- a batch that fails leaves the state as it was; one that fails part way (a partial batch response)
  keeps the state the code returned, which covers the records before the failing one.

The mapping is chosen when the simulation is built, so mappings without a window pay nothing for this.
"""

from __future__ import annotations

import json
from collections import deque
from itertools import islice
from typing import TYPE_CHECKING, Any, cast

from lambdalab.engine.destinations import EPOCH_MS, timestamp
from lambdalab.engine.streams import Lane, StreamMapping, StreamRecord
from lambdalab.limits import TUMBLING_STATE_MAX_BYTES

if TYPE_CHECKING:
    from lambdalab.engine.environments import Environment

EPOCH_S = EPOCH_MS // 1000  # virtual time 0 in Unix seconds
RECORDS_KEPT = 100  # the report lists the records of the first 100 closed windows


class WindowLane(Lane):
    """A lane and the window it has open: which one, the state its last invocation returned, and how many
    records that state covers."""

    __slots__ = ("open", "state", "count", "ending")

    def __init__(self, shard: int, part: int):
        super().__init__(shard, part)
        self.open: int | None = None  # the open window's number (its start over its length), None: none open
        self.state: Any = {}
        self.count = 0  # records processed into the open window (since its state was fresh)
        self.ending = False  # the state grew past 1 MB: the next invocation ends the window early


class WindowedStreamMapping(StreamMapping):
    """A stream mapping with `tumbling_window`: batches cut at window boundaries, state passed along each lane,
    and a final invocation per window."""

    lane_type = WindowLane

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.length = self.config.tumbling_window
        self.finals: dict[int, WindowLane] = {}  # request -> the lane whose window it closes
        self.closed = 0
        self.terminated_early = 0
        self.final_invocations = 0
        self.window_records: list[int] = []  # records in each closed window, the first RECORDS_KEPT

    def window_of(self, record: StreamRecord) -> int:
        return int((EPOCH_S + record.arrived_at) // self.length)

    def window_end(self, window: int) -> float:
        """In virtual time: a whole second, so on every poll's beat."""
        return float((window + 1) * self.length - EPOCH_S)

    # --- reading, one window at a time ----------------------------------------------------------

    def _serve(self, lane: Lane, now: float) -> None:
        w = cast(WindowLane, lane)
        self._drop_old(w, now)
        if w.open is not None:
            head = w.batches[0][0] if w.batches else w.pending[0] if w.pending else None
            end = self.window_end(w.open)
            if w.ending or (now >= end if head is None else self.window_of(head) != w.open):
                self._invoke_final(w, now)
                return
            if head is None:
                self._poll_at(w, end)  # nothing more in this window yet: close it at its end
                return
        if not w.batches:
            batch = self._read(w, now, self._size(w.pending))
            if batch is None:
                return
            w.batches.append(batch)
            w.attempts = 0
            w.open = self.window_of(batch[0])
        self._invoke(w, w.batches[0], now)

    def _size(self, pending: deque[StreamRecord]) -> int:
        """The batch size, or fewer when the next window starts sooner: a batch never mixes windows."""
        size = self.config.batch_size
        if pending:
            first = self.window_of(pending[0])
            for i, record in enumerate(islice(pending, size)):
                if self.window_of(record) != first:
                    return i
        return size

    def _event(self, lane: Lane, batch: list[StreamRecord]) -> dict[str, Any]:
        event = self.event(batch)
        event.update(self._window_fields(cast(WindowLane, lane), final=False))
        return event

    def _window_fields(self, w: WindowLane, final: bool) -> dict[str, Any]:
        assert w.open is not None  # a lane invokes only with a window open
        start = w.open * self.length - EPOCH_S
        return {
            "window": {"start": _whole_seconds(start), "end": _whole_seconds(start + self.length)},
            "state": w.state,
            "shardId": self.stream.shard_id(w.shard),
            "eventSourceARN": self.stream.arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": final and w.ending,
        }

    # --- what an invocation returns -------------------------------------------------------------

    def _failed_from(self, env: Environment, lane: Lane, batch: list[StreamRecord], modelled: int | None) -> int | None:
        w = cast(WindowLane, lane)
        if self.fn.real is None:
            failed_from = super()._failed_from(env, lane, batch, modelled)
            done = len(batch) if failed_from is None else failed_from
            if done:
                w.count += done
                w.state = {"records": w.count}
            return failed_from
        response = env.response
        if not _has_state(response):
            return 0
        failed_from = None
        if self.config.report_batch_item_failures:
            failed_from = self._reported({k: v for k, v in response.items() if k != "state"}, batch)
        if failed_from != 0:
            w.count += len(batch) if failed_from is None else failed_from
            w.state = response["state"]
            size = len(json.dumps(w.state, ensure_ascii=False, separators=(",", ":")).encode())
            w.ending = size > TUMBLING_STATE_MAX_BYTES
        return failed_from

    def _done(self, env: Environment) -> None:
        final = self.finals.pop(env.request, None)
        if final is not None:
            self._final_done(final, env)
            return
        w = cast(WindowLane, self.batches[env.request][0])
        super()._done(env)
        if w.open is not None:  # the window closes at its end, or at once when its state grew too big
            now = self.loop.now
            self._poll_at(w, now if w.ending else max(now, self.window_end(w.open)))

    # --- the final invocation -------------------------------------------------------------------

    def _invoke_final(self, w: WindowLane, now: float) -> None:
        got = self._start(w, now)
        if got is None:
            return
        self.final_invocations += 1
        self.finals[w.last_request] = w
        event = {"Records": [], **self._window_fields(w, final=True)} if self.fn.real is not None else None
        self.fn.begin(got, w.last_request, event, self._done)

    def _final_done(self, w: WindowLane, env: Environment) -> None:
        """A window's final invocation ended: the window closes, or the shard tries it again at once."""
        fn, now = self.fn, self.loop.now
        fn.outcomes.sync_in_flight -= 1
        w.busy = False
        if env.error is not None:
            fn.outcomes.failed += 1
            closed = False
        else:
            fn.outcomes.succeeded += 1
            closed = fn.real is None or _has_state(env.response)
        if not closed:
            fn.async_state.retried += 1
            w.attempts += 1
        assert w.open is not None
        if self.loop.listeners:
            start = w.open * self.length - EPOCH_S
            self.loop.emit(
                "window_final_done",
                {
                    "function": fn.name,
                    "request_id": env.request,
                    "stream": self.stream.config.name,
                    "shard": w.shard,
                    "part": w.part,
                    "window": [float(start), float(start + self.length)],
                    "records": w.count,
                    "early": w.ending,
                    "outcome": "closed" if closed else "retrying",
                    "attempts": w.attempts,
                },
            )
        if not closed:
            self._poll_at(w, now)
            return
        self.closed += 1
        self.terminated_early += w.ending
        if len(self.window_records) < RECORDS_KEPT:
            self.window_records.append(w.count)
        w.open, w.state, w.count, w.ending, w.attempts = None, {}, 0, False, 0
        if w.batches or w.pending:
            self._poll_at(w, now)


def window_figures(mapping: StreamMapping) -> dict[str, Any] | None:
    """The report's `windows` for one stream mapping, or None when it has no tumbling window."""
    if not isinstance(mapping, WindowedStreamMapping):
        return None
    return {
        "closed": mapping.closed,
        "terminated_early": mapping.terminated_early,
        "final_invocations": mapping.final_invocations,
        "records": list(mapping.window_records),
    }


def _has_state(response: Any) -> bool:
    """Whether a response can go on: "If the response does not contain a state property, Lambda considers this
    a failed invocation" (KIN_WINDOWS)."""
    return isinstance(response, dict) and "state" in response


def _whole_seconds(seconds: float) -> str:
    """A window's bound as the event writes it, in whole seconds: 2026-01-01T00:01:00Z."""
    return timestamp(seconds)[:-5] + "Z"
