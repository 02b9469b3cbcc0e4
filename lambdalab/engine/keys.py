"""Partition keys for stream records and message group ids for FIFO messages, as a traffic generator picks them.

Both decide ordering: Kinesis keeps order per partition key and picks the shard from it; an SQS FIFO
queue keeps order per message group. The default gives every record its own key, which spreads records
evenly, as producers with random keys do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from lambdalab.engine.behaviour import lookup
from lambdalab.engine.model import KeyRule


def key_picker(rule: KeyRule | None) -> Callable[[Any], str]:
    """A function from each event sent to its key (the scenario has already checked the path exists)."""
    rule = rule or KeyRule()
    if rule.path is not None:
        path = rule.path
        return lambda event: _text(lookup(event, path))
    if rule.fixed:
        fixed = rule.fixed
        return lambda _event: fixed
    counter = iter(range(1 << 62))
    if rule.count:
        count = rule.count
        return lambda _event: f"key-{next(counter) % count}"
    return lambda _event: f"key-{next(counter)}"


def shard_for(key: str, shards: int) -> int:
    """Kinesis maps a partition key to a shard by the MD5 of the key, a 128-bit number that falls in one
    shard's even slice of the hash key range (https://docs.aws.amazon.com/streams/latest/dev/key-concepts.html)."""
    return int.from_bytes(hashlib.md5(key.encode()).digest(), "big") * shards >> 128


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
