"""lambdalab's durable-execution service on its own, and the worker's channel to it, without AWS's SDK installed.

The SDK-level cross-check against AWS's local runner is tests/test_durable_sdk.py (it needs the `durable`
extra); these run everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdalab.runtime import ExecutionEnvironment, FunctionCode
from lambdalab.runtime.durable import run_durable_invocation, start_execution
from lambdalab.runtime.durable_service import DurableExecution, ServiceError

START = 1_800_000_000_000
DAY = 86_400_000


def execution() -> DurableExecution:
    return start_execution("us-east-1", "123456789012", "orders", "live", "o-1", "e-1", {"order": 1}, START)


def checkpoint(ex: DurableExecution, token: str, *updates: dict) -> dict:
    return ex.call(
        "CheckpointDurableExecution",
        {"DurableExecutionArn": ex.arn, "CheckpointToken": token, "Updates": list(updates)},
    )


def test_the_first_invocation_gets_the_callers_payload_in_the_execution_operation():
    ex = execution()
    event = ex.invocation_input()
    assert ex.arn == "arn:aws:lambda:us-east-1:123456789012:function:orders:live/durable-execution/o-1/e-1"
    assert event["DurableExecutionArn"] == ex.arn and event["InitialExecutionState"]["NextMarker"] == ""
    [op] = event["InitialExecutionState"]["Operations"]
    assert op["Type"] == "EXECUTION" and op["Status"] == "STARTED" and op["StartTimestamp"] == START
    assert json.loads(op["ExecutionDetails"]["InputPayload"]) == {"order": 1}


def test_each_checkpoint_spends_its_token_and_an_ended_invocation_spends_its_last():
    ex = execution()
    token = ex.invocation_input()["CheckpointToken"]
    answer = checkpoint(ex, token, {"Id": "s", "Type": "STEP", "Action": "START", "Name": "charge"})
    assert answer["CheckpointToken"] != token
    assert [op["Status"] for op in answer["NewExecutionState"]["Operations"]] == ["STARTED"]
    with pytest.raises(ServiceError) as refused:
        checkpoint(ex, token, {"Id": "s", "Type": "STEP", "Action": "SUCCEED", "Payload": "1"})
    assert refused.value.code == "InvalidParameterValueException" and str(refused.value) == "Invalid checkpoint token"
    ex.finish({"Status": "PENDING"})
    with pytest.raises(ServiceError):
        checkpoint(ex, answer["CheckpointToken"])


def test_a_wait_ends_when_the_clock_reaches_it_and_the_next_invocation_is_told():
    ex = execution()
    token = ex.invocation_input()["CheckpointToken"]
    checkpoint(ex, token, {"Id": "w", "Type": "WAIT", "Action": "START", "WaitOptions": {"WaitSeconds": 3 * 86400}})
    assert ex.finish({"Status": "PENDING"}) == "PENDING"
    assert ex.next_wake_ms() == START + 3 * DAY and [p.kind for p in ex.pending()] == ["wait"]
    ex.stop_clock(START + 3 * DAY - 1)
    assert not ex.complete_due()
    ex.stop_clock(START + 3 * DAY)
    event = ex.invocation_input()
    wait = event["InitialExecutionState"]["Operations"][1]
    assert wait["Status"] == "SUCCEEDED" and wait["EndTimestamp"] == START + 3 * DAY
    assert event["UpdatedOperationIds"] == ["w"] and ex.next_wake_ms() is None


def test_a_step_retry_is_pending_for_its_delay_then_ready_and_counts_attempts():
    ex = execution()
    token = ex.invocation_input()["CheckpointToken"]
    error = {"ErrorType": "ConnectionError", "ErrorMessage": "down"}
    token = checkpoint(ex, token, {"Id": "s", "Type": "STEP", "Action": "START"})["CheckpointToken"]
    answer = checkpoint(
        ex,
        token,
        {"Id": "s", "Type": "STEP", "Action": "RETRY", "Error": error, "StepOptions": {"NextAttemptDelaySeconds": 5}},
    )
    [step] = answer["NewExecutionState"]["Operations"]
    assert step["Status"] == "PENDING" and step["StepDetails"] == {
        "Attempt": 1,
        "Error": error,
        "NextAttemptTimestamp": START + 5000,
    }
    ex.finish({"Status": "PENDING"})
    ex.stop_clock(START + 5000)
    step = ex.invocation_input()["InitialExecutionState"]["Operations"][1]
    assert step["Status"] == "READY" and "NextAttemptTimestamp" not in step["StepDetails"]


def test_callbacks_complete_from_outside_time_out_and_are_then_refused():
    ex = execution()
    token = ex.invocation_input()["CheckpointToken"]
    answer = checkpoint(
        ex,
        token,
        {"Id": "a", "Type": "CALLBACK", "Action": "START", "CallbackOptions": {"TimeoutSeconds": 7 * 86400}},
        {"Id": "b", "Type": "CALLBACK", "Action": "START", "CallbackOptions": {"HeartbeatTimeoutSeconds": 3600}},
    )
    first, second = (op["CallbackDetails"]["CallbackId"] for op in answer["NewExecutionState"]["Operations"])
    ex.finish({"Status": "PENDING"})
    assert ex.next_wake_ms() == START + 3600_000  # the heartbeat timeout comes first
    ex.stop_clock(START + 1800_000)
    ex.complete_callback(second, "heartbeat")
    assert ex.next_wake_ms() == START + 5400_000  # counted again from the heartbeat
    ex.stop_clock(START + 5400_000)
    assert ex.complete_due()
    ops = {op["Id"]: op for op in ex.operations}
    assert (
        ops["b"]["Status"] == "TIMED_OUT" and ops["b"]["CallbackDetails"]["Error"]["ErrorType"] == "Callback.Heartbeat"
    )
    with pytest.raises(ServiceError) as refused:
        ex.complete_callback(second, "success", '"late"')
    assert refused.value.code == "CallbackTimeoutException"
    ex.complete_callback(first, "success", '"ok"')
    assert ops["a"]["Status"] == "SUCCEEDED" and ops["a"]["CallbackDetails"]["Result"] == '"ok"'


def test_operations_lambdalab_does_not_serve_are_refused_as_bad_requests():
    ex = execution()
    token = ex.invocation_input()["CheckpointToken"]
    with pytest.raises(ServiceError) as refused:
        checkpoint(ex, token, {"Id": "i", "Type": "CHAINED_INVOKE", "Action": "START"})
    assert refused.value.status == 400 and refused.value.to_wire()["ResponseMetadata"] == {"HTTPStatusCode": 400}
    with pytest.raises(ServiceError):
        checkpoint(ex, token, {"Id": "w", "Type": "WAIT", "Action": "SUCCEED"})


def test_an_execution_ends_with_the_handlers_status():
    ex = execution()
    ex.invocation_input()
    ex.stop_clock(START + 40)
    assert ex.finish({"Status": "SUCCEEDED", "Result": '{"ok": true}'}) == "SUCCEEDED"
    assert ex.status == "SUCCEEDED" and ex.result == '{"ok": true}'
    assert ex.operations[0]["Status"] == "SUCCEEDED" and ex.operations[0]["EndTimestamp"] == START + 40
    other = execution()
    other.invocation_input()
    assert other.finish({"not": "a durable output"}) is None and other.status == "RUNNING"


# A stand-in for the SDK's module that holds the client cache, and a handler that uses it as the SDK does:
# the worker's side of the channel, tested where the SDK is not installed.
FAKE_SDK = "class LambdaClient:\n    _cached_boto_client = None\n"
HANDLER = """\
from aws_durable_execution_sdk_python.lambda_service import LambdaClient


