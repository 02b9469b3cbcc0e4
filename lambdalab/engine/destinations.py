"""Where asynchronous results go: SQS queues, SNS topics, EventBridge buses and other functions.

Record shapes follow https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html:
a destination receives an invocation record (request and response), a dead-letter
queue only the original event with RequestID, ErrorCode and ErrorMessage
attributes. FIFO queues and topics cannot be destinations: delivery fails and
DestinationDeliveryFailures counts it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from lambdalab import limits
from lambdalab.engine.ids import request_id
from lambdalab.engine.model import Bus, Queue, Topic
from lambdalab.engine.records import PayloadRoom

KEEP_MESSAGES = 200  # messages kept per queue for the TUI and for checks; counts are always exact


def timestamp(seconds: float) -> str:
    """ISO-8601 for a virtual time; virtual time 0 is 2026-01-01T00:00:00Z, so 65.25 s is 2026-01-01T00:01:05.250Z."""
    moment = _EPOCH + timedelta(milliseconds=round(seconds * 1000))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_EPOCH = datetime(2026, 1, 1)
EPOCH_MS = 1_767_225_600_000  # virtual time 0 in Unix milliseconds


def to_ms(seconds: float) -> int:
    """Virtual time in seconds as epoch milliseconds (the durable service's times, real code's log records)."""
    return EPOCH_MS + round(seconds * 1000)


def to_s(ms: int) -> float:
    return (ms - EPOCH_MS) / 1000.0


class Message:
    """One SQS message, as an event source mapping sees it: received, hidden, returned, deleted or redriven."""

    __slots__ = ("id", "body", "sent_at", "receive_count", "first_received_at", "group", "number", "size")

    def __init__(self, message_id: str, body: Any, sent_at: float, group: str | None = None, number: int = 0):
        self.id = message_id
        self.body = body
        self.sent_at = sent_at
        self.receive_count = 0
        self.first_received_at: float | None = None
        self.group = group  # a FIFO queue's message group id
        self.number = number  # its place in the queue: 1, 2, ... (a FIFO message's SequenceNumber)
        self.size = 0  # what it weighs in a batch, once a mapping reads the queue


def _weightless(_body: Any) -> int:
    return 0


class VisibleMessages:
    """A standard queue's visible messages, oldest first (SQS keeps no strict order, so returned ones go last).

    `payload` is what they would weigh in a batch, by the `cost` the queue's event source mapping gives.
    """

    __slots__ = ("messages", "cost", "payload")

    def __init__(self) -> None:
        self.messages: deque[Message] = deque()
        self.cost: Callable[[Any], int] = _weightless
        self.payload = 0

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[Message]:
        return iter(self.messages)

    def append(self, message: Message) -> None:
        self.messages.append(message)
        message.size = self.cost(message.body)
        self.payload += message.size

    def first_sent_at(self) -> float | None:
        return self.messages[0].sent_at if self.messages else None

    def take(self, size: int, room: PayloadRoom) -> list[Message]:
        """Up to `size` messages, as many as the batch's payload `room` admits."""
        admits = room.start().admits
        messages = self.messages
        batch: list[Message] = []
        while messages and len(batch) < size and admits(messages[0].size):
            batch.append(messages.popleft())
        self.payload -= room.used()
        return batch

    def put_back(self, messages: list[Message]) -> None:
        self.messages.extend(messages)
        self.payload += sum(m.size for m in messages)

    def release(self, _batch: list[Message], _failed: list[Message]) -> None:
        """Nothing to unlock in a standard queue."""


