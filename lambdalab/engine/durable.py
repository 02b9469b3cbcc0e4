"""Durable executions: a workflow of checkpointed operations, run by invocations that replay it from the top.

From https://docs.aws.amazon.com/lambda/latest/dg/durable-basic-concepts.html and
https://docs.aws.amazon.com/lambda/latest/dg/durable-execution-sdk.html: an execution is RUNNING, then
SUCCEEDED, FAILED or TIMED_OUT (its ExecutionTimeout). Each invocation runs the handler from the top:
completed operations return their checkpointed results at once, the first incomplete one runs, and a wait,
a pending callback or a step's retry delay ends the invocation (PENDING) until Lambda invokes it again
when the timer fires or the callback completes; nothing is billed while it is suspended
(https://aws.amazon.com/lambda/pricing/). An invocation cut by the function's timeout is invoked again and
replays, the cut step too.

Every invocation goes through the function's normal path (admission, environments, cold starts, billing):
the durable runtimes below add the operations' time to the invocation (the modelled workflow's replay:
durable_workflow.py), and this module, as the invocation's `on_done`, commits the checkpoints it reached. The
operation history (durable_history.py) has the service's shape (type, subtype, name, parent, status,
attempts, times). A function with real code has no modelled workflow:
each invocation replays its handler in its worker instead, and the checkpoint service's history feeds the same
counters (durable_code.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambdalab import limits
from lambdalab.engine.admission import admit, count_throttle
from lambdalab.engine.behaviour import lookup
from lambdalab.engine.destinations import to_ms
from lambdalab.engine.durable_code import CodeExecution, Tally
from lambdalab.engine.durable_history import (
    DONE,
    FAIL,
    FAILED,
    HISTORY_KEPT,
    NEVER,
    RUNNING,
    STARTED,
    SUCCEEDED,
    SUSPEND,
    TIMED_OUT,
    DurableState,
    Effect,
    Execution,
    Operation,
)
from lambdalab.engine.durable_workflow import Workflow
from lambdalab.engine.environments import Environment, FunctionRuntime, VersionRuntime
from lambdalab.engine.ids import request_id

if TYPE_CHECKING:
    from lambdalab.engine.clock import EventLoop
    from lambdalab.engine.concurrency import AccountConcurrency, Family
    from lambdalab.engine.model import Account, DurableOp, Function, Traffic
    from lambdalab.engine.real_code import RealCode


class DurableRuntime(FunctionRuntime):
    """A durable function's runtime: an invocation of an execution lasts its code's duration plus the
    operations its replay runs. A subclass chosen at build time, so other functions pay nothing."""

    __slots__ = ("durable",)

    def __init__(self, fn: Function, loop: EventLoop, account: AccountConcurrency, engine: DurableEngine):
        super().__init__(fn, loop, account)
        self.durable = engine

    def begin(
        self,
        env: Environment,
        request: int,
        event: Any,
        on_done: Callable[[Environment], None] | None = None,
        async_event: object | None = None,
    ) -> None:
        if async_event is None and on_done is not None:  # a mapping's batch: an unnamed execution, waited for
            async_event, on_done = self.durable.start_for_caller(self, event, request, on_done), self.durable.done
        super().begin(env, request, event, on_done, async_event)

    def _invoke(self, env: Environment, now: float, reinit: float) -> None:
        super()._invoke(env, now, reinit + self.durable.replay(env, now + reinit))
        self.durable.started(env)


class DurableVersionRuntime(VersionRuntime):
    """The same, for a version of a durable function with published versions."""

    __slots__ = ("durable",)

    def __init__(
        self, fn: Function, loop: EventLoop, account: AccountConcurrency, family: Family, engine: DurableEngine
    ):
        super().__init__(fn, loop, account, family)
        self.durable = engine

    def begin(
        self,
        env: Environment,
        request: int,
        event: Any,
        on_done: Callable[[Environment], None] | None = None,
        async_event: object | None = None,
    ) -> None:
        if async_event is None and on_done is not None:  # as DurableRuntime.begin
            async_event, on_done = self.durable.start_for_caller(self, event, request, on_done), self.durable.done
        super().begin(env, request, event, on_done, async_event)

    def _invoke(self, env: Environment, now: float, reinit: float) -> None:
        super()._invoke(env, now, reinit + self.durable.replay(env, now + reinit))
        self.durable.started(env)


class DurableEngine:
    """Starts executions, replays them invocation by invocation, and completes their callbacks."""

    def __init__(
        self, loop: EventLoop, account: AccountConcurrency, settings: Account, seed: int, functions: dict[str, Function]
    ):
        self.loop = loop
        self.account = account
        self.max_operations = settings.durable_max_operations
        self.max_data = settings.durable_max_data
        self.seed = seed
        self.states = {name: DurableState(name, fn.durable) for name, fn in functions.items() if fn.durable is not None}
        self.workflow = Workflow(loop, self._callback_timer)

    # --- starting executions ------------------------------------------------------------------

    def starter(self, traffic: Traffic) -> Callable[[FunctionRuntime, Any], None]:
        """What a traffic generator calls with (the version, the event) for each start it sends."""
        count = [0]
        pattern, path = traffic.execution_name, traffic.execution_name_path
        sync = traffic.invocation == "sync"

        def start(fn: FunctionRuntime, event: Any) -> None:
            count[0] += 1
            if path is not None:
                name = str(lookup(event, path))
            elif pattern:
                name = pattern.replace("{n}", str(count[0]))
            else:
                name = request_id(self.seed, self.loop.next_id())  # Lambda generates an id
            self.start(fn, event, name, sync)

        return start

    def start(self, fn: FunctionRuntime, event: Any, name: str, sync: bool) -> None:
        """StartDurableExecution by an invoke: a new execution, or the one already named (DF-IDEM:
        https://docs.aws.amazon.com/lambda/latest/dg/durable-execution-idempotency.html)."""
        state = self.states[fn.config.name]
        now = self.loop.now
        fn.outcomes.requests += 1
        known = state.names.get(name)
        if known is not None and (
            known.status == RUNNING
            or (not state.config.reuse_closed_names and now < (known.end_s or now) + state.config.retention)
        ):
            same = known.event == event
            if same:
                state.deduplicated += 1
            else:
                state.rejected += 1
            self._emit_start(fn, name, "deduplicated" if same else "rejected")
            return
        execution = Execution(name, event, fn, state, now)
        got: Environment | str = ""
        if sync:  # the caller waits: a throttled first invocation is its 429, and no execution starts
            got = admit(fn, self.account, now)
            if got.__class__ is str:
                count_throttle(fn, self.loop, self.loop.next_id(), "sync", got)
                fn.outcomes.throttled += 1
                state.throttled += 1
                return
        fn.outcomes.sync_in_flight += 1  # an execution not closed yet: the report's in_flight
        self._open(execution, sync)
        if isinstance(got, Environment):
            execution.running = True
            self._count_invocation(execution)
            fn.begin(got, self.loop.next_id(), event, self.done, execution)
        else:
            self._invoke(execution)

    def start_for_caller(
        self, fn: FunctionRuntime, event: Any, request: int, answer: Callable[[Environment], None]
    ) -> Execution:
        """An event source mapping's batch: a new, unnamed execution each time (no name, so no idempotency:
        a retried batch is a new execution), which the mapping waits for, 15 minutes at most; its first
        invocation is the one beginning now (https://docs.aws.amazon.com/lambda/latest/dg/durable-invoking-esm.html)."""
        state = self.states[fn.config.name]
        execution = Execution(request_id(self.seed, request), event, fn, state, self.loop.now)
        execution.answer, execution.request = answer, request
        self._open(execution, sync=True)
        execution.running = True
        self._count_invocation(execution)
        return execution

    def _open(self, execution: Execution, sync: bool) -> None:
        """A new execution: its name taken, its start billed and its input written, its timeouts set."""
        state, now = execution.state, self.loop.now
        state.names[execution.name] = execution
        if len(state.history) < HISTORY_KEPT:
            state.history.append(execution)
            execution.kept = True
        state.started += 1
        state.running += 1
        record = Operation("0", "EXECUTION", "Execution", execution.name, None, now)
        execution.operations["0"] = record
        state.by_type["EXECUTION"] += 1
        execution.bill(1)
        execution.write(len(json.dumps(execution.event, separators=(",", ":")).encode()))
        self.loop.at(now + state.config.execution_timeout, self._time_out, execution)
        if sync:
            deadline = min(limits.DURABLE_SYNC_MAX_S, state.config.execution_timeout)
            self.loop.at(now + deadline, self._sync_deadline, execution)
        self._emit_start(execution.fn, execution.name, "new")

    def _count_invocation(self, execution: Execution) -> None:
        execution.invocations += 1
        execution.state.invocations += 1
        if execution.invocations > 1:
            execution.state.replays += 1

    def _invoke(self, execution: Execution) -> None:
        """Lambda invokes the function for the execution (again); a 429 is retried with a backoff from 1 s to
        5 min, as for Lambda's own asynchronous retries (UNCONFIRMED for durable re-invocations)."""
        fn = execution.fn
        loop = self.loop
        number = loop.next_id()
        got = admit(fn, self.account, loop.now)
        if got.__class__ is str:
            count_throttle(fn, loop, number, "async", got)
            execution.backoff = min(
                limits.ASYNC_BACKOFF_MAX_S, max(limits.ASYNC_BACKOFF_MIN_S, execution.backoff * 2.0)
            )
            self._suspend(execution, loop.now + execution.backoff, "throttled")
            return
        execution.backoff = 0.0
        execution.running = True
        execution.woken = False
        self._count_invocation(execution)
        fn.begin(got, number, execution.event, self.done, execution)  # type: ignore[arg-type]  # an Environment

    # --- one invocation: replay, then commit --------------------------------------------------

    def replay(self, env: Environment, start: float) -> float:
        """Run the workflow from the top for the invocation starting on `env` at `start`: how long its
        operations take. What they checkpoint is kept on the execution until the invocation ends."""
        execution = env.async_event
        if not isinstance(execution, Execution) or execution.status != RUNNING:
            return 0.0  # timed out during the Init before it: the code runs, and what it writes is refused
        real = execution.fn.real
        if real is not None:
            return self._replay_code(execution, env, start, real)
        effects: list[Effect] = []
        end, ended, wake, error = self.workflow.run(execution, execution.state.config.steps, None, start, effects)
        execution.effects, execution.ended, execution.wake, execution.ended_error = effects, ended, wake, error
        execution.handler_error = ""
        return end - start

    def _replay_code(self, execution: Execution, env: Environment, start: float, real: RealCode) -> float:
        """Real code: the handler replays in the environment's worker now (durable_code.py), and its invocation
        becomes this one's outcome; its operations take no time beyond the code's own."""
        execution.effects, execution.handler_error = [], ""
        if env.real_outcome is not None:  # its Init failed: the invocation fails before the handler runs
            return 0.0
        code = execution.code
        if code is None:
            execution_id = request_id(self.seed, self.loop.next_id())
            service = real.start_durable(execution.name, execution_id, execution.event, to_ms(execution.start_s))
            code = execution.code = CodeExecution(service)
        assert execution.fn.config.code is not None  # `real` is set only for a function with code
        run = code.invoke(real, env.id, env.request, start, not execution.fn.config.code.modelled_timing)
        env.real_outcome = run.invocation
        tally = run.tally
        execution.effects = [(start, lambda: self._count(execution, tally))]
        execution.ended = DONE if run.status == SUCCEEDED else FAIL if run.status == FAILED else SUSPEND
        execution.wake, execution.ended_error = run.wake_s, run.error
        return 0.0

    def _count(self, execution: Execution, tally: Tally) -> None:
        """What a real invocation checkpointed, counted as the model counts its operations."""
        state = execution.state
        for kind, created in tally.by_type.items():
            state.by_type[kind] = state.by_type.get(kind, 0) + created
        execution.bill(tally.billed)
        execution.write(tally.data_bytes)
        state.step_attempts += tally.step_attempts
        state.retries += tally.retries
        state.callbacks["timed_out"] += tally.callbacks_timed_out

    def started(self, env: Environment) -> None:
        """After the invocation's outcome is drawn: an error of the code outside operations (not a timeout or
        crash) fails the execution, and the invocation itself returns normally (the SDK's FAILED status)."""
        execution = env.async_event
        error = env.error
        # Real code: the SDK answers an error of the code as the FAILED status; an invocation error is a
        # timeout, a crash or a service error to retry, and Lambda invokes again.
        if isinstance(execution, Execution) and error is not None and not env.timed_out and execution.fn.real is None:
            if not error.startswith("Runtime."):
                execution.handler_error = error
                env.error = None

    def done(self, env: Environment) -> None:
        """An invocation of the execution ended: commit what it checkpointed, then close, suspend or invoke again."""
        execution = env.async_event
        assert isinstance(execution, Execution)  # start and _invoke begin every invocation with its execution
        execution.running = False
        effects, execution.effects = execution.effects, []
        if execution.status != RUNNING:
            return  # timed out meanwhile: what this invocation writes is refused
        now = self.loop.now
        for time, effect in effects:
            if time <= now:
                effect()
        if execution.billed > self.max_operations or execution.data_bytes > self.max_data:
            self._close(execution, FAILED, limits.DURABLE_LIMIT_EXCEEDED)
            return
        if env.error is not None:  # timed out or crashed: invoked again, and it replays
            execution.failures += 1
            if execution.failures > execution.fn.config.async_config.maximum_retry_attempts:
                self._close(execution, FAILED, env.error)
            else:
                self._invoke(execution)
            return
        execution.failures = 0
        if execution.handler_error:
            self._close(execution, FAILED, execution.handler_error)
        elif execution.ended == DONE:
            self._close(execution, SUCCEEDED, "")
        elif execution.ended == FAIL:
            self._close(execution, FAILED, execution.ended_error)
        elif execution.woken:
            self._invoke(execution)
        else:
            self._suspend(execution, execution.wake, "pending")

    def _suspend(self, execution: Execution, wake: float, why: str) -> None:
        execution.suspended = True
        execution.state.suspended += 1
        execution.token += 1
        if wake < NEVER:
            self.loop.at(max(wake, self.loop.now), self._wake, (execution, execution.token))
        if self.loop.listeners:
            self.loop.emit(
                "durable_suspend",
                {
                    "function": execution.fn.name,
                    "execution": execution.name,
                    "reason": why,
                    "until_s": None if wake == NEVER else round(wake, 6),
                },
            )

    def _wake(self, arg: tuple[Execution, int]) -> None:
        execution, token = arg
        if token == execution.token and execution.suspended and execution.status == RUNNING:
            self._resume(execution, "timer")

    def _resume(self, execution: Execution, why: str) -> None:
        execution.suspended = False
        execution.state.suspended -= 1
        execution.token += 1
        if self.loop.listeners:
            self.loop.emit(
                "durable_resume", {"function": execution.fn.name, "execution": execution.name, "reason": why}
            )
        self._invoke(execution)

    def _time_out(self, execution: Execution) -> None:
        if execution.status == RUNNING:
            self._close(execution, TIMED_OUT, "ExecutionTimeout")

    def _sync_deadline(self, execution: Execution) -> None:
        """A synchronous caller stops waiting after 15 minutes; the execution goes on (DF_INV). A mapping is
        answered with a timeout, and its retry rules apply (DF-ESM)."""
        if execution.status == RUNNING:
            execution.state.sync_timed_out += 1
            self._answer(
                execution,
                limits.TIMEOUT_ERROR,
                f"Durable execution still running after {limits.DURABLE_SYNC_MAX_S:g} s",
            )

    def _answer(self, execution: Execution, error: str, message: str) -> None:
        """Tell the mapping that started the execution how it ended, as its invocation's outcome."""
        answer = execution.answer
        if answer is None:
            return
        execution.answer = None
        outcome = Environment(0, execution.fn, self.loop.now, provisioned=False)  # the answer's shape
        outcome.request, outcome.response = execution.request, None
        outcome.error, outcome.error_message, outcome.timed_out = (
            (error or None),
            message,
            error == limits.TIMEOUT_ERROR,
        )
        answer(outcome)

    def _close(self, execution: Execution, status: str, error: str) -> None:
        state = execution.state
        now = self.loop.now
        if execution.suspended:
            execution.suspended = False
            state.suspended -= 1
        execution.status, execution.end_s, execution.error = status, now, error
        execution.token += 1
        record = execution.operations["0"]
        record.status, record.end_s, record.error = status, now, error
        state.running -= 1
        if status == SUCCEEDED:
            state.succeeded += 1
        elif status == TIMED_OUT:
            state.timed_out += 1
        else:
            state.failed += 1
        if execution.request:  # a mapping's: the mapping counts its batch's outcome
            self._answer(execution, error, f"The durable execution ended {status}")
        else:
            outcomes = execution.fn.outcomes
            outcomes.sync_in_flight -= 1
            if status == SUCCEEDED:
                outcomes.succeeded += 1
            else:
                outcomes.failed += 1
        state.retained_byte_s += execution.data_bytes * (now - execution.start_s + state.config.retention)
        if not execution.kept:  # closed: only its name, event and dates still count (for names and retention)
            execution.operations, execution.callbacks = {}, {}
        if self.loop.listeners:
            self.loop.emit(
                "durable_end",
                {
                    "function": execution.fn.name,
                    "execution": execution.name,
                    "status": status,
                    "error": error or None,
                    "invocations": execution.invocations,
                },
            )

    def _callback_timer(self, arg: tuple[Execution, Operation, bool]) -> None:
        execution, record, heartbeat = arg
        if record.status != STARTED or execution.status != RUNNING:
            return
        if heartbeat and record.wake_s > self.loop.now:  # a heartbeat came since: wait for the new deadline
            self.loop.at(record.wake_s, self._callback_timer, arg)
            return
        record.status, record.end_s, record.error = TIMED_OUT, self.loop.now, limits.DURABLE_CALLBACK_TIMEOUT
        execution.state.callbacks["timed_out"] += 1
        self._callback_event(execution, record.name, "timed_out", True)
        self._woken(execution)

    def _woken(self, execution: Execution) -> None:
        if execution.suspended:
            self._resume(execution, "callback")
        elif execution.running:
            execution.woken = True

    # --- callbacks completed from outside -------------------------------------------------------

    def completer(self, traffic: Traffic) -> Callable[[Any], None]:
        """What `callback:FUNCTION` traffic calls for each request: SendDurableExecutionCallback{Success,
        Failure,Heartbeat} for the named callback of the named execution."""
        count = [0]
        function, name = traffic.target.partition(":")[2], traffic.callback
        pattern, outcome = traffic.execution_name, traffic.outcome

        def complete(event: Any) -> None:
            count[0] += 1
            state = self.states[function]
            execution = state.names.get(pattern.replace("{n}", str(count[0])))
            self.complete(state, execution, name, outcome, event)

        return complete

    def complete(
        self, state: DurableState, execution: Execution | None, name: str, outcome: str, event: Any = None
    ) -> None:
        """One callback completion: refused (CallbackTimeoutException) when the callback is not pending."""
        if execution is not None and execution.code is not None:
            self._complete_code(state, execution, execution.code, name, outcome, event)
            return
        pending = (
            [c for c in execution.callbacks.get(name, ()) if c.status == STARTED]
            if execution is not None and execution.status == RUNNING
            else []
        )
        if not pending:
            state.callbacks["rejected"] += 1
            if execution is not None:
                self._callback_event(execution, name, outcome, False)
            return
        assert execution is not None  # pending callbacks belong to an execution
        record = pending[0]
        now = self.loop.now
        if outcome == "heartbeat":
            state.callbacks["heartbeats"] += 1
            config = self._callback_config(state.config.steps, name)
            if config is not None and config.heartbeat_timeout:
                record.wake_s = now + config.heartbeat_timeout
            self._callback_event(execution, name, outcome, True)
            return
        ok = outcome == "success"
        record.status, record.end_s = (SUCCEEDED if ok else FAILED), now
        record.error = "" if ok else limits.DURABLE_CALLBACK_FAILED
        state.callbacks["completed" if ok else "failed"] += 1
        self._callback_event(execution, name, outcome, True)
        self._woken(execution)

    def _complete_code(
        self, state: DurableState, execution: Execution, code: CodeExecution, name: str, outcome: str, event: Any
    ) -> None:
        """The same for real code: the service completes the handler's callback of that name (durable_code.py)."""
        if execution.status != RUNNING or not code.complete(name, outcome, event, self.loop.now):
            state.callbacks["rejected"] += 1
            self._callback_event(execution, name, outcome, False)
            return
        self._callback_event(execution, name, outcome, True)
        if outcome == "heartbeat":  # the callback's heartbeat deadline moved: so does a suspended execution's wake
            state.callbacks["heartbeats"] += 1
            if execution.suspended:
                execution.token += 1
                wake = code.next_wake_s()
                if wake < NEVER:
                    self.loop.at(max(wake, self.loop.now), self._wake, (execution, execution.token))
            return
        state.callbacks["completed" if outcome == "success" else "failed"] += 1
        self._woken(execution)

    def _callback_config(self, ops: tuple[DurableOp, ...], name: str) -> DurableOp | None:
        for op in ops:
            if op.kind == "callback" and op.name == name:
                return op
            for branch in op.branches:
                found = self._callback_config(branch, name)
                if found is not None:
                    return found
        return None

    # --- the trace -----------------------------------------------------------------------------

    def _emit_start(self, fn: FunctionRuntime, name: str, start: str) -> None:
        if self.loop.listeners:
            self.loop.emit(
                "durable_start",
                {
                    "function": fn.name,
                    "execution": name,
                    "start": start,
                    "error": limits.DURABLE_ALREADY_STARTED if start == "rejected" else None,
                },
            )

    def _callback_event(self, execution: Execution, name: str, outcome: str, accepted: bool) -> None:
        if self.loop.listeners:
            self.loop.emit(
                "durable_callback",
                {
                    "function": execution.fn.name,
                    "execution": execution.name,
                    "callback": name,
                    "outcome": outcome,
                    "accepted": accepted,
                },
            )
