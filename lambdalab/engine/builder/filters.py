"""An event source mapping's `filter_criteria`: the checks CreateEventSourceMapping makes on FilterCriteria,
and the patterns engine/filters.py matches (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html).
"""

from __future__ import annotations

from typing import Any

from lambdalab import limits
from lambdalab.engine.builder.context import Context, KeyPath
from lambdalab.engine.filters import COMPARE
from lambdalab.engine.model import FilterPattern, FilterValue
from lambdalab.inputs.errors import did_you_mean

# What a filter may look at: the record's own fields, as each source's event carries them
# (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs-filtering.html, .../with-kinesis-filtering.html,
# .../with-ddb-filtering.html).
FIELDS = {
    "queue": (
        "body",
        "attributes",
        "messageAttributes",
        "messageId",
        "receiptHandle",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ),
    "kinesis": (
        "data",
        "partitionKey",
        "sequenceNumber",
        "kinesisSchemaVersion",
        "approximateArrivalTimestamp",
        "eventSource",
        "eventSourceARN",
        "eventID",
        "eventName",
        "eventVersion",
        "invokeIdentityArn",
        "awsRegion",
    ),
    "dynamodb": ("dynamodb", "eventID", "eventName", "eventVersion", "eventSource", "eventSourceARN", "awsRegion"),
}
OPERATORS = ("prefix", "numeric", "exists")
NOT_SIMULATED = ("anything-but", "suffix", "equals-ignore-case", "wildcard", "cidr")


def filter_criteria(ctx: Context, path: KeyPath, given: Any, source: str) -> tuple[FilterPattern, ...]:
    """The mapping's filters; `source` is "queue", "kinesis" or "dynamodb"."""
    if given is None:
        return ()
    where = (*path, "filter_criteria")
    if len(given) > limits.FILTERS_PER_MAPPING:
        ctx.fail(
            where,
            f"{len(given)} filters: a mapping has at most {limits.FILTERS_PER_MAPPING} (the default quota; "
            f"{limits.FILTERING})",
        )
    patterns = []
    for index, pattern in enumerate(given):
        at = (*where, index)
        for key in pattern:
            if key not in FIELDS[source]:
                what = {"queue": "an SQS message", "kinesis": "a Kinesis record", "dynamodb": "a DynamoDB record"}
                ctx.fail(
                    (*at, key),
                    f"{what[source]} has no field {key!r}{did_you_mean(key, list(FIELDS[source]))}; "
                    f"a filter may look at {', '.join(FIELDS[source])} ({limits.FILTERING})",
                )
        patterns.append(_pattern(ctx, at, pattern))
    return tuple(patterns)


def _pattern(ctx: Context, path: KeyPath, given: dict[str, Any]) -> FilterPattern:
    if not given:
        ctx.fail(path, f"an empty pattern matches nothing useful: name a field and its values ({limits.FILTERING})")
    fields: list[tuple[str, FilterPattern | tuple[FilterValue, ...]]] = []
    for key, value in given.items():
        if isinstance(value, dict):
            fields.append((key, _pattern(ctx, (*path, key), value)))
        elif isinstance(value, list) and value:
            fields.append((key, tuple(_value(ctx, (*path, key, i), v) for i, v in enumerate(value))))
        else:
            ctx.fail(
                (*path, key),
                f"{key}: a filter's leaf is a list of the values that match, e.g. [order] or "
                f'[{{prefix: "eu-"}}], not {value!r} ({limits.FILTERING})',
            )
    return FilterPattern(tuple(fields))


def _value(ctx: Context, path: KeyPath, given: Any) -> FilterValue:
    if not isinstance(given, dict):
        return FilterValue("equals", given)
    if len(given) != 1:
        ctx.fail(path, f'one operator per item, e.g. {{prefix: "eu-"}} ({limits.FILTERING})')
        return FilterValue("equals", given)
    ((name, value),) = given.items()
    if name in NOT_SIMULATED:
        ctx.fail(path, f"the {name!r} filter operator is not simulated yet (lambdalab knows {', '.join(OPERATORS)})")
    elif name == "prefix":
        if isinstance(value, str):
            return FilterValue("prefix", value)
        ctx.fail(path, f"prefix takes text, not {value!r}")
    elif name == "exists":
        if isinstance(value, bool):
            return FilterValue("exists", value)
        ctx.fail(path, f"exists takes true or false, not {value!r}")
    elif name == "numeric":
        comparisons = _numeric(value)
        if comparisons is not None:
            return FilterValue("numeric", comparisons)
        ctx.fail(
            path,
            f'numeric takes one or two comparisons, e.g. [">=", 100] or [">", 0, "<=", 5], not {value!r} '
            f"(operators: {', '.join(COMPARE)})",
        )
    else:
        ctx.fail(path, f"unknown filter operator {name!r}{did_you_mean(name, list(OPERATORS))} ({limits.FILTERING})")
    return FilterValue("equals", given)


def _numeric(value: Any) -> tuple[tuple[str, float], ...] | None:
    if not isinstance(value, list) or len(value) not in (2, 4):
        return None
    pairs = tuple(zip(value[::2], value[1::2]))
    for op, bound in pairs:
        if (
            not isinstance(op, str)
            or op not in COMPARE
            or isinstance(bound, bool)
            or not isinstance(bound, (int, float))
        ):
            return None
    return pairs
