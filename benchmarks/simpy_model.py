"""The benchmark's Lambda workload written the way a SimPy user would write it, for a side-by-side timing.

This is the yardstick for lambdalab's engine, so it has to be a fair one: the
same semantics and the same algorithms, written idiomatically, without tricks
that no SimPy user would reach for and without waste that no SimPy user would
accept. Concretely:

- Every request is a process (`env.process`), every wait is an `env.timeout`,
  and a function's concurrency (its reservation, or the account's shared
  unreserved pool) is a `simpy.Resource` that each invocation holds with
  `with resource.request()`. A full resource means a throttle, so admission
  looks at `count` and `capacity` rather than queueing: Lambda never queues a
  synchronous request.
- The warm pool is a plain deque used as a stack (the most recently used
  environment is taken first, the least recently used expires first). SimPy's
  Store hands items out first in, first out, and a PriorityStore cannot give
  the reaper the oldest item, so neither fits.
- Idle expiry is one reaper process per function that sleeps until the oldest
  idle environment is due, exactly as the engine does. The naive alternative,
  one timeout per release, would leave a dead timer in the heap for every
  invocation and make SimPy look slower for reasons that are not SimPy's.

Semantics mirrored from lambdalab.engine (environments.py, concurrency.py,
invoke_async.py): Init on a cold start, the 1,000-environment scaling token
bucket refilled at 100/s, sync throttles are final, async throttles back off
from 1 s doubling to 300 s with 0-50 % jitter, a function error is retried after
60 s and then 120 s (`maximum_retry_attempts`), an event older than its maximum
age is dropped, and uniform arrivals at start + n / rate. Random streams differ
from the engine's, so counts that depend on chance (errors, throttles) agree
in magnitude, not exactly; request counts agree exactly.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import simpy

RETRY_DELAYS_S = (60.0, 120.0)
BACKOFF_MIN_S, BACKOFF_MAX_S = 1.0, 300.0
SCALING_CAPACITY, SCALING_REFILL_PER_S = 1000.0, 100.0
_Z99 = NormalDist().inv_cdf(0.99)


def sampler(dist: tuple, rand: Callable[[], float]) -> Callable[[], float]:
    """The engine's distributions (behaviour.py), from the same formulas; `dist` is (kind, a, b) in seconds."""
    kind, a, b = dist
    if kind == "fixed":
        return lambda: a
    if kind == "jitter":
        return lambda: a + b * (2.0 * rand() - 1.0)
    if kind == "exponential":
        return lambda: -a * math.log(1.0 - rand())
    if kind == "uniform":
        return lambda: a + (b - a) * rand()
    if kind == "lognormal":
        mu, sigma = math.log(a), (math.log(b) - math.log(a)) / _Z99
        return lambda: math.exp(
            mu + sigma * math.sqrt(-2.0 * math.log(1.0 - rand())) * math.cos(2.0 * math.pi * rand())
        )
    raise ValueError(kind)


class ExecutionEnvironment:
    __slots__ = ("idle_since", "needs_init")

    def __init__(self) -> None:
        self.idle_since = 0.0
        self.needs_init = True


