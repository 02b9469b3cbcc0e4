"""Where asynchronous results go: SQS queues, SNS topics, EventBridge buses and other functions.

Record shapes follow https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html:
a destination receives an invocation record (request and response), a dead-letter
queue only the original event with RequestID, ErrorCode and ErrorMessage
attributes. FIFO queues and topics cannot be destinations: delivery fails and
DestinationDeliveryFailures counts it.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime, timedelta
from typing import Any, Callable

from lambdalab.engine import limits
from lambdalab.engine.model import Queue

KEEP_MESSAGES = 200  # messages kept per queue for the TUI and for checks; counts are always exact


def timestamp(seconds: float) -> str:
    """ISO-8601 for a virtual time; virtual time 0 is 2026-01-01T00:00:00Z, so 65.25 s is 2026-01-01T00:01:05.250Z."""
    moment = _EPOCH + timedelta(milliseconds=round(seconds * 1000))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_EPOCH = datetime(2026, 1, 1)


class QueueState:
    """An SQS queue as seen by its producers: messages in, nothing consumed until event source mappings exist."""

    def __init__(self, config: Queue):
        self.config = config
        self.sent = 0
        self.received = 0
        self.deleted = 0
        self.oldest_sent_at: float | None = None
        self.messages: deque[dict] = deque(maxlen=KEEP_MESSAGES)

    @property
    def visible(self) -> int:
        return self.sent - self.received

    def send(self, now: float, body: Any, attributes: dict | None = None) -> None:
        self.sent += 1
        if self.oldest_sent_at is None:
            self.oldest_sent_at = now
        message = {"sent_at_s": round(now, 6), "body": body}
        if attributes:
            message["attributes"] = attributes
        self.messages.append(message)


class TopicState:
    def __init__(self, fifo: bool):
        self.fifo = fifo
        self.published = 0


class BusState:
    def __init__(self) -> None:
        self.received = 0


class Destinations:
    """Delivers records and dead letters; says whether delivery worked."""

    def __init__(self, queues: dict[str, QueueState], topics: dict[str, TopicState], buses: dict[str, BusState]):
        self.queues = queues
        self.topics = topics
        self.buses = buses
        self.invoke_function: Callable[[str, Any], None] | None = None  # set by the simulation: async invoke

    def deliver(self, target: str, now: float, body: Any, attributes: dict | None = None) -> bool:
        kind, _, name = target.partition(":")
        if kind == "queue":
            queue = self.queues[name]
            if queue.config.fifo or _size(body) > queue.config.max_message_size:
                return False
            queue.send(now, body, attributes)
            return True
        if kind == "topic":
            topic = self.topics[name]
            if topic.fifo:
                return False
            topic.published += 1
            return True
        if kind == "bus":
            self.buses[name].received += 1
            return True
        if kind == "function":
            self.invoke_function(name, body)
            return True
        raise ValueError(f"unknown destination {target!r}")


def invocation_record(*, now: float, request_id: str, function_arn: str, condition: str, attempts: int,
                      event: Any, status_code: int, error: str | None, error_message: str | None,
                      response: Any = None) -> dict:
    """What an on-success or on-failure destination receives: `response` is the function's own (real code's)
    on success. A throttled last attempt has no function response."""
    response_context: dict[str, Any] = {"statusCode": status_code, "executedVersion": "$LATEST"}
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


def dead_letter_attributes(request_id: str, status_code: int, error_message: str | None) -> dict:
    """A dead-letter message's attributes: the request, an HTTP status and the first 1 KB of the error."""
    message = (error_message or "").encode()[: limits.DLQ_ERROR_MESSAGE_MAX_BYTES].decode(errors="ignore")
    return {"RequestID": request_id, "ErrorCode": status_code, "ErrorMessage": message}


def _size(body: Any) -> int:
    return len(json.dumps(body, separators=(",", ":")).encode())
