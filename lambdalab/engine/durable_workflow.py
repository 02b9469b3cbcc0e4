"""A durable function's modelled workflow (`durable.steps`: steps, waits, callbacks, parallel and map), replayed
from the top within one invocation.

Completed operations return their checkpointed results at once; the first incomplete one runs; a wait, a pending
callback or a step's retry delay suspends the execution. Nothing is written as the replay runs: each checkpoint is
an Effect at the virtual time it would be written, and the engine (durable.py) commits those the invocation
reached when it ends (a timeout cuts the rest). Step retries follow the SDK's `RetryPresets.default()`
(aws-durable-execution-sdk-python 3.0.0, retries.py and config.JitterStrategy.finalize_delay).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from lambdalab import limits
from lambdalab.engine.behaviour import Sampler, sampler
from lambdalab.engine.durable_history import (
    CLOSED,
    DONE,
    FAIL,
    FAILED,
    NEVER,
    PENDING,
    STARTED,
    SUCCEEDED,
    SUSPEND,
    Effect,
    Execution,
    Operation,
)

if TYPE_CHECKING:
    from lambdalab.engine.clock import EventLoop
    from lambdalab.engine.model import DurableOp

CallbackTimer = Callable[[tuple[Execution, Operation, bool]], None]
Outcome = tuple[float, int, float, str]  # (time reached, DONE/FAIL/SUSPEND, wake-up time, error)


# One operation as a replay meets it: the execution, the operation and its id, the context it is in, its record
# when an earlier invocation made one, and the effects (checkpoints) this invocation writes. A plain tuple that each
# handler unpacks at once: the replay builds one per operation it visits (a NamedTuple read by attribute made the
# durable benchmark's workload 7 % slower).
Visit = tuple[Execution, "DurableOp", str, str | None, Operation | None, list[Effect]]


class Workflow:
    """Replays modelled workflows for the engine. `callback_timer` is the engine's: called (on the loop) at a
    callback's timeout or heartbeat deadline with (execution, the callback, whether it is the heartbeat's)."""

    def __init__(self, loop: EventLoop, callback_timer: CallbackTimer):
        self.loop = loop
        self.callback_timer = callback_timer
        self._samplers: dict[int, Sampler] = {}  # by id() of a DurableOp: compiled once
        self._handlers = {"step": self._step, "wait": self._wait, "callback": self._callback}

    def run(
        self, execution: Execution, ops: tuple[DurableOp, ...], parent: str | None, t: float, fx: list[Effect]
    ) -> Outcome:
        """Operations in order from `t`: (time reached, DONE/FAIL/SUSPEND, wake-up time, error)."""
        records = execution.operations
        for i, op in enumerate(ops, 1):
            op_id = f"{parent}.{i}" if parent else str(i)
            record = records.get(op_id)
            if record is not None and record.status in CLOSED:  # replayed: its stored result, at once
                if record.status != SUCCEEDED and op.on_error == "fail":
                    return t, FAIL, NEVER, record.error
                continue
            handler = self._handlers.get(op.kind, self._batch)  # parallel and map are batches
            t, ended, wake, error = handler((execution, op, op_id, parent, record, fx), t)
            if ended != DONE:
                return t, ended, wake, error
        return t, DONE, NEVER, ""

    def _new(self, execution: Execution, fx: list[Effect], t: float, record: Operation, billed: int) -> None:
        """A new operation, checkpointed at `t`."""

        def create() -> None:
            execution.operations[record.id] = record
            execution.state.by_type[record.type] += 1
            execution.bill(billed)

        fx.append((t, create))

    def _step(self, visit: Visit, t: float) -> Outcome:
        execution, op, op_id, parent, record, fx = visit
        if record is None:
            record = Operation(op_id, "STEP", "Step", op.name, parent, t)
            self._new(execution, fx, t, record, 0)
        elif record.status == PENDING and record.wake_s > t:  # its retry delay has not passed
            return t, SUSPEND, record.wake_s, ""
        # An attempt cut by the invocation's timeout never checkpointed its end: it runs again, as the same
        # attempt (the SDK's default StepSemantics.AT_LEAST_ONCE_PER_RETRY).
        attempt = record.attempts if record.status == STARTED and record.attempts else record.attempts + 1
        end = t + self._sampler(op)()
        failed = attempt <= op.fails or (op.error_rate > 0.0 and self.loop.rng.random() < op.error_rate)
        state = execution.state

        def begin() -> None:
            record.status, record.attempts = STARTED, attempt
            state.step_attempts += 1

        fx.append((t, begin))
        if not failed:

            def succeed() -> None:
                record.status, record.end_s = SUCCEEDED, end
                execution.bill(1)
                execution.write(op.size)

            fx.append((end, succeed))
            return end, DONE, NEVER, ""
        if attempt < op.retry.attempts:
            wake = end + self._retry_delay(op, attempt)

            def retry() -> None:
                record.status, record.wake_s = PENDING, wake
                state.retries += 1
                execution.bill(1)

            fx.append((end, retry))
            return end, SUSPEND, wake, ""

        def fail() -> None:
            record.status, record.end_s, record.error = FAILED, end, limits.DURABLE_STEP_ERROR
            execution.bill(1)

        fx.append((end, fail))
        if op.on_error == "continue":
            return end, DONE, NEVER, ""
        return end, FAIL, NEVER, limits.DURABLE_STEP_ERROR

    def _retry_delay(self, op: DurableOp, attempt: int) -> int:
        """The delay before retry `attempt` (1 for the first retry): min(initial x backoff^(n-1), max), jittered,
        rounded up to whole seconds, at least 1 s (the SDK's create_retry_strategy and finalize_delay)."""
        retry = op.retry
        delay = min(retry.initial * retry.backoff ** (attempt - 1), retry.max)
        if retry.jitter == "full":
            delay = self.loop.rng.random() * delay
        elif retry.jitter == "half":
            delay = delay / 2 + self.loop.rng.random() * (delay / 2)
        return max(1, math.ceil(delay))

    def _wait(self, visit: Visit, t: float) -> Outcome:
        execution, op, op_id, parent, record, fx = visit
        if record is None:
            record = Operation(op_id, "WAIT", "Wait", op.name, parent, t)
            record.wake_s = t + op.wait_s
            self._new(execution, fx, t, record, 1)
            return t, SUSPEND, record.wake_s, ""
        if record.wake_s > t:
            return t, SUSPEND, record.wake_s, ""
        fired = record

        def succeed() -> None:
            fired.status, fired.end_s = SUCCEEDED, fired.wake_s

        fx.append((t, succeed))
        return t, DONE, NEVER, ""

    def _callback(self, visit: Visit, t: float) -> Outcome:
        """wait_for_callback, a child context as in the SDK: a callback is created, the submitter runs as a step
        (handed the callback's id), and the execution waits for the answer; each of the three is an operation."""
        execution, op, op_id, parent, record, fx = visit
        if record is not None:  # the context is open: its callback answered, timed out, or still pending
            callback = execution.operations[f"{op_id}.1"]
            if callback.status == STARTED:
                return t, SUSPEND, NEVER, ""  # its answer or its timeout wakes the execution
            ok = callback.status == SUCCEEDED
            self._close_op(fx, t, record, ok, callback.error)
            if ok or op.on_error == "continue":
                return t, DONE, NEVER, ""
            return t, FAIL, NEVER, callback.error
        context = Operation(op_id, "CONTEXT", "WaitForCallback", op.name, parent, t)
        callback = Operation(f"{op_id}.1", "CALLBACK", "Callback", op.name, op_id, t)
        submitter = Operation(f"{op_id}.2", "STEP", "Step", f"{op.name}-submitter", op_id, t)
        for created in (context, callback, submitter):
            self._new(execution, fx, t, created, 1)
        end = t + self._sampler(op)()

        def register() -> None:
            execution.callbacks.setdefault(op.name, []).append(callback)
            now = self.loop.now
            if op.timeout:
                self.loop.at(max(now, t + op.timeout), self.callback_timer, (execution, callback, False))
            if op.heartbeat_timeout:
                callback.wake_s = t + op.heartbeat_timeout
                self.loop.at(max(now, callback.wake_s), self.callback_timer, (execution, callback, True))

        def submitted() -> None:
            submitter.status, submitter.attempts, submitter.end_s = SUCCEEDED, 1, end

        fx.append((t, register))
        fx.append((end, submitted))
        return end, SUSPEND, NEVER, ""

    def _batch(self, visit: Visit, t: float) -> Outcome:
        """parallel or map: branches (items) in child contexts, at most `max_concurrency` at once, all within
        the invocation; it ends by its completion policy, or suspends while a branch it needs is suspended."""
        execution, op, op_id, parent, record, fx = visit
        parallel = op.kind == "parallel"
        count = op.items
        if record is None:
            record = Operation(op_id, "CONTEXT", "Parallel" if parallel else "Map", op.name, parent, t)
            self._new(execution, fx, t, record, 1 + count)
        slots = [t] * min(op.max_concurrency or count, count)  # when each slot is free again
        end, wake = t, NEVER
        succeeded = failed = suspended = 0
        error = ""
        records = execution.operations
        for b in range(count):
            branch_id = f"{op_id}.{b + 1}"
            branch = records.get(branch_id)
            if branch is not None and branch.status in CLOSED:
                succeeded += branch.status == SUCCEEDED
                failed += branch.status != SUCCEEDED
                error = error or branch.error
                continue
            slot = min(range(len(slots)), key=slots.__getitem__)
            begin = slots[slot]
            if begin == NEVER:  # every slot holds a suspended branch: this one waits for the next invocation
                suspended += 1
                continue
            if branch is None:
                branch = Operation(
                    branch_id,
                    "CONTEXT",
                    "ParallelBranch" if parallel else "MapIteration",
                    f"{op.name}-{b}",
                    op_id,
                    begin,
                )
                self._new(execution, fx, begin, branch, 0)
            ops = op.branches[b] if parallel else op.branches[0]
            reached, ended, branch_wake, branch_error = self.run(execution, ops, branch_id, begin, fx)
            end = max(end, reached)
            if ended == SUSPEND:
                suspended += 1
                wake = min(wake, branch_wake)
                slots[slot] = NEVER
                continue
            slots[slot] = reached
            self._close_op(fx, reached, branch, ended == DONE, branch_error)
            if ended == DONE:
                succeeded += 1
            else:
                failed += 1
                error = error or branch_error
        policy = op.completion
        if policy == "first_successful":
            outcome = DONE if succeeded else SUSPEND if suspended else FAIL
        elif policy == "all_completed":
            outcome = SUSPEND if suspended else DONE
        else:
            outcome = FAIL if failed else SUSPEND if suspended else DONE
        if outcome == SUSPEND:
            return end, SUSPEND, wake, ""
        self._close_op(fx, end, record, outcome == DONE, error)
        if outcome == FAIL and op.on_error == "fail":
            return end, FAIL, NEVER, error
        return end, DONE, NEVER, ""

    @staticmethod
    def _close_op(fx: list[Effect], t: float, record: Operation, ok: bool, error: str) -> None:
        def close() -> None:
            record.status, record.end_s = (SUCCEEDED if ok else FAILED), t
            record.error = "" if ok else error

        fx.append((t, close))

    def _sampler(self, op: DurableOp) -> Sampler:
        compiled = self._samplers.get(id(op))
        if compiled is None:
            compiled = self._samplers[id(op)] = sampler(op.duration, self.loop.rng)
        return compiled