class Function:
    def __init__(self, env: simpy.Environment, rng: random.Random, name: str, cfg: dict, slots: simpy.Resource):
        self.env = env
        self.name = name
        self.rand = rng.random
        self.slots = slots
        self.timeout = cfg["timeout"]
        self.idle_expiry = cfg["idle_expiry"]
        self.error_rate = cfg.get("error_rate", 0.0)
        self.max_retries = cfg.get("max_retries", 2)
        self.max_event_age = cfg.get("max_event_age", 21600.0)
        self.sample_init = sampler(cfg["init"], self.rand)
        self.sample_duration = sampler(cfg["duration"], self.rand)
        self.tokens, self.tokens_at = SCALING_CAPACITY, 0.0
        self.warm: deque[ExecutionEnvironment] = deque()
        self.wake: simpy.Event | None = None  # the reaper's alarm while the pool is empty
        self.counts = dict.fromkeys(
            (
                "requests",
                "invocations",
                "errors",
                "throttles",
                "cold_starts",
                "created",
                "expired",
                "succeeded",
                "failed",
                "throttled",
                "retried",
                "dropped",
            ),
            0,
        )
        env.process(self.reaper())

    # --- environments -------------------------------------------------------------------------

    def admit(self) -> ExecutionEnvironment | None:
        """An environment for one request, or None for a throttle (reservation or pool full, or scaling rate)."""
        if self.slots.count >= self.slots.capacity:
            return None
        if self.warm:
            return self.warm.pop()
        now = self.env.now
        self.tokens = min(SCALING_CAPACITY, self.tokens + (now - self.tokens_at) * SCALING_REFILL_PER_S)
        self.tokens_at = now
        if self.tokens < 1.0:
            return None
        self.tokens -= 1.0
        self.counts["created"] += 1
        return ExecutionEnvironment()

    def release(self, execution_env: ExecutionEnvironment) -> None:
        execution_env.idle_since = self.env.now
        self.warm.append(execution_env)
        if self.wake is not None:
            self.wake.succeed()
            self.wake = None

    def reaper(self):
        """Shut down environments idle for `idle_expiry`, oldest first."""
        env, warm = self.env, self.warm
        while True:
            if not warm:
                self.wake = env.event()
                yield self.wake
                continue
            due = warm[0].idle_since + self.idle_expiry
            if due > env.now:
                yield env.timeout(due - env.now)
                continue
            warm.popleft()
            self.counts["expired"] += 1

    def invoke(self, execution_env: ExecutionEnvironment):
        """One invocation on an admitted environment, holding a concurrency slot; returns True on a function error."""
        counts = self.counts
        with self.slots.request() as slot:
            yield slot
            counts["invocations"] += 1
            if execution_env.needs_init:
                execution_env.needs_init = False
                counts["cold_starts"] += 1
                yield self.env.timeout(self.sample_init())
            run = self.sample_duration()
            error = self.rand() < self.error_rate
            if run > self.timeout:
                run, error = self.timeout, True
            yield self.env.timeout(run)
            if error:
                counts["errors"] += 1
            self.release(execution_env)
        return error

    # --- invocation types ---------------------------------------------------------------------

    def sync_request(self):
        counts = self.counts
        counts["requests"] += 1
        execution_env = self.admit()
        if execution_env is None:
            counts["throttles"] += 1
            counts["throttled"] += 1
            return
        error = yield from self.invoke(execution_env)
        counts["failed" if error else "succeeded"] += 1

    def async_event(self):
        """One event in Lambda's internal queue, from acceptance to success or drop."""
        env, counts = self.env, self.counts
        counts["requests"] += 1
        deadline = env.now + self.max_event_age
        attempts, backoff = 0, 0.0
        while True:
            execution_env = self.admit()
            if execution_env is None:
                counts["throttles"] += 1
                backoff = min(BACKOFF_MAX_S, max(BACKOFF_MIN_S, backoff * 2.0))
                delay = min(BACKOFF_MAX_S, backoff * (1.0 + 0.5 * self.rand()))
            else:
                attempts += 1
                error = yield from self.invoke(execution_env)
                if not error:
                    counts["succeeded"] += 1
                    return
                if attempts > self.max_retries:
                    counts["dropped"] += 1
                    return
                counts["retried"] += 1
                delay = RETRY_DELAYS_S[attempts - 1]
            if env.now + delay > deadline:
                yield env.timeout(deadline - env.now)
                counts["dropped"] += 1
                return
            yield env.timeout(delay)


def arrivals(env: simpy.Environment, traffic: dict, request: Callable[[], Any]):
    """Uniform arrivals at start + n / rate over [start, end), each one a new process."""
    start, end, rate = traffic["start"], traffic["end"], traffic["rate"]
    n = 0
    while True:
        t = start + n / rate
        if t >= end:
            return
        yield env.timeout(t - env.now)
        env.process(request())
        n += 1


def run(workload: dict, seed: int = 0) -> dict[str, dict[str, int]]:
    """Run the workload to its duration; returns each function's counts (keys as in Function.counts)."""
    env = simpy.Environment()
    rng = random.Random(seed)
    functions_cfg = workload["functions"]
    reserved = sum(f["reserved"] for f in functions_cfg.values() if f.get("reserved") is not None)
    unreserved = simpy.Resource(env, capacity=workload["account_concurrency"] - reserved)
    functions = {
        name: Function(
            env,
            rng,
            name,
            cfg,
            unreserved if cfg.get("reserved") is None else simpy.Resource(env, capacity=cfg["reserved"]),
        )
        for name, cfg in functions_cfg.items()
    }
    for traffic in workload["traffic"]:
        fn = functions[traffic["target"]]
        env.process(arrivals(env, traffic, fn.async_event if traffic["invocation"] == "async" else fn.sync_request))
    env.run(until=workload["duration"])
    return {name: fn.counts for name, fn in functions.items()}