class MessageGroups:
    """A FIFO queue's visible messages, in order within each message group. A group with messages in a batch
    (being processed, or failed and hidden until they return) is locked: its next messages wait, so that
    order holds (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html). `payload` as in
    VisibleMessages: the messages of every group, locked or not."""

    def __init__(self) -> None:
        # By group id; None for a message sent without one (from an SNS topic or an EventBridge bus).
        self.groups: dict[str | None, deque[Message]] = {}
        self.available: deque[str | None] = deque()  # unlocked groups with visible messages, in turn
        self.locked: set[str | None] = set()
        self.count = 0
        self.cost: Callable[[Any], int] = _weightless
        self.payload = 0

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Message]:
        return (m for queue in self.groups.values() for m in queue)

    def append(self, message: Message) -> None:
        queue = self.groups.get(message.group)
        if queue is None:
            queue = self.groups[message.group] = deque()
            if message.group not in self.locked:
                self.available.append(message.group)
        queue.append(message)
        self.count += 1
        message.size = self.cost(message.body)
        self.payload += message.size

    def first_sent_at(self) -> float | None:
        return self.groups[self.available[0]][0].sent_at if self.available else None

    def take(self, size: int, room: PayloadRoom) -> list[Message]:
        """A batch from the unlocked groups, in turn: it may hold several groups, and locks each. It ends
        at `size` messages or when the payload `room` admits no more."""
        admits = room.start().admits
        batch: list[Message] = []
        while self.available and len(batch) < size:
            queue = self.groups[self.available[0]]
            if not admits(queue[0].size):
                break  # the group stays unlocked, first in turn for the next batch
            group = self.available.popleft()
            self.locked.add(group)
            batch.append(queue.popleft())
            while queue and len(batch) < size and admits(queue[0].size):
                batch.append(queue.popleft())
            if not queue:
                del self.groups[group]
        self.count -= len(batch)
        self.payload -= room.used()
        return batch

    def put_back(self, messages: list[Message]) -> None:
        """Failed messages back at the front of their groups, ahead of the ones that waited."""
        for message in reversed(messages):
            queue = self.groups.get(message.group)
            if queue is None:
                queue = self.groups[message.group] = deque()
            queue.appendleft(message)
        self.count += len(messages)
        self.payload += sum(m.size for m in messages)

    def release(self, batch: list[Message], failed: list[Message]) -> None:
        """Unlock the batch's groups, except those with failed messages still hidden."""
        holding = {m.group for m in failed}
        for group in dict.fromkeys(m.group for m in batch):
            if group in self.locked and group not in holding:
                self.locked.discard(group)
                if group in self.groups:
                    self.available.append(group)


class QueueState:
    """An SQS queue. With no event source mapping reading it, it only counts what arrives; with one, it keeps
    its messages, visible (`ready`) or hidden while a batch is being processed (`not_visible`)."""

    # What makes a message: recursion.py gives the queues of a scenario whose code sends one that carries a chain.
    new_message: Callable[[str, Any, float, str | None, int], Message] = Message

    def __init__(self, config: Queue):
        self.config = config
        self.sent = 0
        self.received = 0
        self.deleted = 0
        self.oldest_sent_at: float | None = None
        self.messages: deque[dict[str, Any]] = deque(maxlen=KEEP_MESSAGES)
        self.consumer: Callable[[], None] | None = None  # an event source mapping's wake-up, when one reads the queue
        self.ready: VisibleMessages | MessageGroups = MessageGroups() if config.fifo else VisibleMessages()
        self.not_visible = 0
        self._ids = zlib.crc32(config.name.encode())  # message ids differ by queue, repeat by run

    @property
    def visible(self) -> int:
        return len(self.ready) if self.consumer is not None else self.sent - self.received

    def oldest_visible_at(self) -> float | None:
        if self.consumer is None:
            return self.oldest_sent_at if self.visible else None
        return min((m.sent_at for m in self.ready), default=None)

    def send(self, now: float, body: Any, attributes: dict[str, Any] | None = None, group: str | None = None) -> None:
        self.sent += 1
        if self.oldest_sent_at is None:
            self.oldest_sent_at = now
        message = {"sent_at_s": round(now, 6), "body": body}
        if attributes:
            message["attributes"] = attributes
        self.messages.append(message)
        if self.consumer is not None:
            self.ready.append(self.new_message(request_id(self._ids, self.sent), body, now, group, self.sent))
            self.consumer()


