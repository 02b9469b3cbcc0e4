"""How much may run: reserved concurrency, the account's unreserved pool, and each function's scaling rate.

The state only: admission.py decides each request against it (and knows the functions' runtimes, which
this module does not, so the engine's modules import each other in one direction).

Sources: https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html (reserved and
provisioned concurrency), https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html
(1,000 environments per 10 s per function, refilled continuously) and
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-concurrency.html (what counts as claimed).
"""

from __future__ import annotations

from lambdalab import limits

# TooManyRequestsException reasons (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"
# AWS documents a 429 when a function outgrows its scaling rate but not the Reason it carries; this is the
# closest documented one.
SCALING_LIMIT = "FunctionInvocationRateLimitExceeded"
# A function in tenant isolation mode past its limit of live tenant environments: AWS documents the 429's
# message, "Rate exceeded", and no Reason (limits.TENANT_TS), so the message stands in for one.
TENANT_LIMIT = limits.TENANT_LIMIT_MESSAGE


class AccountConcurrency:
    """The Region's concurrency: what reservations and provisioned concurrency leave is shared by the rest."""

    __slots__ = ("limit", "unreserved_capacity", "unreserved_busy", "busy", "max_busy", "max_unreserved_busy")

    def __init__(self, limit: int, claimed: int):
        self.limit = limit
        # Reserved concurrency and unreserved functions' provisioned concurrency are carved out of the pool.
        self.unreserved_capacity = limit - claimed
        self.unreserved_busy = 0  # on-demand executions of functions without a reservation
        self.busy = 0
        self.max_busy = 0
        self.max_unreserved_busy = 0


class Family:
    """What a function's versions share: reserved concurrency is function-wide, and the provisioned
    environments of every version hold their seats in it, busy or not
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html)."""

    __slots__ = ("busy", "max_busy", "step_max_busy", "idle_provisioned")

    def __init__(self) -> None:
        self.busy = 0
        self.max_busy = 0
        self.step_max_busy = 0  # the highest in this series step
        self.idle_provisioned = 0  # seats on-demand requests may not take


class ScalingRate:
    """A token bucket of new environments: 1,000 at most, refilled at 100 a second."""

    __slots__ = ("tokens", "updated")
    CAPACITY = float(limits.SCALING_ENVIRONMENTS)
    REFILL_PER_S = limits.SCALING_ENVIRONMENTS / limits.SCALING_PERIOD_S

    def __init__(self) -> None:
        self.tokens = self.CAPACITY
        self.updated = 0.0

    def take(self, now: float) -> bool:
        tokens = self.tokens + (now - self.updated) * self.REFILL_PER_S
        self.tokens = tokens if tokens < self.CAPACITY else self.CAPACITY
        self.updated = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True
