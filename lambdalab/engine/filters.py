"""Event filtering on event source mappings: which records reach the function.

As https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html describes it: a mapping has up
to 5 filters (the default quota); a record that matches any of them goes on to the function, and one that
matches none never reaches it: an SQS message is deleted, a stream record is skipped. A filter is a pattern
over the record: its keys are ANDed, nested keys look inside, and each leaf lists alternatives (exact values,
`prefix`, `numeric`, `exists`), any of which may match; a field holding a list matches when one of its
items does. An SQS message's `body` and a Kinesis record's `data` are matched as JSON objects when they hold
JSON (then a pattern may look inside them), as plain values otherwise. No invocation, no charge.

lambdalab's model: a poller filters each batch it receives (sources.py, streams.py), and the records that
pass are the batch the function gets; a batch of which none pass invokes nothing.
"""

from __future__ import annotations

import base64
import json
import operator
from collections.abc import Callable
from typing import Any

from lambdalab.engine.behaviour import MISSING, same_json
from lambdalab.engine.model import FilterPattern, FilterValue

COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def pattern_matches(pattern: FilterPattern, value: Any) -> bool:
    for key, part in pattern.fields:
        field = value.get(key, MISSING) if isinstance(value, dict) else MISSING
        if isinstance(part, FilterPattern):
            if not pattern_matches(part, field):
                return False
        elif not leaf_matches(part, field):
            return False
    return True


def leaf_matches(alternatives: tuple[FilterValue, ...], value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(_matches(a, item) for a in alternatives for item in items)


def _matches(alternative: FilterValue, value: Any) -> bool:
    kind = alternative.kind
    if kind == "exists":
        return (value is not MISSING) is alternative.value
    if value is MISSING:
        return False
    if kind == "equals":
        return same_json(value, alternative.value)
    if kind == "prefix":
        return isinstance(value, str) and value.startswith(alternative.value)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return number and all(COMPARE[op](value, bound) for op, bound in alternative.value)


def passes(filters: tuple[FilterPattern, ...], record: dict[str, Any]) -> bool:
    """Whether a record, as its filters see it (sqs_view, kinesis_view), matches one of them."""
    return any(pattern_matches(pattern, record) for pattern in filters)


def sqs_view(record: dict[str, Any]) -> dict[str, Any]:
    """An SQS record as its filters see it: the body as JSON when it is JSON."""
    return {**record, "body": _as_json(record["body"])}


def kinesis_view(record: dict[str, Any]) -> dict[str, Any]:
    """A Kinesis record as its filters see it: the `kinesis` fields at the top, `data` decoded."""
    fields = {key: value for key, value in record.items() if key != "kinesis"}
    data = record["kinesis"]
    return {**fields, **data, "data": _as_json(base64.b64decode(data["data"]).decode("utf-8", "replace"))}


def _as_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
