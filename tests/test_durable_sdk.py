"""Durable functions written with AWS's SDK, run by lambdalab, give the history AWS's own local runner gives.

Each handler of tests/handlers/durable/workflows.py runs twice:
- in a lambdalab worker process (the learner's code never runs in this process), invocation after
  invocation against lambdalab's checkpoint service, in virtual time;
- in `DurableFunctionTestRunner` from aws-durable-execution-sdk-python-testing 1.4.0, AWS's in-process fake
  of the service. That one runs the handler in this process: it is AWS's code running our fixtures, not a
  learner's code run by lambdalab.
The operations the two services record must be the same, but for what must differ, and only that:
- the EXECUTION operation's Id (the runner uses its invocation id) and callback ids (each service mints its
  own; compared by the operation they belong to);
- timestamps: absolute times differ, so each becomes seconds since the first operation the handler wrote
  started (not since the execution started: lambdalab's first invocation has a cold start, a real process
  importing boto3, and the runner's has none), equal within 2.5 s (the runner's clock is real time plus the
  skipped waits, lambdalab's is virtual time plus the time the code ran, on a machine that may be busy);
- operation order in the list: branches of parallel and map checkpoint from threads, in either order, so
  operations are compared by Id.
The runner's record is read from its store (`runner._store`, private): its public result drops the
EXECUTION operation and reshapes the others.
"""

from __future__ import annotations

import importlib.util
import json
import uuid
from pathlib import Path
from typing import Any

# Both are in the `test` extra: a missing one is a broken install, and fails here rather than skipping.
import aws_durable_execution_sdk_python  # noqa: F401
import aws_durable_execution_sdk_python_testing.runner as testing
import pytest

from lambdalab.runtime import ExecutionEnvironment, FunctionCode
from lambdalab.runtime.durable import run_durable_invocation, run_execution, start_execution

HANDLERS = Path(__file__).parent / "handlers" / "durable"
START_MS = 1_800_000_000_000  # 2027-01-15T08:00:00Z, any fixed virtual time
APPROVED = '{"approved": true}'
EVENT = {"amount": 42, "order": "o-7", "items": [5, 6], "lines": [1, 2, 3]}
TIMESTAMP_KEYS = ("StartTimestamp", "EndTimestamp", "NextAttemptTimestamp", "ScheduledEndTimestamp")


def lambdalab_run(handler: str, answer: str | None = None):
    """The execution, run to its end in a worker; a callback gets `answer` (success) or is left to time out."""
    code = FunctionCode(name="orders", code_dir=HANDLERS, handler=f"workflows.{handler}", timeout_s=30)
    execution = start_execution(
        "us-west-2", "123456789012", "orders", "$LATEST", "execution-name", "e-1", EVENT, START_MS
    )
    with ExecutionEnvironment(code) as env:
        runs = run_execution(env, execution, lambda pending: ("success", answer) if answer else None)
    return execution, runs


