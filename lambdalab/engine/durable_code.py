"""Durable executions run by real code: the learner's handler, written with AWS's SDK, replayed by each invocation.

A durable function with `code:` (a handler wrapped in `@durable_execution`) has no modelled workflow: each
invocation runs the handler in its environment's worker against the runtime's checkpoint service
(lambdalab.runtime.durable), whose clock is the engine's virtual time. What the service then holds decides
what follows, as for a modelled workflow (durable.py): SUCCEEDED or FAILED close the execution, PENDING
suspends it until the earliest timer (a wait's end, a step's next attempt, a callback's timeout) or until a
callback is completed (https://docs.aws.amazon.com/lambda/latest/dg/durable-basic-concepts.html).

This module reads the service's operation history (AWS's wire shape) into the engine's counters, and finds a
pending callback by the name the handler gave it: `wait_for_callback(name=...)` names a child context whose
callback the SDK names "<name> create callback id", `create_callback(name=...)` the callback itself
(aws-durable-execution-sdk-python 3.0.0). It imports nothing of the runtime but for annotations: the
service and the worker are reached through RealCode (real_code.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lambdalab.engine.destinations import to_ms, to_s

if TYPE_CHECKING:
    from lambdalab.engine.real_code import RealCode
    from lambdalab.runtime import Invocation
    from lambdalab.runtime.durable import DurableExecution

NEVER = math.inf
CLOSED = ("SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "STOPPED")
WAIT_FOR_CALLBACK = "WaitForCallback"  # the SubType of the child context wait_for_callback opens
# The answer of a handler that is not a durable one (no `@durable_execution`): Lambda's error for it is
# UNCONFIRMED (not in its docs or API model), so the execution fails with this name.
NOT_DURABLE = "InvalidDurableExecutionOutput"


@dataclass
class Tally:
    """What one invocation added to an execution's history, in the engine's counters. Operations billed as the
    model bills them (durable.py): 1 each, a step 1 per attempt, so a wait_for_callback is 3 (its context, its
    callback, its submitter step)."""

    by_type: dict[str, int] = field(default_factory=dict)
    billed: int = 0
    step_attempts: int = 0
    retries: int = 0
    callbacks_timed_out: int = 0
    data_bytes: int = 0  # the results steps checkpointed


@dataclass
class CodeInvocation:
    """How one invocation of real code ended, as the engine needs it."""

    invocation: Invocation  # the Lambda invocation: its duration, its error if it timed out or crashed
    status: str | None  # SUCCEEDED, FAILED, PENDING; None: the invocation failed, or the code is not durable
    error: str  # the execution's error type, when FAILED
    wake_s: float  # PENDING: when the earliest timer fires (NEVER: only a callback can resume it)
    tally: Tally


class CodeExecution:
    """One execution run by real code: the service's record of it, and how much of it the engine has counted."""

    def __init__(self, service: DurableExecution):
        self.service = service
        self._counted: dict[str, tuple[str, int, int]] = {}  # by operation id: status, attempts, retries

    def invoke(self, real: RealCode, env_id: int, request: int, start_s: float, clock_runs: bool) -> CodeInvocation:
        """Run the handler once in the environment's worker, from virtual time `start_s`."""
        run = real.invoke_durable(env_id, self.service, request, to_ms(start_s), clock_runs)
        status = run.status
        error = ""
        if status == "FAILED":
            error = str((run.error or {}).get("ErrorType") or "Exception")
        elif status is None and run.invocation.error is None:
            status, error = "FAILED", NOT_DURABLE
        wake = NEVER if run.wake_at_ms is None else to_s(run.wake_at_ms)
        return CodeInvocation(run.invocation, status, error, wake, self.tally(run.operations))

    def tally(self, operations: list[dict[str, Any]]) -> Tally:
        """What changed in `operations` since the last tally."""
        tally = Tally()
        counted = self._counted
        for op in operations:
            kind, status, op_id = op["Type"], op["Status"], op["Id"]
            if kind == "EXECUTION":
                continue  # the engine counts the start itself
            before = counted.get(op_id)
            attempts = retries = 0
            if kind == "STEP":
                attempts = op.get("StepDetails", {}).get("Attempt", 0)
                retries = attempts - (status in CLOSED) if attempts else 0
            if before is None:
                tally.by_type[kind] = tally.by_type.get(kind, 0) + 1
                tally.billed += kind != "STEP"
                before = ("", 0, 0)
            tally.billed += attempts - before[1]
            tally.step_attempts += attempts - before[1]
            tally.retries += retries - before[2]
            if status != before[0]:
                if kind == "CALLBACK" and status == "TIMED_OUT":
                    tally.callbacks_timed_out += 1
                if kind == "STEP" and status == "SUCCEEDED":
                    tally.data_bytes += len((op["StepDetails"].get("Result") or "").encode())
            counted[op_id] = (status, attempts, retries)
        return tally

    def complete(self, name: str, outcome: str, event: Any, now_s: float) -> bool:
        """SendDurableExecutionCallback{Success,Failure,Heartbeat} for the first pending callback named `name`
        (the traffic's event is the result; for a failure, the error object if the event is one, else
        `{"ErrorType": "CallbackFailure"}`, a name of lambdalab's); False when none is pending
        (Lambda's CallbackTimeoutException), a callback past its timeout included."""
        service = self.service
        service.stop_clock(max(to_ms(now_s), service.clock()))
        service.complete_due()
        for pending in service.pending():
            if pending.callback_id is not None and self._callback_name(pending.operation_id) == name:
                service.complete_callback(pending.callback_id, outcome, _payload(outcome, event))
                return True
        return False

    def next_wake_s(self) -> float:
        """When the service's next timer fires (after a heartbeat moved a callback's deadline, say)."""
        wake = self.service.next_wake_ms()
        return NEVER if wake is None else to_s(wake)

    def _callback_name(self, operation_id: str) -> str | None:
        ops = {op["Id"]: op for op in self.service.operations}
        op = ops[operation_id]
        parent = ops.get(op.get("ParentId", ""))
        if parent is not None and parent.get("SubType") == WAIT_FOR_CALLBACK:
            return str(parent.get("Name"))
        name = op.get("Name")
        return None if name is None else str(name)


def _payload(outcome: str, event: Any) -> str | None:
    if outcome == "heartbeat":
        return None
    if outcome == "failure":
        error = event if isinstance(event, dict) and "ErrorType" in event else {"ErrorType": "CallbackFailure"}
        return json.dumps(error)
    return json.dumps(event)
