"""Tenant isolation mode: a function whose every execution environment serves one tenant id.

From https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation.html: Lambda looks for an available
environment of the request's tenant and, finding none, creates one (a cold start), which never serves
another tenant; tenant environments count toward the function's concurrency like any. From
https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation-troubleshooting.html: a function keeps at most
2,500 tenant environments, busy or idle, per 1,000 concurrent executions it may run (its reserved concurrency,
else the account's), beyond which Invoke answers 429 "Rate exceeded". Idle ones expire as any environment does.

A subclass of FunctionRuntime, chosen when the run is built, so that functions without isolation pay
nothing for it: it adds per-tenant pools of idle environments beside the function's own idle list (which
still orders them for expiry), tags each environment with its tenant, and counts per tenant.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambdalab import limits
from lambdalab.engine.environments import Environment, FunctionRuntime

if TYPE_CHECKING:
    from lambdalab.engine.clock import EventLoop
    from lambdalab.engine.concurrency import AccountConcurrency
    from lambdalab.engine.model import Function


class TenantEnvironment(Environment):
    """An execution environment bound to one tenant id for its whole life."""

    __slots__ = ("tenant",)

    def __init__(self, env_id: int, function: FunctionRuntime, now: float, tenant: str):
        super().__init__(env_id, function, now, provisioned=False)
        self.tenant = tenant


class TenantCounts:
    """One tenant's figures: requests that arrived with its id, invocations run, and cold starts."""

    __slots__ = ("requests", "invocations", "cold_starts")

    def __init__(self) -> None:
        self.requests = 0
        self.invocations = 0
        self.cold_starts = 0


class TenantRuntime(FunctionRuntime):
    """A function in tenant isolation mode (it has no provisioned concurrency and no published versions:
    the scenario builder refuses both)."""

    __slots__ = ("idle_by_tenant", "tenant_cap", "tenants", "rejected")

    def __init__(self, fn: Function, loop: EventLoop, account: AccountConcurrency):
        super().__init__(fn, loop, account)
        # Idle environments of each tenant, least recently used first; `warm` still holds them all in the
        # order they went idle, which is the order they expire in.
        self.idle_by_tenant: dict[str, deque[TenantEnvironment]] = {}
        limit = account.limit if fn.reserved_concurrency is None else fn.reserved_concurrency
        self.tenant_cap = limit * limits.TENANT_ENVIRONMENTS_PER_1000 // 1000
        self.tenants: dict[str, TenantCounts] = {}  # every tenant id seen, in the order first seen
        self.rejected = 0  # requests refused for want of a valid tenant id (InvalidParameterValueException)

    def counts(self, tenant: str) -> TenantCounts:
        """The tenant's figures, counting it as seen."""
        counts = self.tenants.get(tenant)
        if counts is None:
            counts = self.tenants[tenant] = TenantCounts()
        return counts

    def take_idle(self, tenant: str) -> TenantEnvironment | None:
        """The tenant's most recently used idle environment, out of the idle lists; None if it has none."""
        pool = self.idle_by_tenant.get(tenant)
        if pool is None:
            return None
        env = pool.pop()
        if not pool:
            del self.idle_by_tenant[tenant]
        # A scan of the function's idle list (C speed, at most the tenant cap long): cheaper here than keeping
        # a second structure in step on every invocation.
        self.warm.remove(env)
        return env

    def create_tenant_environment(self, now: float, tenant: str) -> TenantEnvironment:
        env = TenantEnvironment(self.metrics.environments_created + 1, self, now, tenant)
        self.add_environment(env)
        if self.loop.listeners:
            self.loop.emit("env_start", {"function": self.name, "env": env.id, "provisioned": False, "tenant": tenant})
        return env

    def begin(
        self,
        env: Environment,
        request: int,
        event: Any,
        on_done: Callable[[Environment], None] | None = None,
        async_event: object | None = None,
    ) -> None:
        super().begin(env, request, event, on_done, async_event)
        counts = self.tenants[env.tenant]  # type: ignore[attr-defined]  # a TenantEnvironment: made by this class
        counts.invocations += 1
        if env.cold:
            counts.cold_starts += 1

    def _invoke_done(self, env: Environment) -> None:
        # Into its tenant's idle pool first: the base class goes on to call the request's callback, which
        # may invoke again.
        tenant: str = env.tenant  # type: ignore[attr-defined]  # as in begin()
        pool = self.idle_by_tenant.get(tenant)
        if pool is None:
            pool = self.idle_by_tenant[tenant] = deque()
        pool.append(env)  # type: ignore[arg-type]  # as in begin()
        super()._invoke_done(env)

    def shutdown(self, env: Environment, reason: str) -> None:
        """Idle expiry takes the function's least recently used environment, so the first of its tenant's."""
        tenant: str = env.tenant  # type: ignore[attr-defined]  # as in begin()
        pool = self.idle_by_tenant[tenant]
        pool.popleft()
        if not pool:
            del self.idle_by_tenant[tenant]
        super().shutdown(env, reason)

    def invoke_start_data(self, env: Environment) -> dict[str, Any]:
        return {**super().invoke_start_data(env), "tenant": env.tenant}  # type: ignore[attr-defined]  # as above

    def invoke_end_data(self, env: Environment, duration_ms: float, billed: int) -> dict[str, Any]:
        return {**super().invoke_end_data(env, duration_ms, billed), "tenant": env.tenant}  # type: ignore[attr-defined]
