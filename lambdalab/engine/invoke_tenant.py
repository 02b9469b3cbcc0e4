"""Invoking a function in tenant isolation mode: each request carries a tenant id, which decides the
environments it may use.

A request without a valid id is refused before anything runs or is queued: HTTP 400
InvalidParameterValueException (https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation-troubleshooting.html).
The caller gets an error, so it counts as `failed` (the outcome of a request answered with an error), not in
Invocations or Errors, as the function never ran. Both invocation types take an id
(https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation-invoke.html): a synchronous request is
admitted at once; an asynchronous event keeps its tenant through Lambda's queue and retries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdalab import limits
from lambdalab.engine.admission import admit_tenant, count_throttle
from lambdalab.engine.clock import EventLoop
from lambdalab.engine.concurrency import AccountConcurrency
from lambdalab.engine.invoke_async import AsyncInvoker
from lambdalab.engine.tenants import TenantRuntime

TenantPicker = Callable[[Any], "str | None"]  # the event -> its tenant id, None when it gives no valid one


class TenantInvoker:
    def __init__(self, loop: EventLoop, account: AccountConcurrency, async_invoker: AsyncInvoker):
        self.loop = loop
        self.account = account
        self.async_invoker = async_invoker

    def request(self, pick: TenantPicker, fn: TenantRuntime, event: Any) -> None:
        """A synchronous invoke (RequestResponse), as SyncInvoker.request with the tenant's environments."""
        loop = self.loop
        tenant = pick(event)
        number = loop.next_id()
        fn.outcomes.requests += 1
        if tenant is None:
            self._refuse(fn, number, "sync")
            return
        fn.tenancy.counts(tenant).requests += 1
        got = admit_tenant(fn, self.account, loop.now, tenant)
        if got.__class__ is str:
            count_throttle(fn, loop, number, "sync", got)
            fn.outcomes.throttled += 1
            return
        fn.outcomes.sync_in_flight += 1
        fn.begin(got, number, event)  # type: ignore[arg-type]  # an Environment: no narrowing on __class__

    def receive(self, pick: TenantPicker, fn: TenantRuntime, event: Any) -> None:
        """An asynchronous invoke (Event): accepted into Lambda's queue with its tenant id, or refused."""
        tenant = pick(event)
        if tenant is None:
            fn.outcomes.requests += 1
            self._refuse(fn, self.loop.next_id(), "async")
            return
        fn.tenancy.counts(tenant).requests += 1
        self.async_invoker.receive(fn, event, tenant)

    def _refuse(self, fn: TenantRuntime, number: int, invocation: str) -> None:
        fn.tenancy.rejected += 1
        fn.outcomes.failed += 1
        if self.loop.listeners:
            self.loop.emit(
                "rejected",
                {
                    "function": fn.name,
                    "request_id": number,
                    "invocation": invocation,
                    "status": 400,
                    "error": limits.INVALID_PARAMETER_ERROR,
                    "reason": "the request has no valid tenant id, and the function is in tenant isolation mode",
                },
            )
