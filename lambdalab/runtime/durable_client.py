"""Inside a worker: the Lambda API client AWS's durable-execution SDK uses, answered by lambdalab.

The SDK (aws-durable-execution-sdk-python 3.0.0, `lambda_service.py`) reaches the service through
`LambdaClient.initialize_client()`, which wraps a boto3 Lambda client cached on the class
(`LambdaClient._cached_boto_client`) and calls two of its methods, `checkpoint_durable_execution` and
`get_durable_execution_state`. This module puts an object with those two methods in that cache: each
call goes to the parent over the worker's channel, where lambdalab's checkpoint service
(durable_service.py) answers it in virtual time. The handler's module is imported unchanged, gets the
event Lambda sends a durable function, and the SDK's own code (its serialisation, batching, error
classification) runs as on Lambda. A handler given its own client (`@durable_execution(boto3_client=...)`)
would bypass this and reach for AWS, which is not there.

Loaded by the worker by its path (like linux.py), so standard library only.
"""

from __future__ import annotations

import datetime
import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

SDK_SERVICE_MODULE = "aws_durable_execution_sdk_python.lambda_service"
SDK_STATE_MODULE = "aws_durable_execution_sdk_python.state"
STOP_POLL_S = 0.002  # see install()
# Where an operation holds a timestamp: botocore turns these into datetimes, and the SDK expects them so.
TIMESTAMPS = (
    (None, "StartTimestamp"),
    (None, "EndTimestamp"),
    ("StepDetails", "NextAttemptTimestamp"),
    ("WaitDetails", "ScheduledEndTimestamp"),
)


class ServiceError(Exception):
    """A refused call, shaped as botocore's ClientError where the SDK looks (`response`), so that the SDK
    sorts it as it would AWS's: a 4xx fails the execution, anything else the invocation."""

    def __init__(self, response: dict[str, Any]):
        super().__init__(f"An error occurred ({response['Error']['Code']}): {response['Error']['Message']}")
        self.response = response


class ChannelLambdaClient:
    """The two Lambda API calls the SDK makes, sent to lambdalab. One call at a time: the SDK's
    checkpoint thread and its handler thread may both call."""

    def __init__(self, ask: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self._ask = ask
        self._lock = threading.Lock()

    def checkpoint_durable_execution(self, **request: Any) -> dict[str, Any]:
        answer = self._call("CheckpointDurableExecution", request)
        for op in answer.get("NewExecutionState", {}).get("Operations", []):
            _to_datetimes(op)
        return answer

    def get_durable_execution_state(self, **request: Any) -> dict[str, Any]:
        answer = self._call("GetDurableExecutionState", request)
        for op in answer.get("Operations", []):
            _to_datetimes(op)
        return answer

    def _call(self, action: str, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            answer = self._ask({"type": "durable", "action": action, "request": request})
        if "error" in answer:
            raise ServiceError(answer["error"])
        response: dict[str, Any] = answer["response"]
        return response


def install(ask: Callable[[dict[str, Any]], dict[str, Any]]) -> bool:
    """Make the SDK the handler imported talk to lambdalab. False when the handler did not import the SDK."""
    service = sys.modules.get(SDK_SERVICE_MODULE)
    if service is None:
        return False
    service.LambdaClient._cached_boto_client = ChannelLambdaClient(ask)
    # The SDK's checkpoint thread notices the end of an invocation on its next poll of an empty queue, up to
    # 0.1 s later (state._STOP_SIGNAL_POLL_SECONDS in SDK 3.0.0). lambdalab answers checkpoints at once, so a
    # shorter poll only makes each replay end sooner: nothing the handler or the history can see changes.
    state = sys.modules.get(SDK_STATE_MODULE)
    if state is not None and hasattr(state, "_STOP_SIGNAL_POLL_SECONDS"):
        setattr(state, "_STOP_SIGNAL_POLL_SECONDS", STOP_POLL_S)  # noqa: B010  # a private name: mypy cannot see it
    return True


def _to_datetimes(op: dict[str, Any]) -> None:
    for part, key in TIMESTAMPS:
        holder = op.get(part) if part else op
        if isinstance(holder, dict) and isinstance(holder.get(key), (int, float)):
            holder[key] = datetime.datetime.fromtimestamp(holder[key] / 1000, tz=datetime.timezone.utc)
