"""CloudWatch's metric names and a bounded-memory latency histogram (the sampler over time: series.py).

Memory must grow with concurrency, not with the number of requests, so latencies
go into a log-bucketed histogram (relative error below 0.05 %) instead of a list.
Metric names and meanings follow
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html.
"""

from __future__ import annotations

PERCENTILES = ("p50", "p90", "p99", "max")

# What an `expect` item may name, and the parts of each figure that has parts.
EXPECTABLE_FUNCTION: dict[str, tuple[str, ...]] = {
    **{
        name: ()
        for name in (
            "Invocations",
            "Errors",
            "Throttles",
            "ConcurrentExecutions",
            "ProvisionedConcurrencyInvocations",
            "ProvisionedConcurrencySpilloverInvocations",
            "AsyncEventsReceived",
            "AsyncEventAge",
            "AsyncEventsDropped",
            "DeadLetterErrors",
            "DestinationDeliveryFailures",
            "IteratorAge",
            "RecursiveInvocationsDropped",
            "ColdStarts",
            "BilledDurationMs",
            "GBSeconds",
            "CostUSD",
            # outcomes
            "requests",
            "succeeded",
            "failed",
            "throttled",
            "denied",
            "rejected",
            "timed_out",
            "retried",
            "to_dlq",
            "to_on_failure",
            "to_on_success",
            "dropped",
            "in_flight",
            "deduplicated",  # durable functions' starts
            "rejected",
        )
    },
    "Duration": PERCENTILES,
    "InitDuration": PERCENTILES,
    "PostRuntimeExtensionsDuration": PERCENTILES,  # a function with extensions
    "environments": (
        "created",
        "max",
        "time_average",
        "busy_time_average",
        *("shut_down", "shutdown_duration.p50", "shutdown_duration.max"),  # a function with extensions
    ),
    # Managed Instances functions only (engine/managed_instances.py)
    **{name: () for name in ("ConcurrencyThrottles", "CPUThrottles", "MemoryThrottles", "DiskThrottles")},
    "managed_instances": (
        "vcpus_per_environment",
        *(f"environments.{part}" for part in ("start", "max", "end", "time_average")),
        "slots.per_environment",
        "slots.max",
        "slots.max_in_use",
        "cpu.average",
        "cpu.max",
    ),
    # a function in tenant isolation mode only
    "tenants": ("seen", "environments_created", "max_live_environments", "live_environments_limit", "rejected"),
    # A durable function's `durable` section (engine/report.py), by dotted path.
    "durable": (
        *(f"executions.{k}" for k in ("started", "running", "suspended", "succeeded", "failed", "timed_out")),
        *(f"starts.{k}" for k in ("new", "deduplicated", "rejected", "throttled", "sync_callers_timed_out")),
        "invocations",
        "replays",
        *(f"operations.{k}" for k in ("billed", "step_attempts", "retries")),
        *(f"operations.by_type.{k}" for k in ("EXECUTION", "STEP", "WAIT", "CALLBACK", "CONTEXT")),
        *(f"callbacks.{k}" for k in ("completed", "failed", "timed_out", "rejected", "heartbeats")),
        "data_written_bytes",
        *(f"cost.{k}" for k in ("operations_usd", "data_written_usd", "data_retained_usd")),
    ),
}
EXPECTABLE_VERSION: dict[str, tuple[str, ...]] = {"Invocations": (), "Errors": ()}  # the report's by_version
EXPECTABLE_QUEUE: dict[str, tuple[str, ...]] = {
    name: ()
    for name in (
        "NumberOfMessagesSent",
        "NumberOfMessagesReceived",
        "NumberOfMessagesDeleted",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateAgeOfOldestMessage",
    )
}
EXPECTABLE_STREAM: dict[str, tuple[str, ...]] = {
    **{
        name: ()
        for name in (
            "IncomingRecords",
            "IteratorAge",
            "processed",
            "to_on_failure",
            "discarded",
            "expired",
            "skipped",
            "filtered",  # a mapping with filters
            "in_flight",
            "unread",
        )
    },
    "windows": ("closed", "terminated_early", "final_invocations"),  # a mapping with a tumbling window
}
EXPECTABLE_CAPACITY_PROVIDER: dict[str, tuple[str, ...]] = {
    "instances": ("start", "max", "end", "time_average"),
    "instance_hours": (),
    "vcpus_allocated_max": (),
    "CPUUtilization": ("average", "max"),
    "cost": ("ec2_usd", "management_fee_usd"),
    "CostUSD": (),
}
# An event source mapping's entry in the report's top-level event_source_mappings (shared/spec/scenarios.md).
EXPECTABLE_MAPPING: dict[str, tuple[str, ...]] = {
    "events": ("polled", "filtered", "invoked"),
    "pollers": ("minimum", "maximum", "max_active", "poller_hours"),
    "cost_usd": (),
}
EXPECTABLE_ACCOUNT: dict[str, tuple[str, ...]] = {
    **{
        name: ()
        for name in (
            "ConcurrentExecutions",
            "UnreservedConcurrentExecutions",
            "CostUSD",
        )
    },
    "recursion": ("loops_stopped", "invocations_dropped"),  # the report's top-level `recursion` (engine/recursion.py)
}

