"""One function's counters, in the three parts a report reads: CloudWatch's metrics, the requests'
outcomes, and the async invoker's queue with what became of its events.

Plain slotted classes: the hot path bumps these for every invocation, and a slot is read by offset.
"""

from __future__ import annotations

from lambdalab.engine.metrics import Histogram


class FunctionMetrics:
    """What CloudWatch would show for the function (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html),
    plus the environment counts and time integrals that the report and the bill are built from."""

    __slots__ = (
        "invocations",
        "errors",
        "throttles",
        "cold_starts",
        "timeouts",
        "provisioned_invocations",
        "spillover_invocations",
        "billed_ms",
        "billed_ms_provisioned",
        "durations",
        "add_duration",
        "init_durations",
        "busy_seconds",
        "alive_seconds",
        "step_max_busy",
        "max_busy",
        "max_environments",
        "environments_created",
        "iterator_age_ms",
        "step_iterator_age_ms",
        "recursive_invocations_dropped",
    )

    def __init__(self) -> None:
        self.invocations = 0
        self.errors = 0
        self.throttles = 0
        self.cold_starts = 0
        self.timeouts = 0
        self.provisioned_invocations = 0
        self.spillover_invocations = 0
        self.billed_ms = 0
        self.billed_ms_provisioned = 0
        self.durations = Histogram()
        self.add_duration = self.durations.add  # bound once: called for every invocation
        self.init_durations = Histogram()
        self.busy_seconds = 0.0  # integral of busy environments over time
        self.alive_seconds = 0.0  # integral of live environments over time, for those already shut down
        self.step_max_busy = 0  # the highest concurrency in this series step
        self.max_busy = 0
        self.max_environments = 0
        self.environments_created = 0
        # streams: IteratorAge, once a stream mapping reads for this function
        self.iterator_age_ms: float | None = None
        self.step_iterator_age_ms = -1.0  # the highest in this series step; -1: no batch ended in it
        self.recursive_invocations_dropped = 0  # invocations stopped by recursive loop detection (recursion.py)


class Outcomes:
    """What became of the requests, from the callers' side: the report's `outcomes`."""

    __slots__ = ("requests", "sync_in_flight", "succeeded", "failed", "throttled", "denied", "rejected")

    def __init__(self) -> None:
        self.requests = 0
        self.sync_in_flight = 0  # synchronous requests (and source batches, durable executions) not answered yet
        self.succeeded = 0
        self.failed = 0
        self.throttled = 0  # refused with a 429 and never run (async events are retried instead)
        self.denied = 0  # refused by the resource-based policy
        self.rejected = 0  # stopped by recursive loop detection before they ran (RecursiveInvocationException)


class AsyncState:
    """The async invoker's events waiting for a retry, and what became of them; stream mappings count
    their retries and the batches they send on failure here too, as Lambda's metrics do."""

    __slots__ = (
        "waiting",
        "received",
        "alive",
        "max_age_ms",
        "retried",
        "dropped",
        "to_dlq",
        "to_on_failure",
        "to_on_success",
        "dead_letter_errors",
        "destination_failures",
    )

    def __init__(self) -> None:
        self.waiting: dict[int, object] = {}  # by request; the async invoker alone knows the events' type
        self.received = 0
        self.alive = 0  # received and not yet finished, dropped or sent on
        self.max_age_ms = 0.0
        self.retried = 0
        self.dropped = 0
        self.to_dlq = 0
        self.to_on_failure = 0
        self.to_on_success = 0
        self.dead_letter_errors = 0
        self.destination_failures = 0
