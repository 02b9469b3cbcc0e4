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
from lambdalab.engine.environments import Environment, FunctionRuntime, VersionRuntime

if TYPE_CHECKING:
    from lambdalab.engine.clock import EventLoop
    from lambdalab.engine.concurrency import AccountConcurrency, Family
    from lambdalab.engine.model import Function


class TenantEnvironment(Environment):
    """An execution environment bound to one tenant id for its whole life; while idle, a link in its
    function's IdleChain."""

    __slots__ = ("tenant", "older", "newer")

    def __init__(self, env_id: int, function: FunctionRuntime, now: float, tenant: str):
        super().__init__(env_id, function, now, provisioned=False)
        self.tenant = tenant
        self.older: TenantEnvironment | None = None
        self.newer: TenantEnvironment | None = None


class IdleChain:
    """A function's idle tenant environments in the order they went idle, which is the order idle expiry
    takes them in (FunctionRuntime's reaper uses it as it uses a deque). A request takes its own tenant's
    most recently used one, from anywhere in the order: a doubly linked list through the environments lets
    it go at once, where a deque would be searched (thousands of idle environments, at every warm start)."""

    __slots__ = ("oldest", "newest", "size")

    def __init__(self) -> None:
        self.oldest: TenantEnvironment | None = None
        self.newest: TenantEnvironment | None = None
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> Environment:
        if index != 0 or self.oldest is None:  # the runtime looks only at the oldest
            raise IndexError(index)
        return self.oldest

    def append(self, env: Environment) -> None:
        link: TenantEnvironment = env  # type: ignore[assignment]  # a TenantRuntime makes only TenantEnvironments
        link.older, link.newer = self.newest, None
        if self.newest is None:
            self.oldest = link
        else:
            self.newest.newer = link
        self.newest = link
        self.size += 1

    def remove(self, env: Environment) -> None:
        link: TenantEnvironment = env  # type: ignore[assignment]  # as in append()
        older, newer = link.older, link.newer
        if older is None:
            self.oldest = newer
        else:
            older.newer = newer
        if newer is None:
            self.newest = older
        else:
            newer.older = older
        link.older = link.newer = None
        self.size -= 1

    def popleft(self) -> Environment:
        env = self[0]
        self.remove(env)
        return env

    def pop(self) -> Environment:
        if self.newest is None:
            raise IndexError("pop from an empty IdleChain")
        env = self.newest
        self.remove(env)
        return env


def tenant_of(env: Environment) -> str:
    """The tenant of an environment of a TenantRuntime (which makes only TenantEnvironments: the base class's
    methods, which it extends, are typed for any Environment)."""
    return env.tenant  # type: ignore[attr-defined, no-any-return]  # a TenantEnvironment, as said above


class TenantCounts:
    """One tenant's figures: requests that arrived with its id, invocations run, and cold starts."""

    __slots__ = ("requests", "invocations", "cold_starts")

    def __init__(self) -> None:
        self.requests = 0
        self.invocations = 0
        self.cold_starts = 0


class Tenancy:
    """What a function's versions share in tenant isolation mode: the cap on live tenant environments, which
    is function-wide, and the figures per tenant (a tenant's requests may go to several versions)."""

    __slots__ = ("cap", "live", "max_live", "created", "tenants", "rejected")

    def __init__(self, fn: Function, account: AccountConcurrency):
        limit = account.limit if fn.reserved_concurrency is None else fn.reserved_concurrency
        self.cap = limit * limits.TENANT_ENVIRONMENTS_PER_1000 // 1000
        self.live = 0  # tenant environments alive, busy or idle, of every version
        self.max_live = 0
        self.created = 0
        self.tenants: dict[str, TenantCounts] = {}  # every tenant id seen, in the order first seen
        self.rejected = 0  # requests refused for want of a valid tenant id (InvalidParameterValueException)

    def counts(self, tenant: str) -> TenantCounts:
        """The tenant's figures, counting it as seen."""
        counts = self.tenants.get(tenant)
        if counts is None:
            counts = self.tenants[tenant] = TenantCounts()
        return counts


class TenantRuntime(FunctionRuntime):
    """A function (or, as TenantVersionRuntime, a version of one) in tenant isolation mode. It has no
    provisioned concurrency: the scenario builder refuses it."""

    __slots__ = ("tenancy", "idle", "idle_by_tenant")

    def __init__(self, fn: Function, loop: EventLoop, account: AccountConcurrency, tenancy: Tenancy):
        super().__init__(fn, loop, account)
        self.attach(tenancy)

    def attach(self, tenancy: Tenancy) -> None:
        """The tenant isolation parts, on top of what FunctionRuntime (or VersionRuntime) set up."""
        self.tenancy = tenancy
        # Idle environments of each tenant, least recently used first; `warm` holds them all in the order
        # they went idle, which is the order they expire in.
        self.warm = self.idle = IdleChain()  # the same list, typed as what it is
        self.idle_by_tenant: dict[str, deque[Environment]] = {}

    def take_idle(self, tenant: str) -> Environment | None:
        """The tenant's most recently used idle environment, out of the idle lists; None if it has none."""
        pool = self.idle_by_tenant.get(tenant)
        if pool is None:
            return None
        env = pool.pop()
        if not pool:
            del self.idle_by_tenant[tenant]
        self.idle.remove(env)
        return env

    def create_tenant_environment(self, now: float, tenant: str) -> TenantEnvironment:
        env = TenantEnvironment(self.metrics.environments_created + 1, self, now, tenant)
        self.add_environment(env)
        tenancy = self.tenancy
        tenancy.created += 1
        tenancy.live += 1
        if tenancy.live > tenancy.max_live:
            tenancy.max_live = tenancy.live
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
        counts = self.tenancy.tenants[tenant_of(env)]
        counts.invocations += 1
        if env.cold:
            counts.cold_starts += 1

    def _invoke_done(self, env: Environment) -> None:
        # Into its tenant's idle pool first: the base class goes on to call the request's callback, which
        # may invoke again.
        tenant = tenant_of(env)
        pool = self.idle_by_tenant.get(tenant)
        if pool is None:
            pool = self.idle_by_tenant[tenant] = deque()
        pool.append(env)
        super()._invoke_done(env)

    def shutdown(self, env: Environment, reason: str) -> None:
        """Idle expiry takes the function's least recently used environment, so the first of its tenant's."""
        tenant = tenant_of(env)
        pool = self.idle_by_tenant[tenant]
        pool.popleft()
        if not pool:
            del self.idle_by_tenant[tenant]
        self.tenancy.live -= 1
        super().shutdown(env, reason)

    def init_start_data(self, env: Environment) -> dict[str, Any]:
        return {**super().init_start_data(env), "tenant": tenant_of(env)}

    def invoke_start_data(self, env: Environment) -> dict[str, Any]:
        return {**super().invoke_start_data(env), "tenant": tenant_of(env)}

    def invoke_end_data(self, env: Environment, duration_ms: float, billed: int) -> dict[str, Any]:
        return {**super().invoke_end_data(env, duration_ms, billed), "tenant": tenant_of(env)}


class TenantVersionRuntime(TenantRuntime, VersionRuntime):
    """A published version of a function in tenant isolation mode: environments per (version, tenant id),
    the function's concurrency and its cap on tenant environments shared with the other versions."""

    __slots__ = ()

    def __init__(self, fn: Function, loop: EventLoop, account: AccountConcurrency, family: Family, tenancy: Tenancy):
        VersionRuntime.__init__(self, fn, loop, account, family)
        self.attach(tenancy)
