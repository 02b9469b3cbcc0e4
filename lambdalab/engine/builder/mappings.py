"""Event source mappings: a function reading an SQS queue, a Kinesis stream or a DynamoDB stream, with
the checks CreateEventSourceMapping makes before it accepts one (ESM).

A mapping refers to a queue or stream and a function built before it, and to the account whose
execution role must be allowed to read the source.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from lambdalab import limits
from lambdalab.engine.builder.context import Context, KeyPath, duration, resolve
from lambdalab.engine.builder.permissions import check_role_reads
from lambdalab.engine.model import Account, EventSourceMapping, Function, Queue, Stream
from lambdalab.inputs.errors import did_you_mean

STREAM_ONLY = (
    "parallelization_factor",
    "bisect_on_error",
    "maximum_retry_attempts",
    "maximum_record_age",
    "on_failure",
    "starting_position",
    "starting_position_timestamp",
)
UTC = timezone.utc  # datetime.UTC is new in Python 3.11, and lambdalab runs on 3.10
RUN_START = datetime(2026, 1, 1, tzinfo=UTC)  # virtual time 0


def mapping(
    ctx: Context, index: int, data: dict[str, Any], functions: dict[str, Function], account: Account
) -> EventSourceMapping:
    """An SQS or stream event source mapping, with the checks CreateEventSourceMapping makes (ESM)."""
    path = ("event_source_mappings", index)
    resolved = resolve(ctx, (*path, "source"), data["source"], ("queue", "stream"))
    kind, name = resolved or ("queue", "")
    source = ctx.targets[kind].get(name)
    fn = functions.get(data["function"])
    if fn is None:
        ctx.fail(
            (*path, "function"),
            f"no function named {data['function']!r}{did_you_mean(data['function'], list(functions))}",
        )
    wrong = STREAM_ONLY if kind == "queue" else ("maximum_concurrency",)
    for key in wrong:
        if key in data:
            ctx.fail(
                (*path, key),
                f"{key} applies only to {'Kinesis and DynamoDB Streams' if kind == 'queue' else 'SQS'} "
                f"mappings ({limits.ESM})",
            )
    window = duration(ctx, (*path, "batching_window"), data.get("batching_window"), 0.0)
    if window > limits.BATCHING_WINDOW_MAX_S:
        ctx.fail(
            (*path, "batching_window"),
            f"{window:g} s is above the maximum of {limits.BATCHING_WINDOW_MAX_S:g} s ({limits.ESM})",
        )
    common = dict(
        index=index,
        kind=kind,
        source=name,
        function=data["function"],
        batching_window=window,
        report_batch_item_failures=bool(data.get("report_batch_item_failures")),
        enabled=data.get("enabled", True),
    )
    if source is not None and fn is not None:
        check_role_reads(ctx, path, fn, source, account)
    if kind == "queue":
        return _queue_mapping(ctx, path, data, fn, source, common)
    return _stream_mapping(ctx, path, data, source, common)


def _queue_mapping(
    ctx: Context,
    path: KeyPath,
    data: dict[str, Any],
    fn: Function | None,
    queue: Queue | None,
    common: dict[str, Any],
) -> EventSourceMapping:
    fifo = queue is not None and queue.fifo
    batch = data.get("batch_size", limits.SQS_BATCH_DEFAULT)
    if fifo and batch > limits.SQS_FIFO_BATCH_MAX:
        ctx.fail(
            (*path, "batch_size"),
            f"{batch} is above the maximum of {limits.SQS_FIFO_BATCH_MAX} for a FIFO queue ({limits.ESM})",
        )
    elif batch > limits.SQS_BATCH_WITHOUT_WINDOW_MAX and common["batching_window"] < 1:
        ctx.fail(
            (*path, "batch_size"),
            f"a batch size above {limits.SQS_BATCH_WITHOUT_WINDOW_MAX} needs a "
            f"batching_window of at least 1s ({limits.ESM})",
        )
    if queue is not None and fn is not None and queue.visibility_timeout < fn.timeout:
        # The error CreateEventSourceMapping returns (shared/reference/lambda-facts.md §2.2)
        ctx.fail(
            (*path, "source"),
            f"Queue visibility timeout: {queue.visibility_timeout:g} seconds is less than "
            f"Function timeout: {fn.timeout:g} seconds (AWS recommends 6 times the "
            "function timeout; https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)",
        )
    return EventSourceMapping(**common, batch_size=batch, maximum_concurrency=data.get("maximum_concurrency"))


def _stream_mapping(
    ctx: Context, path: KeyPath, data: dict[str, Any], stream: Stream | None, common: dict[str, Any]
) -> EventSourceMapping:
    position = data.get("starting_position")
    if position is None:
        ctx.fail(
            path,
            "missing required key 'starting_position': TRIM_HORIZON (the oldest record kept), "
            f"LATEST (only new ones) or AT_TIMESTAMP; a stream mapping must say where to start ({limits.ESM})",
        )
    at = 0.0
    if position == "AT_TIMESTAMP":
        if stream is not None and stream.kind != "kinesis":
            ctx.fail((*path, "starting_position"), f"AT_TIMESTAMP is for Kinesis streams only ({limits.ESM})")
        at = _virtual_time(ctx, (*path, "starting_position_timestamp"), data.get("starting_position_timestamp"))
    elif "starting_position_timestamp" in data:
        ctx.fail((*path, "starting_position_timestamp"), "goes only with starting_position: AT_TIMESTAMP")
    age = data.get("maximum_record_age", -1)
    age = -1.0 if age == -1 else duration(ctx, (*path, "maximum_record_age"), age)
    if age > limits.STREAM_RECORD_AGE_MAX_S:
        ctx.fail((*path, "maximum_record_age"), f"{age:g} s is above the maximum of 7 days (604800 s) ({limits.ESM})")
    on_failure = None
    if "on_failure" in data:
        resolved = resolve(ctx, (*path, "on_failure"), data["on_failure"], ("queue", "topic"))
        on_failure = f"{resolved[0]}:{resolved[1]}" if resolved else None
    return EventSourceMapping(
        **common,
        batch_size=data.get("batch_size", limits.STREAM_BATCH_DEFAULT),
        parallelization_factor=data.get("parallelization_factor", 1),
        bisect_on_error=bool(data.get("bisect_on_error")),
        maximum_retry_attempts=data.get("maximum_retry_attempts", -1),
        maximum_record_age=age,
        on_failure=on_failure,
        starting_position=position or "TRIM_HORIZON",
        starting_position_time=at,
    )


def _virtual_time(ctx: Context, path: KeyPath, value: Any) -> float:
    """An ISO 8601 moment as virtual seconds: the run starts at 2026-01-01T00:00:00Z."""
    if value is None:
        ctx.fail(path[:-1], "AT_TIMESTAMP needs starting_position_timestamp, such as 2025-12-31T23:30:00Z")
        return 0.0
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        ctx.fail(path, f"{value!r} is not an ISO 8601 time such as 2025-12-31T23:30:00Z")
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - RUN_START).total_seconds()


def check_one_mapping_per_source(ctx: Context, mappings: tuple[EventSourceMapping, ...]) -> None:
    seen: set[tuple[str, str]] = set()
    for m in mappings:
        if (m.kind, m.source) in seen and m.source:
            error = ctx.doc.error(
                ("event_source_mappings", m.index, "source"),
                f"a second mapping reading {m.kind} {m.source} is not simulated yet; "
                "this scenario waits for that feature",
            )
            ctx.errors.append(replace(error, waits_for="several mappings on one source"))
        seen.add((m.kind, m.source))