def handler(event, context):
    client = LambdaClient._cached_boto_client
    answer = client.checkpoint_durable_execution(
        DurableExecutionArn=event["DurableExecutionArn"],
        CheckpointToken=event["CheckpointToken"],
        Updates=[{"Id": "w", "Type": "WAIT", "Action": "START", "Name": "nap", "WaitOptions": {"WaitSeconds": 60}}],
    )
    [wait] = answer["NewExecutionState"]["Operations"]
    try:
        client.checkpoint_durable_execution(
            DurableExecutionArn=event["DurableExecutionArn"], CheckpointToken="stale", Updates=[]
        )
    except Exception as refused:
        code = refused.response["Error"]["Code"], refused.response["ResponseMetadata"]["HTTPStatusCode"]
    return {"Status": "PENDING", "start_type": type(wait["StartTimestamp"]).__name__, "refused": code}
"""


def test_the_worker_answers_the_sdks_client_calls_through_lambdalab(tmp_path: Path):
    (tmp_path / "aws_durable_execution_sdk_python").mkdir()
    (tmp_path / "aws_durable_execution_sdk_python" / "__init__.py").write_text("")
    (tmp_path / "aws_durable_execution_sdk_python" / "lambda_service.py").write_text(FAKE_SDK)
    (tmp_path / "app.py").write_text(HANDLER)
    ex = execution()
    with ExecutionEnvironment(FunctionCode(name="orders", code_dir=tmp_path, handler="app.handler")) as env:
        run = run_durable_invocation(env, ex, "r-1", START)
        plain = env.invoke({"DurableExecutionArn": ex.arn, "CheckpointToken": "1.0"}, "r-2")
    assert run.invocation.error is None and run.status == "PENDING" and run.checkpoints == 1  # the refused call is none
    assert run.invocation.response["start_type"] == "datetime"  # as botocore gives timestamps
    assert run.invocation.response["refused"] == ["InvalidParameterValueException", 400]
    assert [p.name for p in run.waiting] == ["nap"] and run.wake_at_ms - START == pytest.approx(60_000, abs=2000)
    # Invoked without an execution, the API refuses the (still installed) client's calls, as Lambda would.
    assert (
        plain.error["errorType"] == "ServiceError" and "not running a durable execution" in plain.error["errorMessage"]
    )
