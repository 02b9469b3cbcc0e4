"""The durable-execution service, in virtual time: what Lambda keeps for one durable execution.

A handler written with AWS's `aws-durable-execution-sdk-python` (PYSDK 3.0.0) talks to Lambda's
`CheckpointDurableExecution` and `GetDurableExecutionState` APIs; this class answers those calls the way
the service does, on the operations in AWS's own wire shape (the API's JSON: `Id`, `Type`, `Status`,
`StepDetails`, ..., timestamps in epoch milliseconds), and keeps the timers (waits, step retries,
callback timeouts) on the caller's clock, so that a wait of three days ends as soon as the caller says
three days have passed. Standard library only, and free of the SDK: it runs in lambdalab's own process,
never in the worker that runs the learner's code.

How each update becomes an operation follows AWS's local test service (aws-durable-execution-sdk-python-testing
1.4.0, `checkpoint/processors/*.py`, `execution.py`), which tests/test_durable_sdk.py checks it against:
- STEP: START -> STARTED; RETRY -> PENDING with `NextAttemptTimestamp` = now + `NextAttemptDelaySeconds`,
  READY once that passes; SUCCEED / FAIL -> SUCCEEDED / FAILED. RETRY, SUCCEED and FAIL count an attempt.
- WAIT: START -> STARTED with `ScheduledEndTimestamp` = now + `WaitSeconds`, SUCCEEDED once it passes;
  CANCEL -> CANCELLED.
- CALLBACK: START -> STARTED with a new `CallbackId`; completed from outside (success, failure), or
  TIMED_OUT past `TimeoutSeconds`, or past `HeartbeatTimeoutSeconds` without a heartbeat.
- CONTEXT: START / SUCCEED / FAIL -> STARTED / SUCCEEDED / FAILED, `ContextDetails` from the update.
- EXECUTION: SUCCEED / FAIL close the execution (the SDK sends them for results over 6 MB).
Each checkpoint consumes the current checkpoint token and returns a new one, with the operations that
changed since the handler last saw them (API: botocore 1.44.18 `lambda/2015-03-31/service-2.json`;
https://docs.aws.amazon.com/lambda/latest/dg/durable-basic-concepts.html; shared/reference/lambda-2026.md
§2.3). Chained invokes (`context.invoke`) are not served: a checkpoint that starts one is refused with
InvalidParameterValueException.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Operation = dict[str, Any]  # one operation, as GetDurableExecutionState returns it (JSON, epoch-ms timestamps)

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "STOPPED")
# What the local test service writes on a timed-out callback (PYTEST `executor.py`, PYSDK CallbackTimeoutType);
# the message Lambda itself writes is UNCONFIRMED (not seen in its docs or API model).
CALLBACK_TIMEOUT = {"ErrorType": "Callback.Timeout", "ErrorMessage": "Callback timed out"}
HEARTBEAT_TIMEOUT = {"ErrorType": "Callback.Heartbeat", "ErrorMessage": "Callback timed out on heartbeat"}


class ServiceError(Exception):
    """A refused call, as the API refuses it: an error code and an HTTP status (4xx: the SDK fails the
    execution; 5xx: it fails the invocation, and Lambda invokes again)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.status = status

    def to_wire(self) -> dict[str, Any]:
        """The shape botocore gives a ClientError's `response`, which the SDK reads to classify it."""
        return {
            "Error": {"Code": self.code, "Message": str(self)},
            "ResponseMetadata": {"HTTPStatusCode": self.status},
        }


@dataclass(frozen=True)
class Pending:
    """Something a suspended execution waits for: a wait's end, a step's next attempt, or a callback."""

    kind: str  # "wait", "retry" or "callback"
    operation_id: str
    name: str | None
    until_ms: int | None  # when it ends by itself (a callback: its timeout, if any); None: only from outside
    callback_id: str | None = None


