"""CloudWatch's metric names, a bounded-memory latency histogram, and the time-series sampler.

Memory must grow with concurrency, not with the number of requests, so latencies
go into a log-bucketed histogram (relative error below 0.05 %) instead of a list.
Metric names and meanings follow
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdalab.engine.environments import FunctionRuntime

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
            "timed_out",
            "retried",
            "to_dlq",
            "to_on_failure",
            "to_on_success",
            "dropped",
            "in_flight",
        )
    },
    "Duration": PERCENTILES,
    "InitDuration": PERCENTILES,
    "environments": ("created", "max", "time_average", "busy_time_average"),
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
    name: ()
    for name in (
        "IncomingRecords",
        "IteratorAge",
        "processed",
        "to_on_failure",
        "discarded",
        "expired",
        "skipped",
        "in_flight",
        "unread",
    )
}
EXPECTABLE_ACCOUNT: dict[str, tuple[str, ...]] = {
    name: ()
    for name in (
        "ConcurrentExecutions",
        "UnreservedConcurrentExecutions",
        "CostUSD",
    )
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


class SeriesSampler:
    """Samples every function at a fixed step of virtual time, for charts and `--series`.

    Concurrency is the maximum within each step (CloudWatch's advice for
    concurrency metrics is the Maximum statistic); counts are per step. A
    function with versions is sampled per version and as a whole, as the
    report shows it: its concurrency is the function's own peak in each step
    (the versions share it), not the sum of their peaks.
    """

    COUNTERS = ("invocations", "errors", "throttles", "cold_starts")

    def __init__(self, step: float, functions: list[FunctionRuntime]):
        self.step = step
        self.functions = functions
        self.members: dict[str, list[FunctionRuntime]] = {}  # function name -> its runtimes ($LATEST first)
        for f in functions:
            self.members.setdefault(f.config.name, []).append(f)
        self.times: list[float] = []
        self.concurrency: dict[str, list[int]] = {f.name: [] for f in functions}
        self.environments: dict[str, list[int]] = {f.name: [] for f in functions}
        self.waiting: dict[str, list[int]] = {f.name: [] for f in functions}
        self.counts: dict[str, dict[str, list[int]]] = {f.name: {c: [] for c in self.COUNTERS} for f in functions}
        self._last: dict[str, tuple[int, ...]] = {f.name: (0,) * len(self.COUNTERS) for f in functions}
        self.iterator_age: dict[str, list[int | None]] = {}  # functions a stream mapping reads for
        self.family_concurrency: dict[str, list[int]] = {name: [] for name, m in self.members.items() if len(m) > 1}

    def sample(self, end_of_step: float) -> None:
        """Close the step that ends now."""
        self.times.append(end_of_step)
        for f in self.functions:
            self.concurrency[f.name].append(f.step_max_busy)
            f.step_max_busy = f.busy
            self.environments[f.name].append(len(f.environments))
            self.waiting[f.name].append(len(f.async_waiting))
            now = tuple(getattr(f, c) for c in self.COUNTERS)
            for counter, value, before in zip(self.COUNTERS, now, self._last[f.name]):
                self.counts[f.name][counter].append(value - before)
            self._last[f.name] = now
            if f.iterator_age_ms is not None:
                age = f.step_iterator_age_ms
                self.iterator_age.setdefault(f.name, []).append(round(age) if age >= 0 else None)
                f.step_iterator_age_ms = -1.0
        for name, peaks in self.family_concurrency.items():
            family = self.members[name][0].family
            assert family is not None  # family_concurrency has only functions with versions (VersionRuntime)
            peaks.append(family.step_max_busy)
            family.step_max_busy = family.busy

    def function_series(self, name: str) -> dict[str, Any]:
        """One function's series, as the report's `functions.NAME`: all its versions together, and `by_version`."""
        members = self.members[name]
        if len(members) == 1:
            return self._runtime_series(members[0].name)
        parts = [self._runtime_series(m.name) for m in members]
        whole: dict[str, Any] = {
            key: [sum(step) for step in zip(*(p[key] for p in parts))] for key in parts[0] if key != "IteratorAge"
        }
        whole["ConcurrentExecutions"] = self.family_concurrency[name]
        if "IteratorAge" in parts[0]:  # a mapping reads for the function's $LATEST
            whole["IteratorAge"] = parts[0]["IteratorAge"]
        whole["by_version"] = {m.version: part for m, part in zip(members, parts)}
        return whole

    def _runtime_series(self, name: str) -> dict[str, Any]:
        return {
            "ConcurrentExecutions": self.concurrency[name],
            "environments": self.environments[name],
            "async_waiting": self.waiting[name],
            "Invocations": self.counts[name]["invocations"],
            "Errors": self.counts[name]["errors"],
            "Throttles": self.counts[name]["throttles"],
            "ColdStarts": self.counts[name]["cold_starts"],
            **({"IteratorAge": self.iterator_age[name]} if name in self.iterator_age else {}),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "step_s": self.step,
            "t_s": [round(t, 6) for t in self.times],
            "functions": {name: self.function_series(name) for name in self.members},
        }
