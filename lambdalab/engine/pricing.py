"""What a run would cost: requests plus GB-seconds by architecture, provisioned concurrency, the
environments of a function in tenant isolation mode, and provisioned pollers.

Prices are US East (N. Virginia), first tier, from https://aws.amazon.com/lambda/pricing/
(see limits.py). The free tier is reported beside the cost, never subtracted
silently: a scenario's run is minutes, the free tier is per month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lambdalab import limits
from lambdalab.engine.counters import FunctionMetrics
from lambdalab.engine.model import Function


@dataclass(frozen=True)
class Cost:
    requests_usd: float
    duration_usd: float
    provisioned_usd: float
    gb_seconds: float
    tenant_environments_usd: float = 0.0

    @property
    def total_usd(self) -> float:
        return self.requests_usd + self.duration_usd + self.provisioned_usd + self.tenant_environments_usd


def function_cost(fn: Function, metrics: FunctionMetrics, run_s: float) -> Cost:
    gb = fn.memory / 1024.0
    on_demand_gb_s = metrics.billed_ms / 1000.0 * gb
    provisioned_gb_s = metrics.billed_ms_provisioned / 1000.0 * gb
    arch = fn.architecture
    provisioned_usd = 0.0
    if fn.provisioned_concurrency:
        # Configured provisioned concurrency is charged for the time it is enabled, in 5-minute increments.
        enabled_s = math.ceil(run_s / limits.PC_BILLING_INCREMENT_S) * limits.PC_BILLING_INCREMENT_S
        provisioned_usd = (
            fn.provisioned_concurrency * gb * enabled_s * limits.PRICE_PC_PER_GB_SECOND_USD[arch]
            + provisioned_gb_s * limits.PRICE_PC_DURATION_PER_GB_SECOND_USD[arch]
        )
    return Cost(
        requests_usd=metrics.invocations * limits.PRICE_PER_REQUEST_USD,
        duration_usd=on_demand_gb_s * limits.PRICE_PER_GB_SECOND_USD[arch],
        provisioned_usd=provisioned_usd,
        gb_seconds=on_demand_gb_s + provisioned_gb_s,
        # Tenant isolation mode: a charge each time Lambda creates a tenant environment, by its memory.
        tenant_environments_usd=metrics.environments_created * gb * limits.PRICE_TENANT_ENVIRONMENT_PER_GB_USD
        if fn.tenant_isolation
        else 0.0,
    )


def pollers_cost(poller_seconds: float) -> float:
    """Provisioned SQS pollers: one Event Poller Unit each, by the hour (PRICE)."""
    return poller_seconds / 3600.0 * limits.PRICE_SQS_POLLER_HOUR_USD


def free_tier(requests: int, gb_seconds: float) -> dict[str, float]:
    """How much of one month's free tier this run's on-demand usage would take (PC-enabled functions excluded)."""
    return {
        "monthly_requests": limits.FREE_TIER_REQUESTS,
        "monthly_gb_seconds": limits.FREE_TIER_GB_SECONDS,
        "requests_share": round(requests / limits.FREE_TIER_REQUESTS, 6),
        "gb_seconds_share": round(gb_seconds / limits.FREE_TIER_GB_SECONDS, 6),
    }


@dataclass(frozen=True)
class DurableCost:
    operations_usd: float
    data_written_usd: float
    data_retained_usd: float

    @property
    def total_usd(self) -> float:
        return self.operations_usd + self.data_written_usd + self.data_retained_usd


def durable_cost(operations: int, written_bytes: int, retained_byte_seconds: float) -> DurableCost:
    """Durable functions' own charges (https://aws.amazon.com/lambda/pricing/): operations, data written, and
    data retained while the execution runs and for its retention period after, prorated (GB is GiB)."""
    gib = 1024.0**3
    return DurableCost(
        operations_usd=operations * limits.PRICE_DURABLE_OPERATION_USD,
        data_written_usd=written_bytes / gib * limits.PRICE_DURABLE_WRITTEN_PER_GB_USD,
        data_retained_usd=retained_byte_seconds
        / gib
        / limits.GB_MONTH_S
        * limits.PRICE_DURABLE_RETAINED_PER_GB_MONTH_USD,
    )