_EXACT_BELOW = 2048  # microseconds kept exactly; above, 11 significant bits


class Histogram:
    """Counts of values (milliseconds) in log-spaced buckets; exact for values under 2 ms.

    `add` runs once per invocation, so it keeps to one dict update and two comparisons.
    """

    __slots__ = ("counts", "low", "high")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.low = float("inf")
        self.high = 0.0

    def add(self, ms: float) -> None:
        micros = int(ms * 1000.0)
        if micros >= _EXACT_BELOW:
            shift = micros.bit_length() - 11
            micros = (shift << 11) | (micros >> shift)  # bucket key: exponent and top 11 bits
        counts = self.counts
        counts[micros] = counts.get(micros, 0) + 1
        if ms > self.high:
            self.high = ms
        if ms < self.low:
            self.low = ms

    @classmethod
    def merged(cls, histograms: list[Histogram]) -> Histogram:
        """One histogram of all the values of several (a function's versions, together)."""
        out = cls()
        for histogram in histograms:
            for key, count in histogram.counts.items():
                out.counts[key] = out.counts.get(key, 0) + count
            out.low = min(out.low, histogram.low)
            out.high = max(out.high, histogram.high)
        return out

    def summary(self) -> dict[str, float | None]:
        """p50, p90, p99 and max in ms (two decimals, as in a REPORT line); None when empty."""
        total = sum(self.counts.values())
        if not total:
            return dict.fromkeys(PERCENTILES)
        ordered = sorted(self.counts.items())  # keys grow with the values they hold
        out: dict[str, float | None] = {}
        for name, q in (("p50", 0.50), ("p90", 0.90), ("p99", 0.99)):
            rank = max(1, -(-total * q // 1))  # nearest-rank percentile
            seen = 0
            for key, count in ordered:
                seen += count
                if seen >= rank:
                    out[name] = round(min(max(_bucket_middle(key) / 1000.0, self.low), self.high), 2)
                    break
        out["max"] = round(self.high, 2)
        return out


def _bucket_middle(key: int) -> float:
    """The middle of a bucket, in microseconds."""
    if key < _EXACT_BELOW:
        return float(key)
    shift, top = key >> 11, key & 2047
    return ((top << shift) + (1 << shift) / 2.0) if shift else float(top)


class Gauge:
    """A level over virtual time (environments, slots in use, CPU): its value now, its highest, and its
    integral, for a time average that needs no sampling."""

    __slots__ = ("value", "start", "high", "integral", "since")

    def __init__(self, value: float, now: float = 0.0) -> None:
        self.value = self.start = self.high = value
        self.integral = 0.0
        self.since = now

    def set(self, value: float, now: float) -> None:
        self.integral += self.value * (now - self.since)
        self.since = now
        self.value = value
        if value > self.high:
            self.high = value

    def area(self, now: float) -> float:
        """The integral of the level from the start to `now`."""
        return self.integral + self.value * (now - self.since)

    def average(self, now: float) -> float:
        return self.area(now) / now if now > 0 else self.value
