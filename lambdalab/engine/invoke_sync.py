"""Synchronous invocation (RequestResponse): the caller waits, and Lambda never retries.

A throttled request fails at once with HTTP 429 TooManyRequestsException and
its Reason; a function error or timeout goes back to the caller as it is
(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-retries.html).
"""

from __future__ import annotations

from typing import Any

from lambdalab.engine.admission import admit, count_throttle
from lambdalab.engine.clock import EventLoop
from lambdalab.engine.concurrency import AccountConcurrency
from lambdalab.engine.environments import Environment, FunctionRuntime


class SyncInvoker:
    def __init__(self, loop: EventLoop, account: AccountConcurrency):
        self.loop = loop
        self.account = account

    def request(self, fn: FunctionRuntime, event: Any) -> Environment | None:
        """Run `event` on `fn` now if it gets an environment; that environment (None: throttled)."""
        loop = self.loop
        next_id = loop.next_id  # a callable in a slot, called from a local (see FunctionRuntime)
        number = next_id()
        fn.outcomes.requests += 1
        got = admit(fn, self.account, loop.now)
        if got.__class__ is str:
            count_throttle(fn, loop, number, "sync", got)
            fn.outcomes.throttled += 1
            return None
        fn.outcomes.sync_in_flight += 1
        # `got` is an Environment now, but mypy does not narrow on `__class__ is str` (the hot path's test:
        # cheaper than isinstance); and no callback: FunctionRuntime counts a synchronous outcome itself.
        fn.begin(got, number, event)  # type: ignore[arg-type]  # an Environment: no narrowing on __class__
        return got  # type: ignore[return-value]  # as above
