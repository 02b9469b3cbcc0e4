"""Execution environments: Init -> Invoke -> idle -> Shutdown, the warm pool, and one function's counters.

Lifecycle facts from https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html:
Init has 10 s on demand (past it, Lambda retries Init inside the first invoke,
bounded by the timeout); a timeout or crash resets the environment, so its next
request pays Init again, and that re-init counts against the timeout. Idle
environments live for `idle_expiry` (AWS does not document this figure) and a
request takes the most recently used warm one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappush
from math import ceil as _ceil
from typing import TYPE_CHECKING, Any, Protocol

from lambdalab import limits
from lambdalab.engine.behaviour import CompiledBehaviour
from lambdalab.engine.concurrency import ScalingRate
from lambdalab.engine.counters import AsyncState, FunctionMetrics, Outcomes
from lambdalab.engine.destinations import to_ms
from lambdalab.engine.model import Function

if TYPE_CHECKING:
    from lambdalab.engine.clock import EventLoop
    from lambdalab.engine.concurrency import AccountConcurrency, Family
    from lambdalab.engine.real_code import RealCode
    from lambdalab.runtime import Invocation

INIT, BUSY, IDLE, GONE = "init", "busy", "idle", "shutdown"
TIMEOUT_ERROR, OUT_OF_MEMORY_ERROR = limits.TIMEOUT_ERROR, limits.OUT_OF_MEMORY_ERROR
BILLING_SLACK_MS = 1e-6


class Environment:
    """One execution environment and, while it is busy, the invocation it is serving."""

    __slots__ = (
        "id",
        "function",
        "provisioned",
        "state",
        "created_at",
        "idle_since",
        "needs_init",
        "invocations",
        "ordinal",
        "request",
        "event",
        "async_event",
        "on_done",
        "started_at",
        "invoke_started_at",
        "init_s",
        "init_phase_s",
        "cold",
        "error",
        "error_message",
        "timed_out",
        "real_outcome",
        "init_output",
        "response",
        "memory_used_mb",
        "output",
        "chains",
    )

    def __init__(self, env_id: int, function: FunctionRuntime, now: float, provisioned: bool):
        self.id = env_id
        self.function = function
        self.provisioned = provisioned
        self.state = IDLE if provisioned else INIT
        self.created_at = now
        self.idle_since = now
        self.needs_init = not provisioned  # provisioned environments are initialised before traffic
        self.invocations = 0
        self.ordinal = 0  # the current invocation's number among the function's invocations (for `every`)
        self.request = 0
        self.event: Any = None
        # The asynchronous event being run, for the async invoker (which alone knows its type: this module
        # sits below invoke_async.py and does not import it).
        self.async_event: object | None = None
        self.on_done: Callable[[Environment], None] | None = None
        self.started_at = 0.0
        self.invoke_started_at = 0.0
        self.init_s = 0.0  # how long Init took for the current request (0 when warm)
        self.init_phase_s = 0.0  # how much of it ran in a separate Init phase, before the invoke phase
        self.cold = False
        self.error: str | None = None
        self.error_message = ""
        self.timed_out = False
        # Real code: the invocation's outcome when known before its invoke phase (an Init that failed, reported by the
        # next invoke; a durable invocation, which its replay ran).
        self.real_outcome: Invocation | None = None
        self.init_output = ""  # real code: what its Init printed and logged, shown with the first invocation's
        self.response: Any = None  # real code: what the handler returned
        self.memory_used_mb = 0  # real code: the peak measured
        self.output: str | None = None  # real code: what it printed and logged (None: a model, which prints nothing)
        # The records of the invocation being run with their request chains, when the starter knows them and the
        # function sends (recursion.py, which alone knows their type); None otherwise.
        self.chains: object | None = None


class IdleEnvironments(Protocol):
    """A runtime's idle on-demand environments, least recently used first, and what it does with them: a
    deque, or for a function in tenant isolation mode a list that can also let go of any one at once."""

    def __len__(self) -> int: ...
    def __getitem__(self, index: int, /) -> Environment: ...
    def append(self, env: Environment, /) -> None: ...
    def pop(self) -> Environment: ...
    def popleft(self) -> Environment: ...


class FunctionRuntime:
    """One function (or one version of it) in a run: its environments and their lifecycle (the engine's
    hot state), with its configuration (`config` as written, `behaviour` compiled) and its counters in
    three parts (`metrics`, `outcomes`, `async_state`, see counters.py).

    Slots, because CPython 3.11 reads a slot by its offset, while an instance dict of more than 30 keys
    cannot share its keys and is searched by hash on every access. The hot path copies the parts and the
    callables it uses (samplers, the random source) to locals before using them, as `self.x.y()` costs
    two lookups and a method call that CPython cannot specialise.
    """

    __slots__ = (
        # configuration
        "config",
        "behaviour",
        "version",
        "name",
        "reserved",
        "timeout",
        "idle_expiry",
        "has_provisioned",
        "pooled",
        "real",
        "router",
        "extensions",
        "calls",
        # where it runs: the loop, the account's and the family's concurrency, the scaling rate
        "loop",
        "account",
        "family",
        "scaling",
        "_heap",
        "_seq",
        "_listeners",
        "_on_init_done",
        "_on_invoke_done",
        # environments
        "environments",
        "warm_provisioned",
        "warm",
        "reaper_armed",
        "busy",
        # counters
        "metrics",
        "outcomes",
        "async_state",
    )

    def __init__(self, fn: Function, loop: EventLoop, account: AccountConcurrency):
        self.config = fn
        self.behaviour = CompiledBehaviour(fn.behaviour, fn.memory, loop.rng)
        self.version = fn.version
        self.name = fn.name if fn.version.startswith("$LATEST") else f"{fn.name}:{fn.version}"  # in traces and the TUI
        self.reserved = fn.reserved_concurrency
        self.timeout = fn.timeout
        self.idle_expiry = fn.idle_expiry
        self.has_provisioned = fn.provisioned_concurrency > 0
        self.pooled = fn.reserved_concurrency is None  # on-demand executions draw on the account's unreserved pool
        self.real: RealCode | None = None  # set by the simulation when the function runs real code
        # How a request finds an environment when not as on demand (Managed Instances' slots); see admission.py.
        self.router: Callable[[float], Environment | str] | None = None
        # Set by the simulation for a function with extensions (extensions.py) or a model that calls out over the
        # network (networking.py), which alone know their types; None otherwise.
        self.extensions: object | None = None
        self.calls: object | None = None

        self.loop = loop
        self.account = account
        self.family: Family | None = None  # set on the versions of a function that has several (VersionRuntime)
        self.scaling = ScalingRate()
        # Bound once: the hot path reads these for every invocation.
        self._heap, self._seq, self._listeners = loop.heap, loop.seq, loop.listeners
        self._on_init_done, self._on_invoke_done = self._init_done, self._invoke_done

        self.environments: dict[int, Environment] = {}  # alive, by id
        self.warm_provisioned: list[Environment] = []
        self.warm: IdleEnvironments = deque()  # idle on-demand environments, least recently used first
        self.reaper_armed = False
        self.busy = 0

        self.metrics = FunctionMetrics()
        self.outcomes = Outcomes()
        self.async_state = AsyncState()

    # --- environments -------------------------------------------------------------------------

    def create_environment(self, now: float, provisioned: bool) -> Environment:
        env = Environment(self.metrics.environments_created + 1, self, now, provisioned)  # numbered: 1, 2, ...
        self.add_environment(env)
        if self.loop.listeners:
            self.loop.emit("env_start", {"function": self.name, "env": env.id, "provisioned": provisioned})
        return env

    def add_environment(self, env: Environment) -> None:
        """Count a new environment among the live ones (a subclass makes environments of its own kind)."""
        metrics = self.metrics
        metrics.environments_created += 1
        self.environments[env.id] = env
        if len(self.environments) > metrics.max_environments:
            metrics.max_environments = len(self.environments)

    def provision(self, count: int) -> None:
        """Provisioned concurrency: environments initialised before any traffic, never cold."""
        for _ in range(count):
            self.warm_provisioned.append(self.create_environment(self.loop.now, provisioned=True))

    def _reap(self, _: Any) -> None:
        """Shut down every environment idle for `idle_expiry`, then wake up for the next one to expire."""
        now = self.loop.now
        warm, expiry = self.warm, self.idle_expiry
        while warm and warm[0].idle_since + expiry <= now:
            self.shutdown(warm.popleft(), "SPINDOWN")
        self.reaper_armed = bool(warm)
        if warm:
            self.loop.at(warm[0].idle_since + expiry, self._reap)

    def shutdown(self, env: Environment, reason: str) -> None:
        now = self.loop.now
        env.state = GONE
        del self.environments[env.id]
        if self.real is not None:
            self.real.shutdown(env.id)
        self.metrics.alive_seconds += now - env.created_at
        if self.loop.listeners:
            self.loop.emit("env_shutdown", {"function": self.name, "env": env.id, "reason": reason})

    def before_each_end(self, hook: Callable[[Environment], None]) -> None:
        """Call `hook` as each invocation ends, before it is counted and its caller told: what the code does
        last (a function's sends, recursion.py). Set at build time, so a function without one pays nothing."""
        invoke_done = self._invoke_done

        def end(env: Environment) -> None:
            hook(env)
            invoke_done(env)

        self._on_invoke_done = end

    # --- one invocation -----------------------------------------------------------------------

    def begin(
        self,
        env: Environment,
        request: int,
        event: Any,
        on_done: Callable[[Environment], None] | None = None,
        async_event: object | None = None,
    ) -> None:
        """Start serving `request` on `env` (already admitted): Init first if the environment needs it.

        `on_done` is called when it ends; without one, the request is synchronous and its outcome is
        counted here (the caller simply gets the answer), which spares the commonest case a call.
        """
        now = self.loop.now
        metrics = self.metrics
        env.ordinal = metrics.invocations = metrics.invocations + 1
        busy = self.busy = self.busy + 1
        if busy > metrics.step_max_busy:
            metrics.step_max_busy = busy
            if busy > metrics.max_busy:
                metrics.max_busy = busy
        account = self.account
        account.busy += 1
        if account.busy > account.max_busy:
            account.max_busy = account.busy
        if env.provisioned:
            metrics.provisioned_invocations += 1
        elif self.has_provisioned:
            metrics.spillover_invocations += 1
        env.request = request
        env.event = event
        env.on_done = on_done
        env.async_event = async_event
        env.started_at = now
        env.init_phase_s = 0.0
        if not env.needs_init:
            env.cold = False
            self._invoke(env, now, 0.0)
            return
        env.cold = True
        metrics.cold_starts += 1
        env.needs_init = False
        init = env.init_s = self.behaviour.sample_init() if self.real is None else self._real_init(env, request, now)
        if env.state != INIT:  # a reset environment: Init runs again inside the invoke phase, on its clock
            self._invoke(env, now, init)
            return
        env.init_phase_s = init if init < limits.INIT_LIMIT_S else limits.INIT_LIMIT_S  # 10 s on demand
        if self._listeners:
            self.loop.emit("init_start", self.init_start_data(env))
        heappush(self._heap, (now + env.init_phase_s, next(self._seq), self._on_init_done, env))

    def _init_done(self, env: Environment) -> None:
        suppressed = env.init_s > limits.INIT_LIMIT_S
        if self._listeners:
            self.loop.emit(
                "init_end",
                {
                    "function": self.name,
                    "env": env.id,
                    "init_ms": round(env.init_phase_s * 1000, 3),
                    "status": "timeout" if suppressed else "success",
                },
            )
        # A suppressed Init is retried inside the invoke phase, on the invocation's clock.
        self._invoke(env, self.loop.now, env.init_s if suppressed else 0.0)

    def _invoke(self, env: Environment, now: float, reinit: float) -> None:
        if self.real is not None:
            self._invoke_real(env, now, reinit)
            return
        env.state = BUSY
        env.invoke_started_at = now
        behaviour = self.behaviour
        sample_duration = behaviour.sample_duration  # to a local first: see the class's docstring
        run = reinit + sample_duration()
        if env.cold and (cold_extra := behaviour.sample_cold_extra) is not None:
            run += cold_extra()
        if run > self.timeout:
            run = self._time_out(env, self.timeout)
        else:
            self._draw_error(env, behaviour)
        if self._listeners:
            self.loop.emit("invoke_start", self.invoke_start_data(env))
        heappush(self._heap, (now + run, next(self._seq), self._on_invoke_done, env))

    @staticmethod
    def _draw_error(env: Environment, behaviour: CompiledBehaviour) -> None:
        """Whether an invocation that ends in time fails, as the behaviour model says."""
        if behaviour.out_of_memory:
            env.error, env.error_message, env.timed_out = (
                OUT_OF_MEMORY_ERROR,
                "Runtime exited with error: signal: killed",
                False,
            )
        elif (plain := behaviour.plain_error) is not None:
            rand = behaviour.rand
            if rand() < plain.rate:  # type: ignore[operator]  # set: see plain_error_rate (hot path: no assert)
                env.error, env.error_message, env.timed_out = plain.error_type, plain.message, False
            else:
                env.error = None
        elif (check := behaviour.failure) is not None and (rule := check(env.ordinal, env.cold, env.event)) is not None:
            env.error, env.error_message, env.timed_out = rule.error_type, rule.message, False
        else:
            env.error = None  # `timed_out` means something only when there is an error

    @staticmethod
    def _time_out(env: Environment, limit: float) -> float:
        """The invocation ends at the timeout, with Lambda's timeout error; returns how long it ran."""
        env.error, env.error_message, env.timed_out = (
            TIMEOUT_ERROR,
            f"Task timed out after {limit:.2f} seconds",
            True,
        )
        return limit

    # --- real code (lambdalab.engine.real_code): the same lifecycle, with the code's own outcome ---------

    def _real_init(self, env: Environment, request: int, now: float) -> float:
        """Start the environment's worker; the Init duration in seconds (the model's, when it gives one)."""
        # Called only with real code: the simulation sets `real` for a function whose config has `code`.
        assert self.real is not None and self.config.code is not None
        outcome = self.real.init(env.id, request, to_ms(now))
        env.real_outcome = outcome if outcome.error is not None else None
        env.init_output = outcome.log if outcome.error is None else ""  # a failed Init's is in its outcome
        return self.behaviour.sample_init() if self.config.code.modelled_timing else (outcome.init_ms or 0.0) / 1000.0

    def _invoke_real(self, env: Environment, now: float, reinit: float) -> None:
        assert self.real is not None and self.config.code is not None  # as in _real_init
        env.state = BUSY
        env.invoke_started_at = now
        outcome = env.real_outcome or self.real.invoke(env.id, env.event, env.request, to_ms(now + reinit))
        env.real_outcome = None
        measured = outcome.duration_ms / 1000.0
        run = reinit + (self.behaviour.sample_duration() if self.config.code.modelled_timing else measured)
        env.response, env.memory_used_mb = outcome.response, outcome.max_memory_mb
        env.output, env.init_output = env.init_output + outcome.log, ""  # as `lambdalab invoke` shows a cold start
        if outcome.timed_out or run > self.timeout:
            run = self._time_out(env, self.timeout)
        elif outcome.error is not None:
            env.error, env.error_message, env.timed_out = (
                outcome.error["errorType"],
                outcome.error["errorMessage"],
                False,
            )
        else:
            env.error = None
        if self._listeners:
            self.loop.emit("invoke_start", self.invoke_start_data(env))
        heappush(self._heap, (now + run, next(self._seq), self._on_invoke_done, env))

    def _invoke_done(self, env: Environment) -> None:
        now = self.loop.now
        duration_ms = (now - env.invoke_started_at) * 1000.0
        # Billed: Init plus the invoke phase, rounded up to 1 ms (Init is billed on demand since 1 August 2025,
        # https://aws.amazon.com/lambda/pricing/); a re-init after a reset is already inside the invoke phase.
        # Virtual times are float sums, so 150 ms may arrive as 150.0000000001: a nanosecond of slack
        # keeps that from being billed 151 ms.
        billed = _ceil(duration_ms + env.init_phase_s * 1000.0 - BILLING_SLACK_MS)
        metrics = self.metrics
        add_duration = metrics.add_duration
        add_duration(duration_ms)
        if env.cold:
            metrics.init_durations.add(env.init_s * 1000.0)
        if env.error is not None:
            metrics.errors += 1
            if env.timed_out:
                metrics.timeouts += 1
            if env.timed_out or env.error.startswith("Runtime."):
                env.needs_init = True  # reset: the next request on this environment pays Init again
        self.busy -= 1
        account = self.account
        account.busy -= 1
        metrics.busy_seconds += now - env.started_at
        env.invocations += 1
        if self._listeners:
            self.loop.emit("invoke_end", self.invoke_end_data(env, duration_ms, billed))
        env.state = IDLE
        env.idle_since = now
        if env.provisioned:
            metrics.billed_ms_provisioned += billed
            self.warm_provisioned.append(env)
        else:
            metrics.billed_ms += billed
            if self.pooled:
                account.unreserved_busy -= 1
            warm = self.warm
            warm.append(env)
            if not self.reaper_armed:
                self.reaper_armed = True
                self.loop.at(warm[0].idle_since + self.idle_expiry, self._reap)
        on_done = env.on_done
        if on_done is None:
            outcomes = self.outcomes
            outcomes.sync_in_flight -= 1
            if env.error is None:
                outcomes.succeeded += 1
            else:
                outcomes.failed += 1
        else:
            on_done(env)

    def init_start_data(self, env: Environment) -> dict[str, Any]:
        """What the trace's init_start event says (only built when someone listens)."""
        return {"function": self.name, "env": env.id, "request_id": env.request}

    def invoke_start_data(self, env: Environment) -> dict[str, Any]:
        """What the trace's invoke_start event says (only built when someone listens)."""
        return {"function": self.name, "env": env.id, "request_id": env.request, "cold": env.cold}

    def _max_memory_used(self, env: Environment) -> int:
        """The REPORT line's Max Memory Used: measured for real code, unless the scenario models its timing
        (then the model's `memory_used` too, so runs repeat byte for byte; a real run that went past the
        function's memory still shows what was measured)."""
        code = self.config.code if self.real is not None else None
        if code is not None and (env.memory_used_mb > self.config.memory or not code.modelled_timing):
            return env.memory_used_mb
        return self.config.memory if self.behaviour.out_of_memory else self.behaviour.max_memory_used

    def invoke_end_data(self, env: Environment, duration_ms: float, billed: int) -> dict[str, Any]:
        """What the trace's invoke_end event says (only built when someone listens)."""
        return {
            "function": self.name,
            "env": env.id,
            "request_id": env.request,
            "cold": env.cold,
            "duration_ms": round(duration_ms, 3),
            "billed_ms": billed,
            "init_ms": round(env.init_s * 1000.0, 3) if env.cold else None,
            "memory_mb": self.config.memory,
            "max_memory_used_mb": self._max_memory_used(env),
            "error": env.error,
            "error_message": env.error_message if env.error else None,
            "timed_out": env.error is not None and env.timed_out,
            "output": env.output,
            "version": self.version,
        }


class VersionRuntime(FunctionRuntime):
    """A version of a function with published versions: its own environments and code, the function's
    concurrency shared with the others (its family). A subclass, so that functions without versions
    pay nothing for it on the hot path."""

    __slots__ = ()
    family: Family  # never None in a version (FunctionRuntime's slot, narrowed for the type checker only)

    def __init__(self, fn: Function, loop: EventLoop, account: AccountConcurrency, family: Family):
        super().__init__(fn, loop, account)
        self.family = family

    def provision(self, count: int) -> None:
        super().provision(count)
        self.family.idle_provisioned += count

    def begin(
        self,
        env: Environment,
        request: int,
        event: Any,
        on_done: Callable[[Environment], None] | None = None,
        async_event: object | None = None,
    ) -> None:
        family = self.family
        busy = family.busy = family.busy + 1
        if busy > family.step_max_busy:
            family.step_max_busy = busy
            if busy > family.max_busy:
                family.max_busy = busy
        if env.provisioned:
            family.idle_provisioned -= 1
        super().begin(env, request, event, on_done, async_event)

    def _invoke_done(self, env: Environment) -> None:
        family = self.family
        family.busy -= 1
        if env.provisioned:
            family.idle_provisioned += 1
        super()._invoke_done(env)
