"""Recursive loop detection: what a function's code sends, the request chain it carries, and the invocation
Lambda stops.

From https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html: when a supported service sends
an event to Lambda, the event carries metadata (an X-Ray tracing header), and when the function writes an
event to another supported service with a supported AWS SDK, the SDK updates it: it counts how many times the
event has invoked the function. A chain of requests is the invocations one triggering event causes; when a
function has been invoked about 16 times in one chain, Lambda stops the next invocation ("more than 16 times":
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html), adds 1 to RecursiveInvocationsDropped,
and, for an asynchronous event, sends it to the function's on-failure destination or dead-letter queue. From an
SQS queue, Lambda returns RecursiveInvocationException to the event source mapping: the message's receive
count grows, and Lambda keeps receiving and stopping it until the queue's redrive policy moves it to the
dead-letter queue. With the function's RecursiveLoop set to Allow, nothing is stopped and the metric is not
emitted.

"Lambda currently detects recursive loops between your functions, Amazon SQS, Amazon S3, and Amazon SNS",
and loops of functions alone; "when another AWS service such as Amazon DynamoDB forms part of the loop,
Lambda can't currently detect and stop it". So SQS queues, SNS topics and asynchronous and synchronous invokes
carry a chain here; an EventBridge bus and a stream do not (what reaches a function through them starts a new
chain). S3 joined in October 2024
(https://aws.amazon.com/about-aws/whats-new/2024/10/aws-lambda-detects-stops-recursive-loops-lambda-s3/), but
lambdalab has no buckets: a write to a bucket that notifies a queue or topic is a send to that queue or topic.

The counts travel with each event, per path: the branches of a fan-out count apart, as each message carries
its own metadata. A chain starts at the first invocation of a triggering event that carries none (a traffic
request). Only a scenario whose code sends follows chains: the simulation then builds the chain-aware
invokers below, so a scenario without `sends` runs exactly as before and pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from lambdalab import limits
from lambdalab.engine.clock import EventLoop
from lambdalab.engine.destinations import Destinations, Message
from lambdalab.engine.environments import Environment, FunctionRuntime
from lambdalab.engine.invoke_async import RETRIES_EXHAUSTED, AsyncEvent, AsyncInvoker
from lambdalab.engine.records import decoded, record_payloads, unwrapped
from lambdalab.engine.sources import SqsMapping

ALLOW = "Allow"
STOPPED = (
    limits.RECURSION_ERROR,
    "Lambda stopped this invocation because it detected a recursive loop.",  # UNCONFIRMED: AWS's wording
    limits.RECURSION_STATUS,
)
CARRIED_BY = ("queue", "topic", "function")  # a bus does not carry a chain (see the module's docstring)


class Chain:
    """One request chain: what one triggering event causes. `stopped`: Lambda has stopped a loop in it."""

    __slots__ = ("stopped",)

    def __init__(self) -> None:
        self.stopped = False


class Lineage:
    """The metadata one event carries: its chain, and how many times each function has been invoked on the
    way to it (by function name: UNCONFIRMED whether AWS counts a function's versions apart)."""

    __slots__ = ("chain", "counts")

    def __init__(self, chain: Chain, counts: dict[str, int]):
        self.chain = chain
        self.counts = counts

    def count(self, function: str) -> int:
        return self.counts.get(function, 0)


def after(lineage: Lineage | None, function: str) -> Lineage:
    """What an invocation of `function` sends on: the event's lineage with this invocation counted, or a new
    chain when the event carried none."""
    if lineage is None:
        return Lineage(Chain(), {function: 1})
    counts = dict(lineage.counts)
    counts[function] = counts.get(function, 0) + 1
    return Lineage(lineage.chain, counts)


class ChainedMessage(Message):
    """An SQS message with the lineage it was sent with (None: it carries none)."""

    __slots__ = ("chain",)
    chain: Lineage | None


class ChainedAsyncEvent(AsyncEvent):
    """An event in Lambda's asynchronous queue with the lineage it was invoked with."""

    __slots__ = ("chain",)
    chain: Lineage | None


class Recursion:
    """The run's request chains: the lineage the code is sending with, and the stopped invocations."""

    def __init__(
        self,
        loop: EventLoop,
        destinations: Destinations,
        functions: dict[str, FunctionRuntime],
        invoke_sync: Callable[[str, Any], Environment | None],
        via_destinations: bool,
    ):
        self.loop = loop
        self.destinations = destinations
        self.functions = functions  # each function's $LATEST, by name, for synchronous invokes
        self.invoke_sync = invoke_sync  # the simulation's: the resource-based policy, then the sync invoker
        self.via_destinations = via_destinations
        # The lineage of what is being sent right now: what the SDK attaches to the call. Sending is
        # immediate in virtual time, so whatever a send creates (a message, an async event) takes it there.
        self.current: Lineage | None = None
        self.loops_stopped = 0  # chains in which Lambda stopped an invocation
        self.invocations_dropped = 0

    def message(self, message_id: str, body: Any, now: float, group: str | None, number: int) -> Message:
        """QueueState.new_message for a scenario whose code sends: each message keeps the lineage it came with."""
        message = ChainedMessage(message_id, body, now, group, number)
        message.chain = self.current
        return message

    def stops(self, fn: FunctionRuntime, lineage: Lineage | None, request: int, invocation: str) -> bool:
        """Whether Lambda stops this invocation of `fn`: it would be the function's 17th in the chain, and the
        function terminates loops. A stop is counted here."""
        if lineage is None:
            return False
        name = fn.config.name
        count = lineage.count(name)
        if count < limits.RECURSION_MAX_INVOCATIONS or fn.config.recursive_loop == ALLOW:
            return False
        fn.metrics.recursive_invocations_dropped += 1
        self.invocations_dropped += 1
        chain = lineage.chain
        if not chain.stopped:
            chain.stopped = True
            self.loops_stopped += 1
        if self.loop.listeners:
            self.loop.emit(
                "recursion_stop",
                {
                    "function": fn.name,
                    "request_id": request,
                    "invocation": invocation,
                    "invocations": count,
                    "error": limits.RECURSION_ERROR,
                },
            )
        return True

    def install(self, fn: FunctionRuntime, may_send: Callable[[FunctionRuntime, str], bool]) -> None:
        """Make `fn` send what its behaviour says as each successful invocation ends: each record it got, to
        each target, carrying the record's lineage with this invocation counted."""
        sends = fn.config.behaviour.sends
        name = fn.config.name
        deliver = self.destinations.deliver

        def send(env: Environment) -> None:
            records = env.chains
            env.chains = None
            if env.error is not None:
                return
            now = self.loop.now
            incoming = _records(env) if records is None else cast("list[tuple[Any, Lineage | None]]", records)
            for payload, lineage in incoming:
                carried = after(lineage, name)
                for send in sends:
                    target = send.target
                    if not may_send(fn, target):  # the execution role's say, as for any SDK call
                        continue
                    if send.sync:
                        self._invoke(target.partition(":")[2], payload, carried)
                    else:
                        self.current = carried if target.partition(":")[0] in CARRIED_BY else None
                        deliver(target, now, payload)
            self.current = None

        fn.before_each_end(send)

    def _invoke(self, name: str, payload: Any, lineage: Lineage) -> None:
        """A synchronous invoke in a chain: refused with RecursiveInvocationException (`rejected`) when it would
        be the function's 17th in the chain. The modelled code does not wait for the answer: the caller's
        duration is its behaviour's, and a refusal does not fail it."""
        fn = self.functions[name]
        if self.stops(fn, lineage, self.loop.next_id(), "sync"):
            fn.outcomes.requests += 1
            fn.outcomes.rejected += 1
            return
        env = self.invoke_sync(name, payload)
        if env is not None and fn.config.behaviour.sends:
            env.chains = [(payload, lineage)]


def _records(env: Environment) -> list[tuple[Any, Lineage | None]]:
    """The records of an invocation whose starter left none (a direct or asynchronous invoke, a stream's batch)."""
    event = env.async_event
    lineage = event.chain if isinstance(event, ChainedAsyncEvent) else None
    return [(payload, lineage) for payload in record_payloads(env.event)]


def deepest(messages: list[Message], function: str) -> Lineage | None:
    """The lineage in a batch that has invoked `function` most: a batch is stopped for its deepest record
    (UNCONFIRMED: AWS does not say how it treats a batch whose records' chains differ)."""
    best: Lineage | None = None
    for message in messages:
        lineage = message.chain if isinstance(message, ChainedMessage) else None
        if lineage is not None and (best is None or lineage.count(function) > best.count(function)):
            best = lineage
    return best


class ChainedAsyncInvoker(AsyncInvoker):
    """The async invoker of a scenario whose code sends: each event keeps its lineage, and an event that would
    be its function's 17th invocation in its chain is dropped to the DLQ and on-failure destination at once,
    without retries."""

    def __init__(self, recursion: Recursion, *args: Any):
        super().__init__(*args)
        self.recursion = recursion
        self.new_event = self._event

    def _event(self, number: int, fn: FunctionRuntime, payload: Any, now: float, tenant: str | None) -> AsyncEvent:
        event = ChainedAsyncEvent(number, fn, payload, now, tenant)
        event.chain = self.recursion.current
        return event

    def attempt(self, event: AsyncEvent) -> None:
        lineage = event.chain if isinstance(event, ChainedAsyncEvent) else None
        if self.recursion.stops(event.function, lineage, event.number, "async"):
            event.error, event.error_message, event.status_code = STOPPED
            # The record's condition for a stopped event is UNCONFIRMED; it was not retried, so RetriesExhausted.
            self.discard(event, RETRIES_EXHAUSTED)
            return
        super().attempt(event)

    def discard(self, event: AsyncEvent, condition: str) -> None:
        recursion, outer = self.recursion, self.recursion.current
        recursion.current = self._carried(event)
        super().discard(event, condition)
        recursion.current = outer

    def _record(self, event: AsyncEvent, target: str, condition: str) -> None:
        recursion, outer = self.recursion, self.recursion.current
        recursion.current = self._carried(event)
        super()._record(event, target, condition)
        recursion.current = outer

    def _carried(self, event: AsyncEvent) -> Lineage | None:
        """What a destination or dead letter carries: with `account.recursion_via_destinations` (UNCONFIRMED),
        the lineage after this invocation if the function ran; otherwise none, so it starts a new chain. (A
        stopped event's copies start a new chain either way: carrying its full count would stop an on-failure
        destination that invokes the same function again at once, for ever.)"""
        if not self.recursion.via_destinations or event.status_code != 200:
            return None
        return after(event.chain if isinstance(event, ChainedAsyncEvent) else None, event.function.config.name)


class ChainedSqsMapping(SqsMapping):
    """An SQS mapping in a scenario whose code sends: a batch that would be its function's 17th invocation in
    a chain is refused (RecursiveInvocationException to the mapping); its messages stay hidden until their
    visibility timeout ends, then come back or, past maxReceiveCount, go to the queue's dead-letter queue."""

    def __init__(self, recursion: Recursion, *args: Any):
        super().__init__(*args)
        self.recursion = recursion
        self.sends = bool(self.fn.config.behaviour.sends)

    def _try(self, number: int, batch: list[Message], received_at: float) -> bool:
        fn = self.fn
        if not self.recursion.stops(fn, deepest(batch, fn.config.name), number, "sqs"):
            return super()._try(number, batch, received_at)
        self.held.pop(number, None)
        self.in_flight -= 1
        fn.outcomes.sync_in_flight -= 1
        fn.outcomes.rejected += 1
        queue = self.queue
        queue.ready.release(batch, batch)  # a FIFO group stays locked until its messages come back
        self.loop.at(received_at + queue.config.visibility_timeout, self._returned, batch)
        return True

    def _invoke(self, env: Environment, number: int, batch: list[Message], received_at: float) -> None:
        if self.sends:
            env.chains = [
                (unwrapped(decoded(m.body)), m.chain if isinstance(m, ChainedMessage) else None) for m in batch
            ]
        super()._invoke(env, number, batch, received_at)