class TopicState:
    """An SNS topic: what is published to it goes to each subscriber (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html)."""

    def __init__(self, config: Topic):
        self.config = config
        self.fifo = config.fifo
        self.published = 0


class BusState:
    """An EventBridge bus whose one rule matches every event and sends it to its targets."""

    def __init__(self, config: Bus) -> None:
        self.config = config
        self.received = 0


Invoke = Callable[[str, Any, str, str], None]  # function name, event, principal, source ARN


class Destinations:
    """Delivers records, dead letters and published messages; says whether delivery worked."""

    def __init__(
        self,
        queues: dict[str, QueueState],
        topics: dict[str, TopicState],
        buses: dict[str, BusState],
        region: str,
        account_id: str,
    ):
        self.queues = queues
        self.topics = topics
        self.buses = buses
        self.region = region
        self.account_id = account_id
        self.invoke_function: Invoke | None = None  # set by the simulation: an asynchronous invoke

    def publish(self, target: str, now: float, body: Any) -> None:
        """A message published to an SNS topic or an event put on a bus: each subscriber or target gets it."""
        kind, _, name = target.partition(":")
        if kind == "topic":
            topic = self.topics[name]
            topic.published += 1
            arn = f"arn:aws:sns:{self.region}:{self.account_id}:{name}"
            message_id = _message_id("sns", topic.published)
            for endpoint in topic.config.subscribers:  # each subscription has its own ARN, in what it receives
                kind, _, subscriber = endpoint.partition(":")
                subscription = subscription_arn(arn, endpoint)
                if kind == "function":
                    assert self.invoke_function is not None  # set by the simulation before the run
                    self.invoke_function(
                        subscriber, sns_notification(arn, subscription, message_id, body, now), "sns.amazonaws.com", arn
                    )
                else:
                    self.queues[subscriber].send(now, sns_queue_message(arn, subscription, message_id, body, now))
        else:
            bus = self.buses[name]
            bus.received += 1
            arn = f"arn:aws:events:{self.region}:{self.account_id}:rule/{name}/everything"
            self._fan_out(
                bus.config.targets, now, self._event(name, bus.received, body, now), "events.amazonaws.com", arn
            )

    def _fan_out(self, targets: tuple[str, ...], now: float, event: Any, principal: str, source_arn: str) -> None:
        for target in targets:
            kind, _, name = target.partition(":")
            if kind == "function":
                assert self.invoke_function is not None  # set by the simulation before the run
                self.invoke_function(name, event, principal, source_arn)
            else:
                self.queues[name].send(now, event)

    def _event(self, bus: str, number: int, body: Any, now: float) -> dict[str, Any]:
        """An EventBridge event: the body as `detail`, unless it is already a whole event."""
        if isinstance(body, dict) and "detail-type" in body:
            return body
        return {
            "version": "0",
            "id": _message_id("evt", number),
            "detail-type": "lambdalab scenario event",
            "source": "lambdalab.scenario",
            "account": self.account_id,
            "time": timestamp(now)[:19] + "Z",
            "region": self.region,
            "resources": [],
            "detail": body,
            "event-bus-name": bus,
        }

    def deliver(self, target: str, now: float, body: Any, attributes: dict[str, Any] | None = None) -> bool:
        kind, _, name = target.partition(":")
        if kind == "queue":
            queue = self.queues[name]
            if queue.config.fifo or _size(body) > queue.config.max_message_size:
                return False
            queue.send(now, body, attributes)
            return True
        if kind == "topic":
            if self.topics[name].fifo:  # a destination must be a standard topic
                return False
            self.publish(target, now, body)
            return True
        if kind == "bus":
            self.publish(target, now, body)
            return True
        if kind == "function":
            assert self.invoke_function is not None  # set by the simulation before the run
            self.invoke_function(name, body, "", "")
            return True
        raise ValueError(f"unknown destination {target!r}")


