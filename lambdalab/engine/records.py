"""What the records of a batch event carry: SQS bodies, Kinesis data and DynamoDB images, read back as
the code would read them, so that a behaviour model's `when` rule can look at each one."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from lambdalab.limits import BATCH_PAYLOAD_MAX_BYTES

_SOURCES = ("aws:sqs", "aws:kinesis", "aws:dynamodb")
_MEMO_MAX = 4096


class PayloadRoom:
    """Lambda cuts a batch before its payload passes 6 MB, the synchronous invocation limit
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html). An item costs its
    body as the event carries it plus its record's fixed envelope, measured once from the mapping's own
    event. An item's cost is measured once, when it starts to wait (`cost`), and kept with it. Traffic
    sends the same few objects again and again, so body sizes are remembered by identity (holding the
    object, so its id cannot be reused while remembered)."""

    def __init__(self, body_bytes: Callable[[Any], int], envelope: int, limit: int = BATCH_PAYLOAD_MAX_BYTES):
        self.body_bytes = body_bytes
        self.envelope = envelope
        self.limit = limit
        self.left = limit
        self.memo: dict[int, tuple[Any, int]] = {}

    def start(self) -> PayloadRoom:
        """An empty batch."""
        self.left = self.limit
        return self

    def cost(self, body: Any) -> int:
        """The bytes one item adds to a batch."""
        known = self.memo.get(id(body))
        if known is not None and known[0] is body:
            return known[1]
        size = self.body_bytes(body) + self.envelope
        if len(self.memo) < _MEMO_MAX:
            self.memo[id(body)] = (body, size)
        return size

    def admits(self, size: int) -> bool:
        """Whether one more item of `size` bytes fits, and if so count it; the first always does, as a batch
        is never empty."""
        if size > self.left and self.left < self.limit:
            return False
        self.left -= size
        return True

    def used(self) -> int:
        """The bytes of the batch admitted since start()."""
        return self.limit - self.left

    def overflows(self, waiting_bytes: int) -> bool:
        """Whether items of this many bytes in all would not fit in one batch: a batching window then ends
        at once, since Lambda invokes when the payload reaches 6 MB, whatever the window has left."""
        return waiting_bytes > self.limit


def json_bytes(body: Any) -> int:
    """A body's bytes as a message carries it: text as it is, anything else as JSON."""
    return len((body if isinstance(body, str) else json.dumps(body)).encode())


def base64_bytes(body: Any) -> int:
    """A Kinesis record's data: its JSON, base64-encoded."""
    return 4 * -(-json_bytes(body) // 3)


def batch_payloads(event: Any) -> list[Any] | None:
    """Each record's payload when `event` is a batch from SQS, Kinesis or DynamoDB Streams; None otherwise."""
    if not isinstance(event, dict):
        return None
    records = event.get("Records")
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return None
    source = records[0].get("eventSource")
    if source not in _SOURCES:
        return None
    if source == "aws:sqs":
        return [decoded(r.get("body")) for r in records]
    if source == "aws:kinesis":
        return [decoded(_base64_text(r.get("kinesis", {}).get("data", ""))) for r in records]
    return [from_dynamodb(r.get("dynamodb", {}).get("NewImage", {})) for r in records]


def record_payloads(event: Any) -> list[Any]:
    """What code reads from each record of an event, to send it on (engine/recursion.py): a batch's bodies,
    an SNS notification's Message, an EventBridge event's detail, or a direct invoke's whole event."""
    payloads = batch_payloads(event)
    if payloads is not None:
        return [unwrapped(p) for p in payloads]
    if isinstance(event, dict):
        records = event.get("Records")
        if isinstance(records, list) and records and isinstance(records[0], dict):
            if records[0].get("EventSource") == "aws:sns":
                return [decoded(r.get("Sns", {}).get("Message")) for r in records]
        if "detail-type" in event and "detail" in event:
            return [event["detail"]]
    return [event]


def unwrapped(body: Any) -> Any:
    """An SQS body as code reads it: the message inside an SNS notification that a topic delivered to the queue
    (https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html), the body itself otherwise."""
    if isinstance(body, dict) and body.get("Type") == "Notification" and "TopicArn" in body and "Message" in body:
        return decoded(body["Message"])
    return body


def decoded(body: Any) -> Any:
    """A message body as the code would read it: JSON when it is JSON."""
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def _base64_text(data: str) -> str:
    try:
        return base64.b64decode(data).decode()
    except (binascii.Error, UnicodeDecodeError):
        return data


def to_dynamodb(item: dict[str, Any]) -> dict[str, Any]:
    """A plain item in DynamoDB's attribute-value JSON, as a stream's NewImage carries it."""
    return {key: _attribute(value) for key, value in item.items()}


def _attribute(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": json.dumps(value)}
    if isinstance(value, list):
        return {"L": [_attribute(v) for v in value]}
    if isinstance(value, dict):
        return {"M": to_dynamodb(value)}
    return {"S": str(value)}


def from_dynamodb(image: dict[str, Any]) -> dict[str, Any]:
    """The plain item back from attribute values."""
    return {key: _plain(value) for key, value in image.items()}


def _plain(attribute: dict[str, Any]) -> Any:
    ((kind, value),) = attribute.items()
    if kind == "N":
        return json.loads(value)
    if kind == "L":
        return [_plain(v) for v in value]
    if kind == "M":
        return from_dynamodb(value)
    if kind == "NULL":
        return None
    return value
