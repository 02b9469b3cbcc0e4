"""Provisioned mode of an SQS event source mapping: a fleet of pollers kept between a minimum and a maximum.

As https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html and
https://docs.aws.amazon.com/lambda/latest/api/API_ProvisionedPollerConfig.html describe it (facts in
shared/reference/lambda-2026.md §4 and §9.4): the minimum pollers poll from the start; each poller carries at
most 10 concurrent invokes and 10 ReceiveMessage calls a second; while messages wait, pollers are added so
that concurrency grows by up to 1,000 a minute (standard mode: 300), to the maximum pollers x 10 and at most
20,000; idle pollers go, never below the minimum. Each poller is billed per second, at least a minute per
start (https://aws.amazon.com/lambda/pricing/).

Model choices where AWS documents no timing (UNCONFIRMED): a poller is added every 0.6 s (1,000 concurrency a
minute, 10 a poller) while every poller is busy and no batch is held back by throttling (pollers cannot invoke
more than the function's concurrency lets them: a held batch is tried again at that pace instead); once a
minute, pollers beyond what the last minute needed (its peak of batches in flight, and its ReceiveMessage calls)
go, newest first; one ReceiveMessage call returns at most 10 messages, so a larger batch takes several calls.
The 1 MB/s per poller is not modelled.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lambdalab import limits
from lambdalab.engine.sources import SqsMapping

if TYPE_CHECKING:
    from lambdalab.engine.clock import EventLoop
    from lambdalab.engine.concurrency import AccountConcurrency
    from lambdalab.engine.destinations import Message, QueueState
    from lambdalab.engine.environments import FunctionRuntime
    from lambdalab.engine.model import EventSourceMapping

PER_POLLER = limits.SQS_POLLER_INVOKES
GROWTH_STEP_S = 60.0 / (limits.SQS_PROVISIONED_CONCURRENCY_PER_MINUTE / PER_POLLER)  # one more poller this often
_ROUNDING = 1e-9  # calls and seconds this close count as there: floating point never loops on a sliver
IDLE_CHECK_S = 60.0  # how often pollers the last minute did not need go (UNCONFIRMED: lambdalab's choice)


class ProvisionedSqsMapping(SqsMapping):
    """An SQS mapping in provisioned mode: its concurrency is its pollers' (10 each), their ReceiveMessage calls
    are counted against 10 a second each, and the fleet grows, shrinks and is billed as pollers."""

    def __init__(
        self,
        config: EventSourceMapping,
        queue: QueueState,
        dlq: QueueState | None,
        fn: FunctionRuntime,
        loop: EventLoop,
        account: AccountConcurrency,
        region: str,
        account_id: str,
    ):
        super().__init__(config, queue, dlq, fn, loop, account, region, account_id)
        bounds = config.provisioned_pollers
        assert bounds is not None  # the simulation makes this class only for provisioned mappings
        self.minimum = bounds.minimum
        # Pollers beyond 20,000 / 10 would add no concurrency.
        self.most = min(bounds.maximum, limits.SQS_PROVISIONED_CONCURRENCY_MAX // PER_POLLER)
        self.pollers = self.minimum  # polling from the start
        self.max_active = self.pollers
        self.step_max_pollers = self.pollers  # the most within the current series step
        self.started: list[float] = []  # start times of the pollers above the minimum, newest last
        self.billed_s = 0.0  # poller-seconds of pollers gone
        self.per_batch = math.ceil(config.batch_size / limits.SQS_MESSAGES_PER_RECEIVE)  # calls for a full batch
        self.calls = float(self.pollers * limits.SQS_POLLER_RECEIVES_PER_S)  # ReceiveMessage calls left: a second's
        self.calls_at = 0.0  # when `calls` was last topped up
        self.grow_at: float | None = None  # the next poller's time, while every poller is busy
        self.checking = False  # whether the idle check is scheduled
        self.peak = 0  # batches in flight at most since the last idle check ...
        self.calls_made = 0  # ... and ReceiveMessage calls made since

    # --- what the pollers can do now ------------------------------------------------------------

    def limit(self, now: float) -> int:
        """Batches in flight the pollers allow now: 10 each, and no more receives than their calls left."""
        self._top_up(now)
        return min(self.pollers * PER_POLLER, self.in_flight + int(self.calls / self.per_batch + _ROUNDING))

    def _top_up(self, now: float) -> None:
        """ReceiveMessage calls come back at 10 a second a poller, up to a second's worth."""
        rate = self.pollers * limits.SQS_POLLER_RECEIVES_PER_S
        self.calls = min(float(rate), self.calls + (now - self.calls_at) * rate)
        self.calls_at = now

    def _receive(self, batch: list[Message], now: float) -> None:
        calls = max(1, math.ceil(len(batch) / limits.SQS_MESSAGES_PER_RECEIVE))
        self.calls -= calls
        self.calls_made += calls
        super()._receive(batch, now)
        if self.in_flight > self.peak:
            self.peak = self.in_flight

    def _poll_when_more(self, now: float) -> None:
        """Every poller busy (or out of calls) with messages waiting: poll when calls come back, and in GROWTH_STEP_S
        add a poller, or try the batches the function throttled again."""
        if self.in_flight < self.pollers * PER_POLLER:  # out of ReceiveMessage calls, not of concurrency
            rate = self.pollers * limits.SQS_POLLER_RECEIVES_PER_S
            self._poll_later(now + max(_ROUNDING, (self.per_batch - self.calls) / rate))
        if self.grow_at is None and (self.pollers < self.most or self.held):
            self.grow_at = now + GROWTH_STEP_S
            self.loop.at(self.grow_at, self._grow)

    # --- the fleet ------------------------------------------------------------------------------

    def _grow(self, _: object) -> None:
        """One more poller, if messages still wait for one and the function takes what the pollers hold."""
        self.grow_at = None
        now = self.loop.now
        if self.held:  # throttled batches: try them again rather than add a poller the function cannot serve
            self._poll_later(now)
            return
        if self.queue.ready.first_sent_at() is None or self.pollers >= self.most:
            return
        self._top_up(now)
        self.pollers += 1
        self.started.append(now)
        if self.pollers > self.max_active:
            self.max_active = self.pollers
        if self.pollers > self.step_max_pollers:
            self.step_max_pollers = self.pollers
        if self.loop.listeners:
            self._tell("waiting")
        if not self.checking:
            self.checking = True
            self.loop.at(now + IDLE_CHECK_S, self._check_idle)
        self._poll_later(now)

    def _check_idle(self, _: object) -> None:
        """Pollers the last minute did not need go, newest first, never below the minimum."""
        now = self.loop.now
        waiting = self.queue.ready.first_sent_at() is not None and self.in_flight >= self.limit(now)
        if not waiting:
            needed = max(
                self.minimum,
                math.ceil(self.peak / PER_POLLER),
                math.ceil(self.calls_made / (IDLE_CHECK_S * limits.SQS_POLLER_RECEIVES_PER_S)),
            )
            if needed < self.pollers:
                self._top_up(now)
                while self.pollers > needed:
                    self.billed_s += max(limits.POLLER_BILLING_MINIMUM_S, now - self.started.pop())
                    self.pollers -= 1
                if self.loop.listeners:
                    self._tell("idle")
        self.peak, self.calls_made = self.in_flight, 0
        self.checking = self.pollers > self.minimum
        if self.checking:
            self.loop.at(now + IDLE_CHECK_S, self._check_idle)

    def _tell(self, reason: str) -> None:
        self.loop.emit(
            "pollers",
            {
                "function": self.fn.name,
                "queue": self.queue.config.name,
                "mapping": self.config.index,
                "pollers": self.pollers,
                "reason": reason,  # "waiting": one more for waiting messages; "idle": fewer after an idle minute
            },
        )

    # --- what the report reads ------------------------------------------------------------------

    def poller_seconds(self, now: float) -> float:
        """Billed poller-seconds until `now`: the minimum all along, each poller at least a minute per start."""
        least = limits.POLLER_BILLING_MINIMUM_S
        return (
            self.billed_s + self.minimum * max(least, now) + sum(max(least, now - started) for started in self.started)
        )