def subscription_arn(topic_arn: str, target: str) -> str:
    """A subscription's ARN: the topic's and the subscription's id, a UUID (here the same for a topic and a
    subscriber in every run)."""
    return f"{topic_arn}:{uuid.UUID(bytes=hashlib.md5(f'{topic_arn} {target}'.encode()).digest(), version=4)}"


def _sns_signing(topic_arn: str, subscription: str, message: str) -> dict[str, str]:
    """What SNS adds to every notification so that a receiver can check it came from SNS, and unsubscribe:
    a signature (here a stand-in, of the right form, that no certificate verifies), the certificate's URL and the
    subscription's unsubscribe URL (https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html,
    https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html)."""
    region = topic_arn.split(":")[3]
    endpoint = f"https://sns.{region}.amazonaws.com"
    return {
        "SignatureVersion": "1",
        "Signature": base64.b64encode(hashlib.sha256(f"{subscription} {message}".encode()).digest() * 8).decode(),
        "SigningCertUrl": f"{endpoint}/SimpleNotificationService-{hashlib.md5(region.encode()).hexdigest()}.pem",
        "UnsubscribeUrl": f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription}",
    }


def sns_notification(topic_arn: str, subscription: str, message_id: str, body: Any, now: float) -> dict[str, Any]:
    """The event SNS sends a subscribed function, as in https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html:
    the message is text, so a structured body arrives as JSON; no subject was given."""
    message = body if isinstance(body, str) else json.dumps(body)
    return {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription,
                "EventSource": "aws:sns",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": message,
                    "Timestamp": timestamp(now),
                    "MessageAttributes": {},
                    **_sns_signing(topic_arn, subscription, message),
                },
            }
        ]
    }


def sns_queue_message(topic_arn: str, subscription: str, message_id: str, body: Any, now: float) -> dict[str, str]:
    """What SNS delivers to a subscribed SQS queue: the notification as a JSON document, not a Lambda event
    (https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html; its fields in
    https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html, where the URLs are spelled
    SigningCertURL and UnsubscribeURL). No subject and no message attributes: SNS then leaves both out."""
    message = body if isinstance(body, str) else json.dumps(body)
    signing = _sns_signing(topic_arn, subscription, message)
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic_arn,
        "Message": message,
        "Timestamp": timestamp(now),
        "SignatureVersion": signing["SignatureVersion"],
        "Signature": signing["Signature"],
        "SigningCertURL": signing["SigningCertUrl"],
        "UnsubscribeURL": signing["UnsubscribeUrl"],
    }


def _message_id(source: str, number: int) -> str:
    return f"{source}-{number:08d}-0000-4000-8000-000000000000"[:36]


def invocation_record(
    *,
    now: float,
    request_id: str,
    function_arn: str,
    condition: str,
    attempts: int,
    event: Any,
    status_code: int,
    error: str | None,
    error_message: str | None,
    response: Any = None,
    version: str = "$LATEST",
) -> dict[str, Any]:
    """What an on-success or on-failure destination receives: `response` is the function's own (real code's)
    on success. A throttled last attempt has no function response."""
    response_context: dict[str, Any] = {"statusCode": status_code, "executedVersion": version}
    if error is not None and status_code == 200:
        response_context["functionError"] = "Unhandled"
        response = {"errorMessage": error_message, "errorType": error, "requestId": request_id, "stackTrace": []}
    return {
        "version": "1.0",
        "timestamp": timestamp(now),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": response_context,
        "responsePayload": response,
    }


def dead_letter_attributes(request_id: str, status_code: int, error_message: str | None) -> dict[str, Any]:
    """A dead-letter message's attributes: the request, an HTTP status and the first 1 KB of the error."""
    message = (error_message or "").encode()[: limits.DLQ_ERROR_MESSAGE_MAX_BYTES].decode(errors="ignore")
    return {"RequestID": request_id, "ErrorCode": status_code, "ErrorMessage": message}


def _size(body: Any) -> int:
    return len(json.dumps(body, separators=(",", ":")).encode())
