"""Durable handlers for tests/test_engine_durable_real.py: written with AWS's SDK, run by the engine's scenarios."""

import os

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import (
    CallbackConfig,
    Duration,
    JitterStrategy,
    StepConfig,
    WaitForCallbackConfig,
)
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy


@durable_execution
def approval(event, context: DurableContext):
    """Charge, wait three days, wait up to two days for a person's approval, then ship. A callback that times
    out raises CallbackTimeoutError here, uncaught: the execution fails."""
    charged = context.step(lambda step: event["amount"], name="charge")
    context.wait(Duration.from_days(3), name="cool-off")
    answer = context.wait_for_callback(
        lambda callback_id, step: None, name="approval", config=WaitForCallbackConfig(timeout=Duration.from_days(2))
    )
    print(f"approved: {answer}")
    return context.step(lambda step: f"shipped {event['order']} for {charged}", name="ship")


@durable_execution
def flaky_charge(event, context: DurableContext):
    """The charge fails its first attempt (counted in /tmp, which outlives invocations in one environment and is
    fresh in a new one) and is retried 10 s later, without jitter."""

    def charge(step):
        with open(os.path.join(os.environ["TMPDIR"], "attempts"), "a+") as attempts:
            attempts.write("x")
            attempts.seek(0)
            if len(attempts.read()) == 1:
                raise ConnectionError("payment API busy")
        return "charged"

    retry = create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=3, initial_delay=Duration.from_seconds(10), jitter_strategy=JitterStrategy.NONE
        )
    )
    return context.step(charge, name="charge", config=StepConfig(retry_strategy=retry))


@durable_execution
def heartbeats(event, context: DurableContext):
    """A callback that must hear a heartbeat every hour, and an answer within a day."""
    callback = context.create_callback(
        name="job", config=CallbackConfig(timeout=Duration.from_days(1), heartbeat_timeout=Duration.from_hours(1))
    )
    return callback.result()
