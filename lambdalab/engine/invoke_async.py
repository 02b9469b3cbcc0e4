"""Asynchronous invocation (Event): Lambda's internal queue, retries, maximum event age, DLQ and destinations.

From https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html:
a function error (exception, timeout, crash) is retried up to
`maximum_retry_attempts` times (0-2, default 2), about 1 minute and then about
2 minutes later; a throttle goes back to the queue with a backoff that grows
from 1 second to 5 minutes, for as long as the event is younger than
`maximum_event_age` (60 s - 6 h, default 6 h). An event that runs out of
retries or age is dropped: its copy goes to the dead-letter queue and/or the
on-failure destination. With reserved concurrency 0, events go straight there
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdalab import limits
from lambdalab.engine.admission import admit, admit_tenant, count_throttle
from lambdalab.engine.clock import EventLoop
from lambdalab.engine.concurrency import AccountConcurrency
from lambdalab.engine.destinations import Destinations, dead_letter_attributes, invocation_record
from lambdalab.engine.environments import Environment, FunctionRuntime
from lambdalab.engine.ids import function_arn, request_id
from lambdalab.engine.permissions import may_send as role_may_send

RETRIES_EXHAUSTED = "RetriesExhausted"
EVENT_AGE_EXCEEDED = "EventAgeExceeded"
# What a dead letter says when the last attempt was throttled rather than run: HTTP 429 and the
# TooManyRequestsException message (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
THROTTLED = ("TooManyRequestsException", "Rate Exceeded.", 429)


class AsyncEvent:
    """One event in the internal queue; its request ID stays the same across attempts."""

    __slots__ = (
        "number",
        "function",
        "payload",
        "received_at",
        "attempts",
        "backoff",
        "next_try",
        "waiting_for",
        "error",
        "error_message",
        "status_code",
        "response",
        "tenant",
    )

    def __init__(self, number: int, function: FunctionRuntime, payload: Any, now: float, tenant: str | None):
        self.number = number
        self.function = function
        self.payload = payload
        self.received_at = now
        self.attempts = 0
        self.backoff = 0.0
        self.next_try = now
        self.waiting_for = ""  # "throttle" or "retry" while it waits
        self.error: str | None = None  # how the last attempt failed
        self.error_message: str | None = None
        self.status_code = 200  # the last attempt's HTTP status: 200 when the function ran, 429 when throttled
        self.response = None  # what real code returned (a behaviour model returns nothing)
        self.tenant = tenant  # its tenant id, for a function in tenant isolation mode (invoke_tenant.py)


class AsyncInvoker:
    # What makes an event: recursion.py's invoker makes one that carries its request chain.
    new_event: Callable[[int, FunctionRuntime, Any, float, str | None], AsyncEvent] = AsyncEvent

    def __init__(
        self,
        loop: EventLoop,
        account: AccountConcurrency,
        destinations: Destinations,
        seed: int,
        region: str,
        account_id: str,
    ):
        self.loop = loop
        self.account = account
        self.destinations = destinations
        self.seed = seed
        self.region = region
        self.account_id = account_id
        self._sends: dict[tuple[str, str], bool] = {}

    def receive(self, fn: FunctionRuntime, payload: Any, tenant: str | None = None) -> None:
        """Lambda accepted the event (HTTP 202) and queued it."""
        event = self.new_event(self.loop.next_id(), fn, payload, self.loop.now, tenant)
        fn.outcomes.requests += 1
        fn.async_state.received += 1
        fn.async_state.alive += 1
        if fn.reserved == 0:  # fully throttled: straight to the DLQ and on-failure destination, no retries
            fn.metrics.throttles += 1
            event.error, event.error_message, event.status_code = THROTTLED
            self.discard(event, RETRIES_EXHAUSTED)
            return
        self.attempt(event)

    def attempt(self, event: AsyncEvent) -> None:
        """Try to hand the event to an environment now (also the timer action for retries and backoff)."""
        loop = self.loop
        fn = event.function
        now = loop.now
        if event.waiting_for:
            if event.waiting_for == "retry":  # counted when it happens: a retry the event's age pre-empts is none
                fn.async_state.retried += 1
            del fn.async_state.waiting[event.number]
            event.waiting_for = ""
        tenant = event.tenant
        if tenant is None:
            got = admit(fn, self.account, now)
        else:  # only the events of a function in tenant isolation mode have one
            got = admit_tenant(fn, self.account, now, tenant)  # type: ignore[arg-type]  # so fn is a TenantRuntime
        if got.__class__ is str:
            count_throttle(fn, loop, event.number, "async", got)
            event.error, event.error_message, event.status_code = THROTTLED
            # Backoff from 1 s up to 5 min, with seeded jitter so that a throttled burst does not return in lockstep.
            event.backoff = min(limits.ASYNC_BACKOFF_MAX_S, max(limits.ASYNC_BACKOFF_MIN_S, event.backoff * 2.0))
            delay = min(limits.ASYNC_BACKOFF_MAX_S, event.backoff * (1.0 + 0.5 * loop.rng.random()))
            self._wait(event, delay, "throttle")
            return
        age_ms = (now - event.received_at) * 1000.0
        if age_ms > fn.async_state.max_age_ms:
            fn.async_state.max_age_ms = age_ms
        event.attempts += 1
        fn.begin(got, event.number, event.payload, self.done, event)  # type: ignore[arg-type]  # str returned above

    def _wait(self, event: AsyncEvent, delay: float, reason: str) -> None:
        fn = event.function
        now = self.loop.now
        deadline = event.received_at + fn.config.async_config.maximum_event_age
        event.next_try = now + delay
        if event.next_try > deadline:  # it will be too old before its next try
            self.loop.at(deadline, self.expire, event)
        else:
            self.loop.at(event.next_try, self.attempt, event)
        event.waiting_for = reason
        fn.async_state.waiting[event.number] = event
        if self.loop.listeners:
            self.loop.emit(
                "async_wait",
                {
                    "function": fn.name,
                    "request_id": event.number,
                    "attempts": event.attempts,
                    "reason": reason,
                    "next_try_s": round(event.next_try, 6),
                },
            )

    def expire(self, event: AsyncEvent) -> None:
        del event.function.async_state.waiting[event.number]
        event.waiting_for = ""
        self.discard(event, EVENT_AGE_EXCEEDED)

    def done(self, env: Environment) -> None:
        event = env.async_event
        assert isinstance(event, AsyncEvent)  # attempt() begins every asynchronous invoke with its event
        fn = env.function
        event.error, event.error_message, event.status_code = env.error, env.error_message, 200
        event.response = env.response
        async_config = fn.config.async_config
        if env.error is None:
            fn.outcomes.succeeded += 1
            fn.async_state.alive -= 1
            if async_config.on_success:
                self._record(event, async_config.on_success, "Success")
            return
        if event.attempts <= async_config.maximum_retry_attempts:
            self._wait(event, limits.ASYNC_RETRY_DELAYS_S[event.attempts - 1], "retry")
            return
        self.discard(event, RETRIES_EXHAUSTED)

    def discard(self, event: AsyncEvent, condition: str) -> None:
        """Out of retries or too old: AsyncEventsDropped, with a copy to the DLQ and the on-failure destination."""
        fn = event.function
        fn.async_state.dropped += 1
        fn.async_state.alive -= 1
        now = self.loop.now
        if self.loop.listeners:
            self.loop.emit(
                "async_drop",
                {"function": fn.name, "request_id": event.number, "condition": condition, "attempts": event.attempts},
            )
        dlq = fn.config.dead_letter_queue
        if dlq:
            attributes = dead_letter_attributes(self._id(event), event.status_code, event.error_message)
            ok = self.may_send(fn, dlq) and self.destinations.deliver(dlq, now, event.payload, attributes)
            if ok:
                fn.async_state.to_dlq += 1
            else:
                fn.async_state.dead_letter_errors += 1
            self._delivered(event, dlq, "dead_letter_queue", ok)
        on_failure = fn.config.async_config.on_failure
        if on_failure:
            self._record(event, on_failure, condition)

    def _record(self, event: AsyncEvent, target: str, condition: str) -> None:
        fn = event.function
        now = self.loop.now
        record = invocation_record(
            now=now,
            request_id=self._id(event),
            version=fn.version,
            function_arn=function_arn(self.region, self.account_id, fn.config.name, fn.version),
            condition=condition,
            attempts=event.attempts,
            event=event.payload,
            status_code=event.status_code,
            error=event.error,
            error_message=event.error_message,
            response=event.response,
        )
        ok = self.may_send(fn, target) and self.destinations.deliver(target, now, record)
        success = condition == "Success"
        if not ok:
            fn.async_state.destination_failures += 1
        elif success:
            fn.async_state.to_on_success += 1
        else:
            fn.async_state.to_on_failure += 1
        self._delivered(event, target, "on_success" if success else "on_failure", ok)

    def _delivered(self, event: AsyncEvent, target: str, route: str, ok: bool) -> None:
        if self.loop.listeners:
            self.loop.emit(
                "delivery",
                {
                    "function": event.function.name,
                    "request_id": event.number,
                    "route": route,
                    "target": target,
                    "delivered": ok,
                },
            )

    def may_send(self, fn: FunctionRuntime, target: str) -> bool:
        """The execution role's say on a delivery, decided once per function and target."""
        key = (fn.name, target)
        if key not in self._sends:
            self._sends[key] = role_may_send(fn.config, target, self.region, self.account_id)
        return self._sends[key]

    def _id(self, event: AsyncEvent) -> str:
        return request_id(self.seed, event.number)
