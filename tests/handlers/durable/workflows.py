"""Durable functions as learners write them with AWS's SDK (aws-durable-execution-sdk-python 3.0.0), unchanged.

tests/test_durable_sdk.py runs each in a lambdalab worker against lambdalab's checkpoint service, and in the
SDK testing library's local runner, and compares the operation histories.
"""

import os
import time

from aws_durable_execution_sdk_python import CallbackTimeoutError, DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import (
    CallbackConfig,
    Duration,
    JitterStrategy,
    MapConfig,
    StepConfig,
    WaitForCallbackConfig,
)
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy

SEEN = []  # module level: outlives an invocation in a warm environment (which is what breaks `nondeterministic`)


@durable_execution
def order_workflow(event, context: DurableContext):
    """Charge, cool off for three days, wait for a person's approval (up to 7 days), then ship."""
    charge = context.step(lambda step: {"charged": event["amount"], "attempt": step.attempt}, name="charge")
    context.wait(Duration.from_days(3), name="cool-off")
    approval = context.wait_for_callback(
        lambda callback_id, step: print(f"approve at {callback_id}"),
        name="approve",
        config=WaitForCallbackConfig(timeout=Duration.from_days(7)),
    )
    shipped = context.step(lambda step: f"shipped {event['order']}", name="ship")
    return {"charge": charge, "approval": approval, "shipped": shipped}


@durable_execution
def nondeterministic(event, context: DurableContext):
    """Chooses its first step from a global that changes between invocations: on replay the history no longer
    matches, and the SDK fails the execution."""
    SEEN.append(1)
    first = "charge" if len(SEEN) == 1 else "refund"
    context.step(lambda step: "done", name=first)
    context.wait(Duration.from_seconds(60), name="pause")
    return "never"


@durable_execution
def retries_exhausted(event, context: DurableContext):
    """A step that always fails: three attempts 5 s and 10 s apart (no jitter, so both runs agree), then StepError."""
    retry = create_retry_strategy(RetryStrategyConfig(max_attempts=3, jitter_strategy=JitterStrategy.NONE))

    def call_payment_api(step):
        raise ConnectionError(f"payment API down (attempt {step.attempt})")

    return context.step(call_payment_api, name="pay", config=StepConfig(retry_strategy=retry))


@durable_execution
def uncaught(event, context: DurableContext):
    """A step succeeds, then the code outside any step raises: the execution fails, not retried."""
    total = context.step(lambda step: sum(event["items"]), name="sum")
    if total > 10:
        raise ValueError(f"order too large: {total}")
    return total


@durable_execution
def callback_times_out(event, context: DurableContext):
    """Nobody answers the callback within its timeout: the SDK raises CallbackTimeoutError, which the code catches."""
    callback = context.create_callback(name="approve", config=CallbackConfig(timeout=Duration.from_seconds(2)))
    try:
        return {"approved": callback.result()}
    except CallbackTimeoutError as error:
        return {"approved": False, "why": type(error).__name__}


@durable_execution
def parallel_and_map(event, context: DurableContext):
    """Two branches in parallel, then a step per item, two at a time."""
    shipped = context.parallel(
        [
            lambda branch: branch.step(lambda step: "packed", name="pack"),
            lambda branch: branch.step(lambda step: "labelled", name="label"),
        ],
        name="ship",
    )
    lines = context.map(
        event["lines"],
        lambda item_context, item, index, items: item_context.step(lambda step: item * 10, name="reserve"),
        name="lines",
        config=MapConfig(max_concurrency=2),
    )
    return {"ship": shipped.get_results(), "lines": lines.get_results()}


@durable_execution
def thirty_day_wait(event, context: DurableContext):
    """A trial that ends after 30 days: the benchmark's handler."""
    context.step(lambda step: "trial started", name="start-trial")
    context.wait(Duration.from_days(30), name="trial")
    return context.step(lambda step: "trial ended", name="end-trial")


@durable_execution
def slow_first_attempt(event, context: DurableContext):
    """The step's first run outlasts the function's timeout: Lambda invokes again, and the replay runs the cut
    step again (at least once per retry, the SDK's default). /tmp outlives the timeout's reset, so it counts runs."""

    def reserve(step):
        with open(os.path.join(os.environ["TMPDIR"], "runs"), "a+") as runs:
            runs.write("run\n")
            runs.seek(0)
            count = len(runs.readlines())
        if count == 1:
            time.sleep(5)
        return count

    return context.step(reserve, name="reserve")