class DurableExecution:
    """One durable execution's operations, checkpoint token and timers.

    `clock` gives the service's "now" in epoch milliseconds of virtual time; the caller moves it
    (run_durable_invocation does, for the length of an invocation).
    """

    def __init__(self, arn: str, execution_id: str, name: str, input_payload: str | None, start_ms: int):
        self.arn = arn
        self.clock: Callable[[], int] = lambda: start_ms
        self.operations: list[Operation] = [
            {
                "Id": execution_id,
                "Type": "EXECUTION",
                "Status": "STARTED",
                "Name": name,
                "StartTimestamp": start_ms,
                "ExecutionDetails": {"InputPayload": input_payload},
            }
        ]
        self.status = "RUNNING"  # RUNNING, SUCCEEDED, FAILED (ExecutionStatus, API)
        self.result: str | None = None
        self.error: dict[str, Any] | None = None
        self.invocations = 0
        self.checkpoints = 0
        self.written: list[str] = []  # ids of the operations the running (or last) invocation checkpointed
        self._token: int | None = (
            None  # the checkpoint token in force is f"{invocations}.{_token}"; None: no invocation
        )
        self._seq = 0  # bumped by every change; each operation remembers the last one that touched it
        self._touched: dict[str, int] = {execution_id: 0}
        self._seen = 0  # the handler has seen every change up to this one
        self._options: dict[str, dict[str, Any]] = {}  # a callback's CallbackOptions, by operation id
        self._heartbeats: dict[str, int] = {}  # a callback's last heartbeat (or start), by operation id
        self._by_callback: dict[str, str] = {}  # operation id, by callback id
        self._terminal_update: dict[str, Any] | None = None  # an EXECUTION SUCCEED/FAIL sent by checkpoint

    # --- what the caller drives -----------------------------------------------------------------

    def stop_clock(self, at_ms: int) -> None:
        """Between invocations the service's time stands where the caller puts it."""
        self.clock = lambda: at_ms

    def invocation_input(self) -> dict[str, Any]:
        """The event Lambda gives the handler for the next invocation (PYSDK `DurableExecutionInvocationInput`):
        the execution's ARN, a fresh checkpoint token, every operation so far, and which ones changed since
        the handler last saw them."""
        self.invocations += 1
        self._token = 0
        self.written = []
        self.complete_due()
        updated = [op["Id"] for op in self.operations if self._touched[op["Id"]] > self._seen]
        self._seen = self._seq
        return {
            "DurableExecutionArn": self.arn,
            "CheckpointToken": self._current_token(),
            "InitialExecutionState": {"Operations": copy.deepcopy(self.operations), "NextMarker": ""},
            "UpdatedOperationIds": updated,
        }

    def finish(self, output: Any) -> str | None:
        """The handler's answer to one invocation (PYSDK `DurableExecutionInvocationOutput`): SUCCEEDED and
        FAILED close the execution, PENDING leaves it to its timers and callbacks. None when the answer
        is not such an output (Lambda then treats the invocation as failed and invokes again)."""
        self._token = None  # this invocation's token is spent
        status = output.get("Status") if isinstance(output, dict) else None
        if status == "SUCCEEDED":
            result = output.get("Result")
            if not result and self._terminal_update is not None:
                result = self._terminal_update.get("Payload")
            self._close("SUCCEEDED", result=result)
        elif status == "FAILED":
            error = output.get("Error")
            if error is None and self._terminal_update is not None:
                error = self._terminal_update.get("Error")
            self._close("FAILED", error=error if isinstance(error, dict) else None)
        elif status != "PENDING":
            return None
        return str(status)

    def pending(self) -> list[Pending]:
        """What the execution waits for, in operation order."""
        found = []
        for op in self.operations:
            kind, status = op["Type"], op["Status"]
            if kind == "WAIT" and status == "STARTED":
                found.append(Pending("wait", op["Id"], op.get("Name"), op["WaitDetails"]["ScheduledEndTimestamp"]))
            elif kind == "STEP" and status == "PENDING":
                found.append(Pending("retry", op["Id"], op.get("Name"), op["StepDetails"]["NextAttemptTimestamp"]))
            elif kind == "CALLBACK" and status == "STARTED":
                callback_id = op["CallbackDetails"]["CallbackId"]
                found.append(Pending("callback", op["Id"], op.get("Name"), self._callback_deadline(op), callback_id))
        return found

    def next_wake_ms(self) -> int | None:
        """When the next timer fires (a wait ends, a retry is due, a callback times out); None if none is set."""
        times = [p.until_ms for p in self.pending() if p.until_ms is not None]
        return min(times) if times else None

    def complete_due(self) -> bool:
        """Ends what is due by now: waits past their end, step retries past their delay, callbacks past a
        timeout. True when something changed (the execution then has something new to replay)."""
        now = self.clock()
        changed = False
        for op in self.operations:
            if op["Type"] == "WAIT" and op["Status"] == "STARTED" and op["WaitDetails"]["ScheduledEndTimestamp"] <= now:
                op.update(Status="SUCCEEDED", EndTimestamp=now)
            elif (
                op["Type"] == "STEP" and op["Status"] == "PENDING" and op["StepDetails"]["NextAttemptTimestamp"] <= now
            ):
                op["Status"] = "READY"
                del op["StepDetails"]["NextAttemptTimestamp"]
            elif op["Type"] == "CALLBACK" and op["Status"] == "STARTED" and (expiry := self._callback_expiry(op)):
                if expiry[0] > now:
                    continue
                op.update(Status="TIMED_OUT", EndTimestamp=now)
                op["CallbackDetails"]["Error"] = dict(expiry[1])
            else:
                continue
            self._touch(op["Id"])
            changed = True
        return changed

    def complete_callback(self, callback_id: str, outcome: str, payload: str | None = None) -> None:
        """SendDurableExecutionCallbackSuccess / Failure / Heartbeat: `payload` is the result (success) or the
        error object as JSON (failure: `{"ErrorType": ..., "ErrorMessage": ...}`). A callback that is done, timed
        out or unknown is refused (CallbackTimeoutException for one that was there: API)."""
        op = self._callback(callback_id)
        now = self.clock()
        if outcome == "heartbeat":
            self._heartbeats[op["Id"]] = now
            return
        if outcome == "success":
            op["CallbackDetails"]["Result"] = payload
            op.update(Status="SUCCEEDED", EndTimestamp=now)
        elif outcome == "failure":
            op["CallbackDetails"]["Error"] = json.loads(payload) if payload else {}
            op.update(Status="FAILED", EndTimestamp=now)
        else:
            raise ValueError(f"unknown callback outcome {outcome!r}: success, failure or heartbeat")
        self._touch(op["Id"])

    # --- the API the SDK calls --------------------------------------------------------------------

    def call(self, action: str, request: dict[str, Any]) -> dict[str, Any]:
        """One API call from the worker: CheckpointDurableExecution or GetDurableExecutionState, with
        botocore's parameter names. Raises ServiceError when the service would refuse it."""
        if not isinstance(request, dict) or request.get("DurableExecutionArn") != self.arn:
            raise ServiceError("ResourceNotFoundException", "No durable execution with that ARN", 404)
        if self._token is None or request.get("CheckpointToken") != self._current_token():
            raise ServiceError("InvalidParameterValueException", "Invalid checkpoint token")
        if action == "GetDurableExecutionState":
            return {"Operations": copy.deepcopy(self.operations)}
        if action == "CheckpointDurableExecution":
            return self._checkpoint(request.get("Updates") or [])
        raise ServiceError("InvalidRequestContentException", f"Unknown action {action}")

    def _checkpoint(self, updates: list[Any]) -> dict[str, Any]:
        self.checkpoints += 1
        terminal = False
        for update in updates:
            terminal = self._apply(update) or terminal
        self._token = (self._token or 0) + 1
        self.complete_due()
        fresh = [copy.deepcopy(op) for op in self.operations if self._touched[op["Id"]] > self._seen]
        self._seen = self._seq
        answer: dict[str, Any] = {"NewExecutionState": {"Operations": fresh}}
        if not terminal:  # no token after the execution's own end: the invocation may checkpoint no more
            answer["CheckpointToken"] = self._current_token()
        return answer

    def _apply(self, update: Any) -> bool:
        """One OperationUpdate; True when it ends the execution."""
        if not isinstance(update, dict) or not isinstance(update.get("Id"), str):
            raise ServiceError("InvalidParameterValueException", "An update needs an Id")
        kind, action, now = update.get("Type"), update.get("Action"), self.clock()
        current = next((op for op in self.operations if op["Id"] == update["Id"]), None)
        if kind == "EXECUTION":
            if action not in ("SUCCEED", "FAIL"):
                raise ServiceError("InvalidParameterValueException", "Invalid action for EXECUTION operation.")
            self._terminal_update = update
            return True
        allowed = {
            "STEP": ("START", "RETRY", "SUCCEED", "FAIL"),
            "WAIT": ("START", "CANCEL"),
            "CALLBACK": ("START",),
            "CONTEXT": ("START", "SUCCEED", "FAIL"),
        }
        if kind not in allowed:
            raise ServiceError("InvalidParameterValueException", f"lambdalab does not serve {kind} operations")
        if action not in allowed[kind]:
            raise ServiceError("InvalidParameterValueException", f"Invalid action for {kind} operation.")
        if current is not None and current["Status"] in TERMINAL:
            raise ServiceError(
                "InvalidParameterValueException", f"Operation {update['Id']} is already {current['Status']}"
            )
        op = self._updated(update, current, now)
        if current is None:
            self.operations.append(op)
        else:
            self.operations[self.operations.index(current)] = op
        self._touch(op["Id"])
        if op["Id"] not in self.written:
            self.written.append(op["Id"])
        return False

    def _updated(self, update: dict[str, Any], current: Operation | None, now: int) -> Operation:
        kind, action = update["Type"], update["Action"]
        status = {"START": "STARTED", "SUCCEED": "SUCCEEDED", "FAIL": "FAILED", "RETRY": "PENDING"}.get(
            action, "CANCELLED"
        )
        op: Operation = {"Id": update["Id"], "Type": kind, "Status": status}
        for key in ("ParentId", "Name", "SubType"):
            if update.get(key):
                op[key] = update[key]
        op["StartTimestamp"] = current["StartTimestamp"] if current else now
        if status in TERMINAL:
            op["EndTimestamp"] = now
        result = {"Result": update.get("Payload"), "Error": update.get("Error")}
        if kind == "STEP":
            before = (current or {}).get("StepDetails", {})
            details = {"Attempt": before.get("Attempt", 0) + (action != "START"), **result}
            if action == "RETRY":
                delay = (update.get("StepOptions") or {}).get("NextAttemptDelaySeconds", 0)
                details["NextAttemptTimestamp"] = now + int(delay) * 1000
            elif "NextAttemptTimestamp" in before:
                details["NextAttemptTimestamp"] = before["NextAttemptTimestamp"]
            op["StepDetails"] = details
        elif kind == "WAIT":
            seconds = int((update.get("WaitOptions") or {}).get("WaitSeconds", 0))
            op["WaitDetails"] = (current or {}).get("WaitDetails") or {"ScheduledEndTimestamp": now + seconds * 1000}
        elif kind == "CALLBACK":
            callback_id = f"{self.arn}/callback/{update['Id']}"
            self._by_callback[callback_id] = update["Id"]
            self._options[update["Id"]] = dict(update.get("CallbackOptions") or {})
            self._heartbeats[update["Id"]] = now
            op["CallbackDetails"] = {"CallbackId": callback_id, **result}
        elif kind == "CONTEXT":
            replay = bool((update.get("ContextOptions") or {}).get("ReplayChildren"))
            op["ContextDetails"] = {**result, **({"ReplayChildren": True} if replay else {})}
        return _without_nones(op)

    # --- plumbing -----------------------------------------------------------------------------------

    def _current_token(self) -> str:
        return f"{self.invocations}.{self._token}"

    def _touch(self, operation_id: str) -> None:
        self._seq += 1
        self._touched[operation_id] = self._seq

    def _close(self, status: str, result: str | None = None, error: dict[str, Any] | None = None) -> None:
        self.status, self.result, self.error = status, result, error
        self.operations[0].update(Status=status, EndTimestamp=self.clock())
        self._touch(self.operations[0]["Id"])

    def _callback(self, callback_id: str) -> Operation:
        operation_id = self._by_callback.get(callback_id)
        op = next((o for o in self.operations if o["Id"] == operation_id), None)
        if op is None:
            raise ServiceError("ResourceNotFoundException", f"No callback {callback_id}", 404)
        if op["Status"] != "STARTED" or self.status != "RUNNING":
            raise ServiceError("CallbackTimeoutException", f"Callback {callback_id} is {op['Status']}")
        return op

    def _callback_deadline(self, op: Operation) -> int | None:
        expiry = self._callback_expiry(op)
        return expiry[0] if expiry else None

    def _callback_expiry(self, op: Operation) -> tuple[int, dict[str, str]] | None:
        """When a started callback times out, and the error it then gets: its timeout, or its heartbeat
        timeout counted from the last heartbeat (0 or absent: none)."""
        options = self._options.get(op["Id"], {})
        expiries = []
        if options.get("TimeoutSeconds"):
            expiries.append((op["StartTimestamp"] + int(options["TimeoutSeconds"]) * 1000, CALLBACK_TIMEOUT))
        if options.get("HeartbeatTimeoutSeconds"):
            expiries.append(
                (self._heartbeats[op["Id"]] + int(options["HeartbeatTimeoutSeconds"]) * 1000, HEARTBEAT_TIMEOUT)
            )
        return min(expiries, key=lambda expiry: expiry[0]) if expiries else None


def _without_nones(op: Operation) -> Operation:
    """The API leaves out a field that has no value (a step's Result before it succeeds, say)."""
    return {
        key: (_without_nones(value) if isinstance(value, dict) and key != "Error" else value)
        for key, value in op.items()
        if value is not None
    }
