"""Whether one request gets an execution environment now, or a 429 and the reason for it.

The decision reads the function's runtime (its warm and provisioned environments, its family of versions)
against the concurrency state of concurrency.py; the sources of each rule are cited there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdalab.engine.concurrency import ACCOUNT_LIMIT, RESERVED_LIMIT, SCALING_LIMIT, TENANT_LIMIT, AccountConcurrency

if TYPE_CHECKING:
    from lambdalab.engine.clock import EventLoop
    from lambdalab.engine.environments import Environment, FunctionRuntime
    from lambdalab.engine.tenants import TenantRuntime


def count_throttle(fn: FunctionRuntime, loop: EventLoop, number: int, invocation: str, reason: str) -> None:
    """One invoke attempt refused with a 429 (the Throttles metric), told to whoever follows the trace."""
    fn.metrics.throttles += 1
    if loop.listeners:
        loop.emit(
            "throttle",
            {
                "function": fn.name,
                "request_id": number,
                "invocation": invocation,
                "reason": reason,
                "status": 429,
                "error": "TooManyRequestsException",
            },
        )


def admit(fn: FunctionRuntime, account: AccountConcurrency, now: float) -> Environment | str:
    """An environment to run one request on, or the reason the request is throttled.

    Provisioned environments are used first; then a warm on-demand one (the most
    recently used); then a new one, if the scaling rate allows.
    """
    if fn.warm_provisioned:
        return fn.warm_provisioned.pop()
    router = fn.router
    if router is not None:  # Managed Instances: a free slot or a 429, never a cold start
        return router(now)
    reserved = fn.reserved
    if reserved is not None:
        # A function alone reaches here only when its provisioned environments are all busy; a version may
        # not take the seats of its siblings' idle ones.
        family = fn.family
        if (fn.busy if family is None else family.busy + family.idle_provisioned) >= reserved:
            return RESERVED_LIMIT
    elif account.unreserved_busy >= account.unreserved_capacity:
        return ACCOUNT_LIMIT
    if fn.warm:
        env = fn.warm.pop()
    elif fn.scaling.take(now):
        env = fn.create_environment(now, provisioned=False)
    else:
        return SCALING_LIMIT
    if reserved is None:
        account.unreserved_busy += 1
        if account.unreserved_busy > account.max_unreserved_busy:
            account.max_unreserved_busy = account.unreserved_busy
    return env


def admit_tenant(fn: TenantRuntime, account: AccountConcurrency, now: float, tenant: str) -> Environment | str:
    """admit() for a function in tenant isolation mode: the same concurrency, but only an idle environment
    of the request's own tenant is warm (the most recently used), and a new one is made only while the
    function's live tenant environments stay under its cap (tenants.py).

    Its own function rather than a branch in admit(): functions without isolation never pay for it (and
    such a function has no provisioned environments to look at).
    """
    reserved = fn.reserved
    if reserved is not None:
        family = fn.family  # a version shares the reservation with its siblings (and none has provisioned ones)
        if (fn.busy if family is None else family.busy) >= reserved:
            return RESERVED_LIMIT
    elif account.unreserved_busy >= account.unreserved_capacity:
        return ACCOUNT_LIMIT
    env = fn.take_idle(tenant)
    if env is None:
        tenancy = fn.tenancy  # function-wide, as the cap is
        if tenancy.live >= tenancy.cap:
            return TENANT_LIMIT
        if not fn.scaling.take(now):
            return SCALING_LIMIT
        env = fn.create_tenant_environment(now, tenant)
    if reserved is None:
        account.unreserved_busy += 1
        if account.unreserved_busy > account.max_unreserved_busy:
            account.max_unreserved_busy = account.unreserved_busy
    return env
