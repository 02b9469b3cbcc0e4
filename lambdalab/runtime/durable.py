"""A learner's durable function, written with AWS's SDK, run in a worker against lambdalab's service.

How AWS's `aws-durable-execution-sdk-python` 3.0.0 (PYSDK, https://github.com/aws/aws-durable-execution-sdk-python)
works, as read from its code, and how lambdalab runs it (the concepts:
https://docs.aws.amazon.com/lambda/latest/dg/durable-basic-concepts.html):

- `@durable_execution` wraps the handler. Lambda invokes it with an event that is not the caller's
  payload but `{"DurableExecutionArn", "CheckpointToken", "InitialExecutionState": {"Operations",
  "NextMarker"}, "UpdatedOperationIds"}` (PYSDK `execution.py`, `DurableExecutionInvocationInput`); the
  caller's payload is the `InputPayload` of the first operation, of type EXECUTION. The wrapper replays
  the handler from the top against those operations: a finished step returns its stored result, the first
  unfinished operation runs.
- It talks to the service through a client object with two calls, `checkpoint` and `get_execution_state`
  (the `DurableServiceClient` protocol); the default one, `LambdaClient`, wraps a boto3 Lambda client that
  it caches on the class and calls `CheckpointDurableExecution` and `GetDurableExecutionState`. The test
  library's local runner (aws-durable-execution-sdk-python-testing 1.4.0, PYTEST,
  https://github.com/aws/aws-durable-execution-sdk-python-testing) substitutes the client
  by handing the wrapper a `DurableExecutionInvocationInputWithClient` (an event object carrying its own
  in-memory client) instead of the JSON event. lambdalab keeps the JSON event, as Lambda sends it, and
  puts its own object in the SDK's boto3-client cache instead (durable_client.py), so the SDK's own
  serialisation and error handling run; each call crosses to this process, where DurableExecution
  (durable_service.py) answers it.
- The wrapper returns `{"Status": "SUCCEEDED", "Result": json}`, `{"Status": "FAILED", "Error": {...}}`
  (an uncaught exception, a step out of retries: the execution fails, Lambda does not retry), or
  `{"Status": "PENDING"}` when the code reached a wait, a pending callback or a retry delay: the
  invocation ends there, and the service invokes again when the timer fires or the callback completes.
  A retryable service error is raised instead, so the invocation fails and Lambda invokes again.
- Time: PYTEST's runner uses `SkipClock`, real time plus an accumulated skip that jumps to each armed
  timer, so a 7-day wait ends at once while the history keeps the modelled timestamps. Its callback
  timeouts are not skipped (its scheduler waits for them in real time). Here the caller owns the clock:
  an invocation's timestamps are the virtual time it starts at plus the wall time its code has run, and
  between invocations the caller moves on to the next timer (`DurableExecution.next_wake_ms`) or
  completes callbacks, whatever the virtual wait.

`run_durable_invocation` is one invocation, for the engine to schedule; `run_execution` drives one
execution to its end in virtual time (tests, benchmarks, a learner's quick run).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lambdalab.runtime.durable_service import DurableExecution, Operation, Pending, ServiceError
from lambdalab.runtime.environment import ExecutionEnvironment, Invocation

# What every environment of a durable function imports: once per lambdalab process (FunctionCode.preload).
SDK_MODULES = ("aws_durable_execution_sdk_python",)

__all__ = [
    "SDK_MODULES",
    "DurableExecution",
    "DurableInvocation",
    "Pending",
    "execution_arn",
    "run_durable_invocation",
    "run_execution",
    "start_execution",
]


@dataclass
class DurableInvocation:
    """One invocation of a durable function, as the worker and the service saw it."""

    invocation: Invocation  # the Lambda invocation itself: logs, duration, Init, error if it crashed or timed out
    # SUCCEEDED or FAILED: the execution ended; PENDING: it waits (see `waiting`); None: the invocation
    # failed (a timeout, a crash, a retryable service error), and Lambda invokes again to replay.
    status: str | None
    result: str | None  # the execution's result as JSON text, when SUCCEEDED
    error: dict[str, Any] | None  # the execution's error (ErrorType, ErrorMessage, ...), when FAILED
    operations: list[Operation]  # every operation of the execution after this invocation, in AWS's wire shape
    checkpointed: list[str]  # ids of the operations this invocation wrote, in the order first written
    checkpoints: int  # CheckpointDurableExecution calls it made
    waiting: list[Pending] = field(default_factory=list)  # what a PENDING execution waits for
    wake_at_ms: int | None = None  # when the earliest of those timers fires; None: only a callback can resume it


def run_durable_invocation(
    env: ExecutionEnvironment, execution: DurableExecution, request_id: str, at_ms: int, clock_runs: bool = True
) -> DurableInvocation:
    """Invoke the durable function once, starting at virtual time `at_ms` (epoch ms; before Init, on a cold
    start): the service first ends what is due by then, the handler replays in the worker, and its checkpoints
    land in `execution`. Its timestamps are `at_ms` plus the wall time since the invocation began; with
    `clock_runs` False they are all `at_ms` (a caller whose virtual time does not follow the code's)."""
    started = time.monotonic()
    if clock_runs:
        execution.clock = lambda: at_ms + int((time.monotonic() - started) * 1000)
    else:
        execution.stop_clock(at_ms)
    event = execution.invocation_input()
    checkpoints = execution.checkpoints
    invocation = env.invoke(
        event, request_id, invoked_arn=_function_arn(execution.arn), durable=_answerer(execution), log_time_ms=at_ms
    )
    execution.stop_clock(execution.clock())
    status = execution.finish(None if invocation.error else invocation.response)
    return DurableInvocation(
        invocation=invocation,
        status=status,
        result=execution.result if status == "SUCCEEDED" else None,
        error=execution.error if status == "FAILED" else None,
        operations=[dict(op) for op in execution.operations],
        checkpointed=list(execution.written),
        checkpoints=execution.checkpoints - checkpoints,
        waiting=execution.pending() if status == "PENDING" else [],
        wake_at_ms=execution.next_wake_ms() if status == "PENDING" else None,
    )


def run_execution(
    env: ExecutionEnvironment,
    execution: DurableExecution,
    answer_callback: Callable[[Pending], tuple[str, str | None] | None] = lambda pending: None,
    max_invocations: int = 100,
) -> list[DurableInvocation]:
    """Invoke until the execution ends, in virtual time: after each PENDING invocation, callbacks
    `answer_callback` completes (it returns `(outcome, payload)` or None to leave one waiting) are
    completed at once; otherwise the clock moves to the next timer. Stops, unfinished, when nothing can
    resume the execution or after `max_invocations`."""
    runs: list[DurableInvocation] = []
    now = execution.clock()
    while len(runs) < max_invocations:
        run = run_durable_invocation(env, execution, f"{execution.arn.rsplit('/', 1)[-1]}-{len(runs) + 1}", now)
        runs.append(run)
        now = execution.clock()
        if run.status in ("SUCCEEDED", "FAILED"):
            break
        if run.status is None:
            continue  # Lambda invokes again at once
        answered = False
        for pending in run.waiting:
            answer = answer_callback(pending) if pending.callback_id else None
            if answer is not None:
                assert pending.callback_id is not None  # answer_callback is asked about callbacks only
                execution.complete_callback(pending.callback_id, *answer)
                answered = True
        if not answered:
            if run.wake_at_ms is None:
                break
            now = max(now, run.wake_at_ms)
            execution.stop_clock(now)
    return runs


def _answerer(execution: DurableExecution) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    def answer(action: str, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return {"response": execution.call(action, request)}
        except ServiceError as refused:
            return {"error": refused.to_wire()}

    return answer


def _function_arn(execution_arn: str) -> str:
    """The qualified function ARN an execution's ARN starts with (`...:function:NAME:VERSION/durable-execution/...`)."""
    return execution_arn.split("/durable-execution/", 1)[0]


def execution_arn(region: str, account_id: str, function: str, qualifier: str, name: str, execution_id: str) -> str:
    """A durable execution's ARN, as Lambda returns it in `X-Amz-Durable-Execution-Arn`
    (shared/reference/lambda-2026.md §2.4)."""
    return (
        f"arn:aws:lambda:{region}:{account_id}:function:{function}:{qualifier}/durable-execution/{name}/{execution_id}"
    )


def start_execution(
    region: str, account_id: str, function: str, qualifier: str, name: str, execution_id: str, payload: Any, at_ms: int
) -> DurableExecution:
    """A new execution of a function's code, its caller's payload as JSON, started at virtual time `at_ms`."""
    arn = execution_arn(region, account_id, function, qualifier, name, execution_id)
    return DurableExecution(arn, execution_id, name, json.dumps(payload), at_ms)