def runner_run(handler: str, answer: str | None = None):
    """The same handler in AWS's local runner (time skipped), from a fresh copy of the module."""
    spec = importlib.util.spec_from_file_location(f"workflows_{uuid.uuid4().hex}", HANDLERS / "workflows.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with testing.DurableFunctionTestRunner(handler=getattr(module, handler), skip_time=True) as runner:
        runner.poll_interval = 0.05
        arn = runner.run_async(input=json.dumps(EVENT), execution_timeout=60, execution_name="execution-name")
        if answer:
            runner.send_callback_success(runner.wait_for_callback(arn, timeout=30), answer.encode())
        result = runner.wait_for_result(arn, timeout=60)
        operations = [op.to_json_dict() for op in runner._store.load(arn).operations]
    return result, operations


def normalised(operations: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    assert operations[0]["Type"] == "EXECUTION"
    start = min(op["StartTimestamp"] for op in operations[1:])

    def clean(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: clean(v, k) for k, v in value.items() if v is not None and k != "StackTrace"}
        if key in TIMESTAMP_KEYS:
            return round((value - start) / 1000, 3)
        return value

    by_id = {}
    for op in operations:
        op = clean(op)
        if op["Type"] == "EXECUTION":
            op["Id"], op["StartTimestamp"] = "EXECUTION", 0
        if "CallbackDetails" in op:
            op["CallbackDetails"]["CallbackId"] = f"callback of {op['Id']}"
        by_id[op["Id"]] = op
    return by_id


def assert_same(ours: Any, theirs: Any, where: str = "") -> None:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        assert ours.keys() == theirs.keys(), f"{where}: {sorted(ours)} != {sorted(theirs)}"
        for key in ours:
            assert_same(ours[key], theirs[key], f"{where}.{key}")
    elif where.rsplit(".", 1)[-1] in TIMESTAMP_KEYS:
        assert abs(ours - theirs) <= 2.5, f"{where}: {ours} s != {theirs} s"
    else:
        assert ours == theirs, f"{where}: {ours!r} != {theirs!r}"


def compare(handler: str, answer: str | None = None):
    """Both runs, their histories compared; lambdalab's execution and invocations, for further checks."""
    execution, runs = lambdalab_run(handler, answer)
    result, theirs = runner_run(handler, answer)
    ours = normalised(execution.operations)
    assert_same(ours, normalised(theirs), handler)
    assert execution.status == result.status.value
    assert execution.result == result.result
    clean_error = {k: v for k, v in (result.error.to_dict() if result.error else {}).items() if k != "StackTrace"}
    assert {k: v for k, v in (execution.error or {}).items() if k != "StackTrace"} == clean_error
    return execution, runs, ours


def by_name(ours: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    return next(op for op in ours.values() if op.get("Name") == name)


def test_order_workflow_waits_three_days_and_for_a_callback():
    execution, runs, ours = compare("order_workflow", APPROVED)
    assert [run.status for run in runs] == ["PENDING", "PENDING", "SUCCEEDED"]  # one invocation per resume
    assert [p.kind for p in runs[0].waiting] == ["wait"] and [p.kind for p in runs[1].waiting] == ["callback"]
    cool_off = by_name(ours, "cool-off")
    assert cool_off["WaitDetails"]["ScheduledEndTimestamp"] - cool_off["StartTimestamp"] == 3 * 86400
    wait_ends = next(op for op in execution.operations if op.get("Name") == "cool-off")["WaitDetails"]
    assert runs[0].wake_at_ms == wait_ends["ScheduledEndTimestamp"]  # the engine invokes again then
    assert json.loads(execution.result) == {
        "charge": {"charged": 42, "attempt": 1},
        "approval": APPROVED,
        "shipped": "shipped o-7",
    }
    assert by_name(ours, "charge")["StepDetails"]["Attempt"] == 1  # replayed twice, run once
    assert "approve at " in runs[1].invocation.log  # the submitter's print, in its invocation's log


def test_code_that_changes_its_steps_on_replay_fails_the_execution():
    execution, runs, _ = compare("nondeterministic")
    assert [run.status for run in runs] == ["PENDING", "FAILED"]
    assert execution.error["ErrorType"].endswith("NonDeterministicExecutionError")


def test_a_step_out_of_retries_fails_the_execution_after_its_delays():
    execution, runs, ours = compare("retries_exhausted")
    assert [run.status for run in runs] == ["PENDING", "PENDING", "FAILED"]  # 3 attempts, each its own invocation
    pay = by_name(ours, "pay")
    assert pay["Status"] == "FAILED" and pay["StepDetails"]["Attempt"] == 3
    assert pay["EndTimestamp"] == pytest.approx(5 + 10, abs=1)  # RetryStrategyConfig: 5 s, then 10 s, no jitter
    assert execution.error["ErrorType"].endswith("StepError")


def test_an_exception_outside_a_step_fails_the_execution_at_once():
    execution, runs, _ = compare("uncaught")
    assert [run.status for run in runs] == ["FAILED"] and runs[0].invocation.error is None  # a normal return
    assert execution.error == {"ErrorType": "ValueError", "ErrorMessage": "order too large: 11"}


def test_a_callback_nobody_answers_times_out():
    execution, runs, ours = compare("callback_times_out")
    assert [run.status for run in runs] == ["PENDING", "SUCCEEDED"]
    approve = by_name(ours, "approve")
    assert approve["Status"] == "TIMED_OUT" and approve["CallbackDetails"]["Error"]["ErrorType"] == "Callback.Timeout"
    assert json.loads(execution.result) == {"approved": False, "why": "CallbackTimeoutError"}


def test_parallel_branches_and_map_items_are_child_contexts():
    execution, runs, ours = compare("parallel_and_map")
    assert len(runs) == 1 and json.loads(execution.result) == {"ship": ["packed", "labelled"], "lines": [10, 20, 30]}
    kinds = sorted(op.get("SubType", op["Type"]) for op in ours.values())
    assert kinds.count("ParallelBranch") == 2 and kinds.count("MapIteration") == 3 and kinds.count("Step") == 5


def test_each_invocation_reports_what_it_checkpointed_and_what_it_waits_for():
    code = FunctionCode(name="trial", code_dir=HANDLERS, handler="workflows.thirty_day_wait", timeout_s=30)
    execution = start_execution("us-east-1", "123456789012", "trial", "live", "t-1", "e-1", {}, START_MS)
    with ExecutionEnvironment(code) as env:
        first = run_durable_invocation(env, execution, "r-1", START_MS)
        early = run_durable_invocation(env, execution, "r-2", START_MS + 86_400_000)  # a day later: still waiting
        last = run_durable_invocation(env, execution, "r-3", first.wake_at_ms)
    assert first.status == "PENDING" and [p.name for p in first.waiting] == ["trial"]
    assert first.wake_at_ms - START_MS == pytest.approx(30 * 86_400_000, abs=2000)
    assert [op["Name"] for op in first.operations if op["Id"] in first.checkpointed] == ["start-trial", "trial"]
    assert early.status == "PENDING" and early.checkpointed == [] and early.wake_at_ms == first.wake_at_ms
    assert last.status == "SUCCEEDED" and last.result == '"trial ended"' and last.checkpoints == 1
    assert first.invocation.init_ms is not None and last.invocation.init_ms is None  # one warm environment


def test_an_invocation_that_times_out_is_invoked_again_and_replays_the_cut_step():
    code = FunctionCode(name="orders", code_dir=HANDLERS, handler="workflows.slow_first_attempt", timeout_s=2)
    execution = start_execution("us-east-1", "123456789012", "orders", "live", "o-1", "e-1", {}, START_MS)
    with ExecutionEnvironment(code) as env:
        runs = run_execution(env, execution)
    assert [run.status for run in runs] == [None, "SUCCEEDED"] and runs[0].invocation.timed_out
    assert runs[1].invocation.init_ms is not None  # the timeout reset the environment: Init again
    assert execution.result == "2"  # the step ran twice: once cut by the timeout, once to its end
    [step] = [op for op in execution.operations if op["Type"] == "STEP"]
    assert step["Status"] == "SUCCEEDED" and step["StepDetails"]["Attempt"] == 1
    assert runs[0].checkpointed == [step["Id"]]  # its START, sent before the cut (the SDK flushes within 1 s)
