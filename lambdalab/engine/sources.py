"""SQS event source mappings: Lambda's pollers read batches of visible messages and invoke the function with them.

As https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html and
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html describe it: a batch is hidden for
the queue's visibility timeout while the function runs; on success Lambda deletes its messages; on a
function error the whole batch comes back after the timeout, unless the mapping reports batch item
failures and the function names only the failed messages; a message received maxReceiveCount times goes
to the queue's dead-letter queue. Pollers start with 5 batches at once and add up to 300 a minute while
messages remain, to at most 1,000 (or the mapping's maximum concurrency). Provisioned mode's pollers are
pollers.py's. Several mappings on one queue compete for its messages (QueueReaders).

Pollers do not know the function's concurrency limits ("event source mappings don't account for reserved
concurrency and can process more messages off your queue than can be sent to your function":
https://repost.aws/knowledge-center/lambda-sqs-scaling). A throttled batch stays with its poller, hidden, and
Lambda tries it again while the visibility timeout lasts (which is why AWS asks for a visibility timeout of six
times the function's timeout: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html); past
it, the messages are visible again, one receive spent. AWS does not say how often a poller retries: here a
held batch is tried again, oldest first, whenever the mapping might get in (a batch of its own ends, messages
arrive or come back), each throttled try counted in Throttles.

A FIFO queue keeps order within each message group: a group with messages in a batch (being processed, or
failed and waiting to become visible again) gets no other batch, so concurrency grows only with the number
of active groups; modelled code with batch item failures stops at its first failure and reports it and
every message after it, as AWS asks FIFO handlers to.

A behaviour model's `when` rules look at each message's body: without batch item failures one bad
message fails the batch (the invocation raises); with them, the modelled code names the bad messages
and succeeds. Real code decides by itself, in its response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambdalab import limits
from lambdalab.engine.admission import admit, count_throttle
from lambdalab.engine.behaviour import matches
from lambdalab.engine.destinations import EPOCH_MS, Message, MessageGroups, QueueState, VisibleMessages
from lambdalab.engine.filters import passes, sqs_view
from lambdalab.engine.ids import request_id
from lambdalab.engine.model import EventSourceMapping
from lambdalab.engine.records import PayloadRoom, decoded, json_bytes

if TYPE_CHECKING:
    from lambdalab.engine.clock import EventLoop
    from lambdalab.engine.concurrency import AccountConcurrency
    from lambdalab.engine.environments import Environment, FunctionRuntime

_SCALE_STEP_S = 60.0 / limits.SQS_POLLERS_PER_MINUTE  # one more concurrent batch this often while a backlog lasts


class SqsMapping:
    def __init__(
        self,
        config: EventSourceMapping,
        queue: QueueState,
        dlq: QueueState | None,
        fn: FunctionRuntime,
        loop: EventLoop,
        account: AccountConcurrency,
        region: str,
        account_id: str,
    ):
        self.config = config
        self.queue = queue
        self.dlq = dlq
        self.fn = fn
        self.loop = loop
        self.account = account
        self.arn = f"arn:aws:sqs:{region}:{account_id}:{queue.config.name}"
        self.region, self.account_id = region, account_id
        self.cap = min(limits.SQS_POLLERS_MAX, config.maximum_concurrency or limits.SQS_POLLERS_MAX)
        self.in_flight = 0  # batches being processed
        self.backlog_since: float | None = None  # pollers grow from here while messages remain
        self.poll_at: float | None = None  # the poll already scheduled, if any
        self.batches: dict[
            int, tuple[list[Message], float, list[Message] | None]
        ] = {}  # request -> batch, receive time, modelled failures
        self.held: dict[
            int, tuple[list[Message], float]
        ] = {}  # throttled batches, oldest first: request -> batch, receive time
        # Modelled code names bad messages itself when the mapping reports item failures (and it has `when` rules).
        self.item_matches = tuple(r.when for r in fn.config.behaviour.errors if r.when is not None)
        self.fifo = queue.config.fifo
        self.room = self._payload_room()
        self.polled = 0  # messages received (PolledEventCount), a message received again counted again
        self.filtered = 0  # messages that matched none of the mapping's filters, deleted (FilteredOutEventCount)
        self.invoked = 0  # messages in batches that reached the function (InvokedEventCount)
        queue.ready.cost = self.room.cost
        if queue.consumer is None:
            queue.consumer = self.wake
        elif isinstance(queue.consumer, QueueReaders):
            queue.consumer.wakes.append(self.wake)
        else:
            queue.consumer = QueueReaders([queue.consumer, self.wake])

    def _payload_room(self) -> PayloadRoom:
        """Each message costs its body and the envelope around it, measured on this mapping's own event."""
        probe = Message(request_id(0, 0), "", 0.0, "" if self.fifo else None)
        probe.first_received_at = 0.0
        return PayloadRoom(json_bytes, len(json.dumps(self.event([probe])["Records"][0])) + 2)  # 2: ", "

    # --- polling --------------------------------------------------------------------------------

    def limit(self, now: float) -> int:
        start = min(limits.SQS_POLLERS_START, self.cap)
        if self.backlog_since is None:
            return start
        return min(self.cap, start + int((now - self.backlog_since) / _SCALE_STEP_S))

    def wake(self) -> None:
        """Messages became visible: poll now, unless nothing could come of it yet (every poller busy: a
        finished batch wakes it again; or a batching window still filling: its poll is already due)."""
        now = self.loop.now
        if self.in_flight >= self.limit(now):
            if self.poll_at is None:
                self._poll_when_more(now)
            return
        if self.poll_at is not None and self._window_open(self.queue.ready):
            return
        self._poll_later(now)

    def _window_open(self, ready: VisibleMessages | MessageGroups) -> bool:
        """Whether a batching window may wait for more: neither the batch size nor 6 MB of payload is there yet."""
        return (
            self.config.batching_window > 0
            and len(ready) < self.config.batch_size
            and not self.room.overflows(ready.payload)
        )

    def _poll_later(self, when: float) -> None:
        if self.poll_at is None or when < self.poll_at:
            self.poll_at = when
            self.loop.at(when, self._poll, when)

    def _poll(self, scheduled: float) -> None:
        if scheduled != self.poll_at:
            return  # a later, superseded poll
        self.poll_at = None
        now = self.loop.now
        while self.held:  # the oldest held batch first; one that gets in leaves `held`
            number, (batch, received_at) = next(iter(self.held.items()))
            if not self._try(number, batch, received_at):
                break  # still throttled: the younger held batches would be too
        ready = self.queue.ready
        if not ready:
            self.backlog_since = None  # scaled back down once the queue is empty
            return
        if self.backlog_since is None:
            self.backlog_since = now
        size, window = self.config.batch_size, self.config.batching_window
        while ready and self.in_flight < self.limit(now):
            first = ready.first_sent_at()
            if first is None:
                return  # a FIFO queue whose every group with messages has a batch out: a finished batch wakes it
            if self._window_open(ready) and now < first + window:
                self._poll_later(first + window)  # wait for a fuller batch, at most the window
                return
            self._receive(ready.take(size, self.room), now)
        if ready and self.in_flight >= self.limit(now):
            self._poll_when_more(now)

    def _poll_when_more(self, now: float) -> None:
        """Every poller is busy and messages wait: poll again when the next poller comes, if one will."""
        if self.limit(now) < self.cap:
            self._poll_later(now + _SCALE_STEP_S)

    # --- one batch ------------------------------------------------------------------------------

    def _receive(self, batch: list[Message], now: float) -> None:
        """A poller takes a batch: hidden from now for the visibility timeout, and tried on the function."""
        queue = self.queue
        for message in batch:
            message.receive_count += 1
            if message.first_received_at is None:
                message.first_received_at = now
        queue.received += len(batch)
        queue.not_visible += len(batch)
        self.polled += len(batch)
        if self.config.filters:
            batch = self._pass_filters(batch)
            if not batch:
                return
        number = self.loop.next_id()
        self.fn.outcomes.requests += 1
        self.fn.outcomes.sync_in_flight += 1  # until the batch ends, or its poller gives up on it
        self.in_flight += 1
        self._try(number, batch, now)

    def _pass_filters(self, batch: list[Message]) -> list[Message]:
        """The messages that match one of the mapping's filters; the others are deleted, never invoked."""
        filters = self.config.filters
        records = self.event(batch)["Records"]
        kept = [m for m, record in zip(batch, records) if passes(filters, sqs_view(record))]
        if len(kept) < len(batch):
            passed = set(map(id, kept))
            dropped = [m for m in batch if id(m) not in passed]
            queue = self.queue
            queue.deleted += len(dropped)
            queue.not_visible -= len(dropped)
            self.filtered += len(dropped)
            held = {m.group for m in kept}  # a FIFO group stays locked while kept messages of it are out
            queue.ready.release([m for m in dropped if m.group not in held], [])
        return kept

    def _try(self, number: int, batch: list[Message], received_at: float) -> bool:
        """Invoke the function with a batch its poller holds; a throttled batch stays held (False)."""
        fn, loop = self.fn, self.loop
        got = admit(fn, self.account, loop.now)
        if got.__class__ is str:
            count_throttle(fn, loop, number, "sqs", got)
            if number not in self.held:
                self.held[number] = (batch, received_at)
                loop.at(received_at + self.queue.config.visibility_timeout, self._give_up, number)
            return False
        self.held.pop(number, None)
        self._invoke(got, number, batch, received_at)  # type: ignore[arg-type]  # str returned above
        return True

    def _give_up(self, number: int) -> None:
        """The visibility timeout of a batch still throttled is over: its messages are visible again."""
        if number in self.held:
            batch, _ = self.held.pop(number)
            self.in_flight -= 1
            self.fn.outcomes.sync_in_flight -= 1
            self.fn.outcomes.throttled += 1  # the request's outcome: it never ran
            self._returned(batch)

    def _invoke(self, env: Environment, number: int, batch: list[Message], received_at: float) -> None:
        queue, fn = self.queue, self.fn
        event: dict[str, Any] | None = self.event(batch)
        modelled = None
        if self.config.report_batch_item_failures and fn.real is None and self.item_matches:
            modelled = [m for m in batch if any(matches(when, decoded(m.body)) for when in self.item_matches)]
            if modelled and self.fifo:  # FIFO code stops at the first failure and reports it and all after it
                modelled = batch[batch.index(modelled[0]) :]
            event = None  # the modelled code handles bad messages itself: no `when` rule fails the invocation
        self.batches[number] = (batch, received_at, modelled)
        self.invoked += len(batch)
        if self.loop.listeners:
            self.loop.emit(
                "batch",
                {
                    "function": fn.name,
                    "request_id": number,
                    "queue": queue.config.name,
                    "messages": [m.number for m in batch],
                    "groups": [m.group for m in batch],
                },
            )
        fn.begin(env, number, event, self._done)

    def _done(self, env: Environment) -> None:
        batch, received_at, modelled = self.batches.pop(env.request)
        fn, queue = self.fn, self.queue
        fn.outcomes.sync_in_flight -= 1
        self.in_flight -= 1
        if env.error is not None:
            fn.outcomes.failed += 1
            failed = batch
        else:
            fn.outcomes.succeeded += 1
            if not self.config.report_batch_item_failures:
                failed = []
            elif modelled is not None:
                failed = modelled
            else:
                failed = reported_failures(env.response, batch)
        if self.loop.listeners:
            self.loop.emit(
                "batch_done",
                {
                    "function": fn.name,
                    "request_id": env.request,
                    "queue": queue.config.name,
                    "messages": [m.number for m in batch],
                    "failed": [m.number for m in failed],
                    "groups": [m.group for m in failed],
                },
            )
        kept = set(map(id, failed))
        deleted = len(batch) - len(failed)
        queue.deleted += deleted
        queue.not_visible -= deleted
        queue.ready.release(batch, failed)
        if failed:
            # Visible again when the visibility timeout ends: at once, if a batch held back by throttles ran past it.
            back = max(self.loop.now, received_at + queue.config.visibility_timeout)
            self.loop.at(back, self._returned, [m for m in batch if id(m) in kept])
        self.wake()

    def _returned(self, messages: list[Message]) -> None:
        """The visibility timeout is over: visible again, or to the dead-letter queue after maxReceiveCount receives."""
        queue, now = self.queue, self.loop.now
        queue.not_visible -= len(messages)
        most = queue.config.max_receive_count
        back = []
        for message in messages:
            if most is not None and message.receive_count >= most and self.dlq is not None:
                self.dlq.send(now, message.body, group=message.group)
                if self.loop.listeners:
                    self.loop.emit(
                        "redrive",
                        {
                            "function": self.fn.name,
                            "queue": queue.config.name,
                            "dlq": self.dlq.config.name,
                            "message": message.number,
                            "receive_count": message.receive_count,
                            "group": message.group,
                        },
                    )
            else:
                back.append(message)
        queue.ready.put_back(back)
        queue.ready.release(messages, [])  # a FIFO group is free again once its failed messages are back (or redriven)
        if queue.ready:
            wake = queue.consumer  # every mapping reading the queue may take them
            assert wake is not None  # set when this mapping was made
            wake()

    def event(self, batch: list[Message]) -> dict[str, Any]:
        """The event Lambda sends for a batch (shared/reference/lambda-facts.md §2.2)."""
        records: list[dict[str, Any]] = []
        for m in batch:
            body = m.body if isinstance(m.body, str) else json.dumps(m.body)
            assert m.first_received_at is not None  # set when a poller receives it (_receive), before its event
            records.append(
                {
                    "messageId": m.id,
                    "receiptHandle": f"{m.id}#{m.receive_count}",
                    "body": body,
                    "attributes": {
                        "ApproximateReceiveCount": str(m.receive_count),
                        "SentTimestamp": str(EPOCH_MS + int(m.sent_at * 1000)),
                        "SenderId": self.account_id,
                        "ApproximateFirstReceiveTimestamp": str(EPOCH_MS + int(m.first_received_at * 1000)),
                    },
                    "messageAttributes": {},
                    "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.arn,
                    "awsRegion": self.region,
                }
            )
            if self.fifo:  # content-based deduplication: the id is the body's SHA-256
                records[-1]["attributes"].update(
                    MessageGroupId=m.group,
                    SequenceNumber=f"{m.number:020d}",
                    MessageDeduplicationId=hashlib.sha256(body.encode()).hexdigest(),
                )
        return {"Records": records}


class QueueReaders:
    """Several mappings reading one queue compete for its messages: each message goes to the one whose poller
    receives it (SQS hides it from the others while it is in flight). They are woken in turn, so that none is
    always first to poll (AWS documents no order; lambdalab's choice)."""

    def __init__(self, wakes: list[Callable[[], None]]):
        self.wakes = wakes
        self.turn = 0

    def __call__(self) -> None:
        wakes, first = self.wakes, self.turn
        self.turn = (first + 1) % len(wakes)
        for i in range(len(wakes)):
            wakes[(first + i) % len(wakes)]()


def reported_failures(response: Any, batch: list[Message]) -> list[Message]:
    """The messages a partial batch response names. Empty or null means all succeeded; anything malformed,
    or an id not in the batch, fails the whole batch (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)."""
    if not response:
        return []
    items = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not items:
        return [] if isinstance(response, dict) and "batchItemFailures" in response else batch
    by_id = {m.id: m for m in batch}
    failed = []
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in by_id:
            return batch
        failed.append(by_id[identifier])
    return failed
