"""The behaviour model compiled into fast samplers: durations, CPU scaling with memory, and failures.

Every random draw comes from the scenario's one generator, in event order, so a
run repeats exactly. Distributions are built from `random()` alone (not from
`random.gauss` and friends) so that a Python upgrade cannot change a report.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from statistics import NormalDist
from typing import Any

from lambdalab import limits
from lambdalab.engine.model import Behaviour, Distribution, ErrorRule, EventMatch, JsonPath
from lambdalab.engine.records import batch_payloads

Sampler = Callable[[], float]
_Z99 = NormalDist().inv_cdf(0.99)
MISSING = object()


def sampler(dist: Distribution, rng: random.Random, scale: float = 1.0) -> Sampler:
    """A function returning one duration (seconds) per call, times `scale`."""
    rand = rng.random
    if dist.kind == "fixed":
        value = dist.a * scale
        return lambda: value
    if dist.kind == "jitter":
        mean, spread = dist.a * scale, dist.b * scale
        return lambda: mean + spread * (2.0 * rand() - 1.0)
    if dist.kind == "exponential":
        mean = dist.a * scale
        return lambda: -mean * math.log(1.0 - rand())
    if dist.kind == "uniform":
        low, width = dist.a * scale, (dist.b - dist.a) * scale
        return lambda: low + width * rand()
    if dist.kind == "lognormal":
        mu = math.log(dist.a * scale)
        sigma = (math.log(dist.b) - math.log(dist.a)) / _Z99
        # Box-Muller from two uniforms; 1 - u keeps log() away from zero.
        return lambda: math.exp(
            mu + sigma * math.sqrt(-2.0 * math.log(1.0 - rand())) * math.cos(2.0 * math.pi * rand())
        )
    raise ValueError(f"unknown distribution {dist.kind!r}")


def vcpus(memory_mb: int, threads: int) -> float:
    """CPU share at this memory: 1,769 MB is one vCPU, at most 6, and code uses at most `threads` of them."""
    return min(memory_mb / limits.MB_PER_VCPU, limits.MAX_VCPUS, threads)


def duration_scale(behaviour: Behaviour, memory_mb: int) -> float:
    """How much longer (or shorter) the code runs at `memory_mb` than where it was measured.

    Only the CPU-bound share scales; waiting on I/O takes as long at any memory size.
    This is what makes power tuning worth doing (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
    """
    if not behaviour.cpu_bound:
        return 1.0
    speedup = vcpus(memory_mb, behaviour.threads) / vcpus(behaviour.measured_at, behaviour.threads)
    return (1.0 - behaviour.cpu_bound) + behaviour.cpu_bound / speedup


FailureCheck = Callable[[int, bool, Any], "ErrorRule | None"]


def plain_error_rate(rules: tuple[ErrorRule, ...]) -> ErrorRule | None:
    """The one rule when all a function does is fail at a plain rate: the common case, which the
    hot path checks with one draw and no call (FunctionRuntime._invoke)."""
    if len(rules) == 1:
        only = rules[0]
        if only.rate is not None and only.every is None and only.on_cold_start is None and only.when is None:
            return only
    return None


def failure_check(rules: tuple[ErrorRule, ...], rng: random.Random) -> FailureCheck | None:
    """A function (invocation number, cold?, event) -> the rule that fails it, or None. None when nothing can fail."""
    if not rules:
        return None
    rand = rng.random

    def check(number: int, cold: bool, event: Any) -> ErrorRule | None:
        for rule in rules:
            if rule.every is not None and number % rule.every:
                continue
            if rule.on_cold_start is not None and cold != rule.on_cold_start:
                continue
            if rule.when is not None and not matches(rule.when, event):
                continue
            if rule.rate is not None and rand() >= rule.rate:  # drawn last: only when the rule could apply
                continue
            return rule
        return None

    return check


class CompiledBehaviour:
    """One function's behaviour model, compiled for its runtime: what the hot path draws from for each
    invocation (FunctionRuntime._invoke), in event order from the scenario's one generator."""

    __slots__ = (
        "sample_init",
        "sample_duration",
        "sample_cold_extra",
        "plain_error",
        "failure",
        "rand",
        "out_of_memory",
        "max_memory_used",
    )

    def __init__(self, behaviour: Behaviour, memory_mb: int, rng: random.Random):
        self.sample_init = sampler(behaviour.init, rng)
        self.sample_duration = sampler(behaviour.duration, rng, duration_scale(behaviour, memory_mb))
        self.sample_cold_extra = sampler(behaviour.cold_start_extra, rng) if behaviour.cold_start_extra else None
        self.plain_error = plain_error_rate(behaviour.errors)
        self.failure = None if self.plain_error else failure_check(behaviour.errors, rng)
        self.rand = rng.random
        self.out_of_memory = behaviour.memory_used > memory_mb
        self.max_memory_used = min(behaviour.memory_used, memory_mb)


def matches(match: EventMatch, event: Any) -> bool:
    """Whether the event matches; on a batch from SQS or a stream, whether any record's payload does (one
    bad record fails the batch)."""
    payloads = batch_payloads(event)
    if payloads is not None:
        return any(matches(match, payload) for payload in payloads)
    value = lookup(event, match.path)
    if match.exists is not None and (value is not MISSING) != match.exists:
        return False
    if match.has_equals and (value is MISSING or not same_json(value, match.equals)):
        return False
    if match.one_of is not None and (value is MISSING or not any(same_json(value, v) for v in match.one_of)):
        return False
    return True


def lookup(event: Any, path: JsonPath, decode_text: bool = False) -> Any:
    """The value at a JSON path in the event, or a marker when it is absent. With `decode_text`, a JSON text met
    on the way is decoded (an API response's body, for grading)."""
    for part in path:
        if decode_text and isinstance(event, str):
            try:
                event = json.loads(event)
            except ValueError:
                return MISSING
        if isinstance(part, int):
            if not isinstance(event, list) or not -len(event) <= part < len(event):
                return MISSING
        elif not isinstance(event, dict) or part not in event:
            return MISSING
        event = event[part]
    return event


def same_json(a: Any, b: Any) -> bool:
    """Equality that keeps JSON types apart: 1 is not true, "1" is not 1."""
    return (
        type(a) is type(b)
        and a == b
        or (
            isinstance(a, (int, float))
            and isinstance(b, (int, float))
            and not isinstance(a, bool)
            and not isinstance(b, bool)
            and a == b
        )
    )
