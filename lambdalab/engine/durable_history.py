"""A durable execution's records: its operation history, its state, and each function's counters.

Shared by the engine's lifecycle of executions (durable.py) and the modelled workflow's replay
(durable_workflow.py); the statuses are the API's (https://docs.aws.amazon.com/lambda/latest/dg/durable-basic-concepts.html).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdalab.engine.durable_code import CodeExecution
    from lambdalab.engine.environments import Environment, FunctionRuntime
    from lambdalab.engine.model import DurableConfig

RUNNING, SUCCEEDED, FAILED, TIMED_OUT = "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT"
# Operation statuses (the API's OperationStatus); PENDING: a step waiting for its retry delay.
STARTED, PENDING = "STARTED", "PENDING"
CLOSED = frozenset((SUCCEEDED, FAILED, TIMED_OUT))
TYPES = ("EXECUTION", "STEP", "WAIT", "CALLBACK", "CONTEXT")
DONE, FAIL, SUSPEND = 0, 1, 2  # how a run of operations ends within one invocation
NEVER = math.inf
HISTORY_KEPT = 100  # executions the report lists
# Operations billed (PRICE): 1 per operation, and a step 1 per attempt (1 + retries); so a wait_for_callback is
# 3 (its child context, the callback, the submitter's step), a parallel or map 1 plus one per branch or item.


class Operation:
    """One entry of an execution's operation history, as GetDurableExecutionState lists it."""

    __slots__ = ("id", "type", "subtype", "name", "parent", "status", "attempts", "start_s", "end_s", "wake_s", "error")

    def __init__(self, op_id: str, op_type: str, subtype: str, name: str, parent: str | None, start: float):
        self.id = op_id
        self.type = op_type  # EXECUTION, STEP, WAIT, CALLBACK or CONTEXT
        self.subtype = subtype  # Step, Wait, WaitForCallback, Parallel, ParallelBranch, Map, MapIteration
        self.name = name
        self.parent = parent  # the enclosing context's id; None at the top
        self.status = STARTED
        self.attempts = 0
        self.start_s = start
        self.end_s: float | None = None
        self.wake_s = NEVER  # a wait's timer, a step's next attempt, a callback's heartbeat deadline
        self.error = ""


Effect = tuple[float, Callable[[], None]]  # a checkpoint the invocation writes at that time, if it gets there


class Execution:
    """One durable execution: its state, its operation history, and what its current invocation will write."""

    __slots__ = (
        "name",
        "event",
        "fn",
        "state",
        "status",
        "start_s",
        "end_s",
        "error",
        "operations",
        "callbacks",
        "billed",
        "data_bytes",
        "invocations",
        "failures",
        "running",
        "suspended",
        "woken",
        "token",
        "backoff",
        "effects",
        "ended",
        "wake",
        "ended_error",
        "handler_error",
        "kept",
        "answer",
        "request",
        "code",
    )

    def __init__(self, name: str, event: Any, fn: FunctionRuntime, state: DurableState, now: float):
        self.name = name
        self.event = event
        self.fn = fn  # the version it runs on
        self.state = state
        self.status = RUNNING
        self.start_s = now
        self.end_s: float | None = None
        self.error = ""
        self.operations: dict[str, Operation] = {}
        self.callbacks: dict[str, list[Operation]] = {}  # by name, in the order they were created
        self.billed = 0
        self.data_bytes = 0
        self.invocations = 0
        self.failures = 0  # invocations in a row that timed out or crashed
        self.running = False  # an invocation is in flight
        self.suspended = False
        self.woken = False  # a callback completed while an invocation was in flight
        self.token = 0  # the wake-up timer that counts (earlier ones are stale)
        self.backoff = 0.0
        # What the invocation in flight computed: its checkpoints, and how its replay ended.
        self.effects: list[Effect] = []
        self.ended = DONE
        self.wake = NEVER
        self.ended_error = ""
        self.handler_error = ""  # `behaviour.errors`: the code outside operations raised
        self.kept = False  # among the first executions, which the report lists
        # A caller that started it without a name and waits for its end (an event source mapping): how to
        # answer it, and the number of its request; None once answered, or for the rest.
        self.answer: Callable[[Environment], None] | None = None
        self.request = 0
        self.code: CodeExecution | None = None  # run by real code: the service's record, from its first invocation

    def bill(self, operations: int) -> None:
        self.billed += operations
        self.state.billed += operations

    def write(self, size: int) -> None:
        """Checkpointed data: counted against the execution's limit and billed."""
        self.data_bytes += size
        self.state.data_written += size

    def history(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "start_s": round(self.start_s, 6),
            "end_s": None if self.end_s is None else round(self.end_s, 6),
            "invocations": self.invocations,
            "operations": self.billed,
            "error": self.error or None,
        }


class DurableState:
    """One durable function's executions and counters (all its versions together)."""

    def __init__(self, name: str, config: DurableConfig):
        self.name = name
        self.config = config
        self.names: dict[str, Execution] = {}
        self.history: list[Execution] = []
        self.started = self.running = self.suspended = 0
        self.succeeded = self.failed = self.timed_out = 0
        self.deduplicated = self.rejected = self.throttled = self.sync_timed_out = 0
        self.invocations = self.replays = 0
        self.billed = self.step_attempts = self.retries = 0
        self.by_type = dict.fromkeys(TYPES, 0)
        self.callbacks = {"completed": 0, "failed": 0, "timed_out": 0, "rejected": 0, "heartbeats": 0}
        self.data_written = 0  # bytes
        self.retained_byte_s = 0.0  # bytes x seconds kept, of closed executions (open ones are added at report time)
