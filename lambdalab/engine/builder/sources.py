"""Where messages wait: SQS queues, SNS topics, EventBridge buses and Kinesis or DynamoDB streams,
with the names, redrive, retention and table keys their services accept.

A topic's subscribers and a bus's targets are references to functions and queues, so queues are built
first (`Context.targets`); DynamoDB items are checked here because a stream's backlog and the traffic
to it write the same table.
"""

from __future__ import annotations

import json
from typing import Any

from lambdalab import limits
from lambdalab.engine.builder.context import Context, KeyPath, duration, event, refuse_isolated, resolve
from lambdalab.engine.builder.durable import refuse_unqualified
from lambdalab.engine.model import Bus, Queue, Stream, Topic
from lambdalab.engine.units import parse_size
from lambdalab.inputs.errors import did_you_mean


def queue(ctx: Context, name: str, data: dict[str, Any]) -> Queue:
    path = ("queues", name)
    size = limits.SQS_MESSAGE_MAX_BYTES
    if "max_message_size" in data:
        try:
            size = parse_size(data["max_message_size"])
        except ValueError as exc:
            ctx.fail((*path, "max_message_size"), str(exc))
    return Queue(
        name=name,
        fifo=bool(data.get("fifo")),
        visibility_timeout=duration(
            ctx, (*path, "visibility_timeout"), data.get("visibility_timeout"), limits.SQS_VISIBILITY_DEFAULT_S
        ),
        max_receive_count=data.get("max_receive_count"),
        dead_letter=data.get("dead_letter"),
        max_message_size=size,
    )


def topic(ctx: Context, name: str, data: dict[str, Any]) -> Topic:
    return Topic(name, bool(data.get("fifo")), _fan_out(ctx, ("topics", name, "subscribers"), data.get("subscribers")))


def bus(ctx: Context, name: str, data: dict[str, Any]) -> Bus:
    return Bus(name, _fan_out(ctx, ("buses", name, "targets"), data.get("targets")))


def _fan_out(ctx: Context, path: KeyPath, refs: list[str] | None) -> tuple[str, ...]:
    """An SNS topic's subscribers or an EventBridge rule's targets: functions (invoked asynchronously) or queues."""
    out = []
    for i, ref in enumerate(refs or []):
        resolved = resolve(ctx, (*path, i), ref, ("function", "queue"))
        if resolved:
            if resolved[0] == "function":
                refuse_isolated(ctx, (*path, i), resolved[1], f"a {'topic' if path[0] == 'topics' else 'bus'}")
            refuse_unqualified(ctx, (*path, i), *resolved)
            out.append(f"{resolved[0]}:{resolved[1]}")
    return tuple(out)


def check_fifo_name(ctx: Context, path: KeyPath, name: str, fifo: bool) -> None:
    """SQS and SNS FIFO names end in .fifo, and only FIFO names do
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues.html)."""
    if fifo != name.endswith(".fifo"):
        ctx.fail(
            path,
            f"a FIFO name ends in .fifo and only FIFO names do: name it {name.removesuffix('.fifo')}"
            f"{'.fifo' if fifo else ''} or {'remove' if fifo else 'add'} fifo: true",
        )


def check_queue_redrive(ctx: Context, queue: Queue, queues: dict[str, Queue]) -> None:
    if queue.dead_letter is None:
        return
    path = ("queues", queue.name, "dead_letter")
    target = queues.get(queue.dead_letter)
    if target is None:
        ctx.fail(path, f"no queue named {queue.dead_letter!r}{did_you_mean(queue.dead_letter, list(queues))}")
    elif target.fifo != queue.fifo:
        ctx.fail(path, "a queue's dead-letter queue must be of the same type (both FIFO or both standard)")


def stream(ctx: Context, name: str, data: dict[str, Any]) -> Stream:
    path = ("streams", name)
    kind = data["type"]
    retention = duration(ctx, (*path, "retention"), data.get("retention"), limits.STREAM_RETENTION_DEFAULT_S)
    if kind == "dynamodb" and "retention" in data:
        ctx.fail(
            (*path, "retention"),
            "a DynamoDB stream keeps records for 24 hours; that cannot be changed "
            "(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html)",
        )
    elif not limits.STREAM_RETENTION_DEFAULT_S <= retention <= limits.KINESIS_RETENTION_MAX_S:
        ctx.fail(
            (*path, "retention"),
            "a Kinesis stream keeps records from 24 hours up to 365 days "
            "(https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html)",
        )
    backlog = data.get("backlog") or {}
    over = duration(ctx, (*path, "backlog", "over"), backlog.get("over"), 0.0)
    if over > retention:
        ctx.fail(
            (*path, "backlog", "over"),
            f"records older than the retention ({retention / 3600:g} h) are no longer in the stream",
        )
    key = data.get("key", "pk")
    key = (key,) if isinstance(key, str) else tuple(key)
    if kind == "kinesis" and "key" in data:
        ctx.fail(
            (*path, "key"),
            "key is a DynamoDB table's key schema; a Kinesis record's partition key is the traffic's partition_key",
        )
    message = event(ctx, (*path, "backlog", "message"), backlog.get("message", {}))
    if kind == "dynamodb" and "backlog" in data:
        check_items(ctx, [(*path, "backlog", "message")], key, (message,), name, by_traffic=False)
    return Stream(name, kind, data.get("shards", 1), retention, backlog.get("records", 0), over, message, key)


def check_items(
    ctx: Context, paths: list[KeyPath], key: tuple[str, ...], events: tuple[Any, ...], table: str, by_traffic: bool
) -> None:
    """The items written to a DynamoDB table carry a valid key: a text or number for each key attribute, of one
    type across the items, and the sort key always (nothing else could give it). The partition key may be left
    out: the record's partition key (the traffic's partition_key, or a new one each write) is then the item's.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.CoreComponents.html#HowItWorks.CoreComponents.PrimaryKey"""
    types: dict[str, type] = {}
    for where, written in zip(paths, events):
        item = written if isinstance(written, dict) else {"value": written}
        for n, name in enumerate(key):
            if name not in item:
                if n:
                    ctx.fail(
                        where,
                        f"the item has no {name!r}, the sort key of table {table!r} (streams.{table}.key): "
                        "every item has its whole primary key",
                    )
                continue
            value = item[name]
            if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == "":
                ctx.fail(
                    where,
                    f"{name!r} is part of the primary key of table {table!r}: a non-empty text or a number, "
                    f"not {json.dumps(value)}",
                )
                continue
            kind = str if isinstance(value, str) else float
            if types.setdefault(name, kind) is not kind:
                ctx.fail(
                    where,
                    f"{name!r} is a text in one item and a number in another; a table's key attribute has one type",
                )
            if n == 0 and by_traffic:
                by_traffic = False  # said once
                ctx.fail(
                    where,
                    f"the item has {name!r}, the partition key of table {table!r}: the item's own key "
                    f"decides its shard and order, so partition_key has nothing to choose; remove "
                    f"partition_key, or leave {name!r} out of the items to key them by it",
                )
