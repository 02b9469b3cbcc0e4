"""Event source mappings: a function reading an SQS queue, a Kinesis stream or a DynamoDB stream, with
the checks CreateEventSourceMapping makes before it accepts one (ESM).

A mapping refers to a queue or stream and a function built before it, and to the account whose
execution role must be allowed to read the source.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from lambdalab import limits
from lambdalab.engine.builder.context import Context, KeyPath, duration, refuse_isolated, resolve
from lambdalab.engine.builder.filters import filter_criteria
from lambdalab.engine.builder.permissions import check_role_reads
from lambdalab.engine.model import Account, EventSourceMapping, Function, ProvisionedPollers, Queue, Stream
from lambdalab.inputs.errors import did_you_mean

STREAM_ONLY = (
    "parallelization_factor",
    "bisect_on_error",
    "maximum_retry_attempts",
    "maximum_record_age",
    "on_failure",
    "starting_position",
    "starting_position_timestamp",
    "tumbling_window",
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
    elif fn.tenant_isolation:
        refuse_isolated(ctx, (*path, "function"), fn.name, "an event source mapping")
    wrong = STREAM_ONLY if kind == "queue" else ("maximum_concurrency", "provisioned_pollers")
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
    records = "queue" if kind == "queue" else source.kind if isinstance(source, Stream) else "kinesis"
    filters = filter_criteria(ctx, path, data.get("filter_criteria"), records)
    common = dict(
        index=index,
        kind=kind,
        source=name,
        function=data["function"],
        batching_window=window,
        report_batch_item_failures=bool(data.get("report_batch_item_failures")),
        enabled=data.get("enabled", True),
        filters=filters,
    )
    if source is not None and fn is not None:
        check_role_reads(ctx, path, fn, source, account)
    if kind == "queue":
        if "provisioned_pollers" in data and any(
            v.behaviour.sends for f in functions.values() for v in (f, *f.versions.values())
        ):
            ctx.fail(
                (*path, "provisioned_pollers"),
                "provisioned pollers in a scenario whose code sends (request chains) are not simulated yet",
            )
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
    return EventSourceMapping(
        **common,
        batch_size=batch,
        maximum_concurrency=data.get("maximum_concurrency"),
        provisioned_pollers=_provisioned_pollers(ctx, path, data),
    )


def _provisioned_pollers(ctx: Context, path: KeyPath, data: dict[str, Any]) -> ProvisionedPollers | None:
    """Provisioned mode's bounds, as ProvisionedPollerConfig takes them (limits.POLLERS_API)."""
    given = data.get("provisioned_pollers")
    if given is None:
        return None
    where = (*path, "provisioned_pollers")
    if "maximum_concurrency" in data:
        # AWS's words (SQS_PARAMS); the API's error text is UNCONFIRMED (shared/reference/lambda-2026.md §4.1).
        ctx.fail(
            where,
            "You cannot use Provisioned Mode and Maximum concurrency together: with provisioned_pollers, "
            f"the maximum pollers control concurrency; remove maximum_concurrency ({limits.SQS_PARAMS})",
        )
    minimum = given.get("minimum", limits.SQS_MIN_POLLERS_DEFAULT)
    maximum = given.get("maximum", limits.SQS_MAX_POLLERS_DEFAULT)
    if maximum > limits.SQS_MAX_POLLERS_MAX:
        ctx.fail(
            (*where, "maximum"),
            f"{maximum} is above the maximum of {limits.SQS_MAX_POLLERS_MAX:,} pollers ({limits.POLLERS_API})",
        )
    if minimum > maximum:
        ctx.fail(
            where,
            f"minimum ({minimum}) is above maximum ({maximum}): the pollers are kept between them "
            f"({limits.POLLERS_API})",
        )
    return ProvisionedPollers(minimum, maximum)


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
        tumbling_window=_tumbling_window(ctx, (*path, "tumbling_window"), data.get("tumbling_window")),
    )


def _tumbling_window(ctx: Context, path: KeyPath, value: Any) -> int:
    """TumblingWindowInSeconds: whole seconds up to 900, 0 for none (ESM, KIN_WINDOWS)."""
    seconds = duration(ctx, path, value)
    if seconds != int(seconds):
        ctx.fail(path, f"{seconds:g} s: a tumbling window is a whole number of seconds ({limits.ESM})")
    elif seconds > limits.TUMBLING_WINDOW_MAX_S:
        ctx.fail(
            path,
            f"{seconds:g} s is above the maximum of {limits.TUMBLING_WINDOW_MAX_S} s (15m) ({limits.KIN_WINDOWS})",
        )
    return int(seconds)


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
