"""What the scenario sends: requests to a function (one of its versions or aliases, synchronously or
asynchronously), messages to a queue, topic, bus or stream, and viewer requests to CloudFront's
triggers, with their events, arrivals and partition keys or message groups.

Traffic is built last among the parts it names (`Context.targets`), and within lambdalab's own bound
on how many requests one run simulates.
"""

from __future__ import annotations

import json
from typing import Any

from lambdalab import limits
from lambdalab.engine import edge
from lambdalab.engine.behaviour import MISSING, lookup
from lambdalab.engine.builder.context import Context, KeyPath, duration, event, json_path
from lambdalab.engine.builder.durable import callback_traffic, durable_traffic
from lambdalab.engine.builder.sources import check_items
from lambdalab.engine.model import Function, KeyRule, Traffic
from lambdalab.engine.tenant_ids import tenant_id_problem
from lambdalab.engine.traffic import arrivals_by
from lambdalab.engine.units import parse_rate
from lambdalab.inputs.errors import did_you_mean

SENT_TO = ("queue", "topic", "bus", "stream", "edge")  # traffic targets that are not functions
# lambdalab's own bound on one run, not AWS's: past it a typo (a rate of 1e9/s) would run for days
# instead of being an error (the engine runs about 250,000 requests a second: benchmarks/engine.py).
MAX_REQUESTS = 10_000_000


def traffic(ctx: Context, index: int, data: dict[str, Any], functions: dict[str, Function]) -> Traffic:
    path = ("traffic", index)
    target = data["target"]
    kind, _, name = target.partition(":")
    if kind == "callback":
        callback_traffic(ctx, path, data, functions)
    elif kind in SENT_TO:
        known = ctx.targets[kind]
        if name not in known and kind == "edge":
            ctx.fail(
                (*path, "target"),
                f"no function is associated with the {name!r} trigger; the edge section has "
                f"{', '.join(known) or 'none'}",
            )
        elif name not in known:
            ctx.fail((*path, "target"), f"no {kind} named {name!r}{did_you_mean(name, list(known))}")
        if "invocation" in data:
            how = (
                "its mapping reads them"
                if kind == "stream"
                else "CloudFront calls the function synchronously"
                if kind == "edge"
                else f"a {kind}'s functions are invoked asynchronously"
            )
            ctx.fail(
                (*path, "invocation"), f"messages sent to a {kind} are not invocations; remove 'invocation' ({how})"
            )
    elif ":" in target:
        function, _, qualifier = target.partition(":")
        fn = functions.get(function)
        if fn is None:
            ctx.fail((*path, "target"), f"no function named {function!r}{did_you_mean(function, list(functions))}")
        elif qualifier != "$LATEST" and qualifier not in fn.versions and qualifier not in fn.aliases:
            qualifiers = ["$LATEST", *fn.versions, *fn.aliases]
            ctx.fail(
                (*path, "target"),
                f"{function} has no version or alias {qualifier!r}{did_you_mean(qualifier, qualifiers)}; "
                f"it has {', '.join(qualifiers)}",
            )
    elif target not in functions:
        ctx.fail(
            (*path, "target"),
            f"no function named {target!r}{did_you_mean(target, list(functions))}; "
            "a queue target is written queue:NAME",
        )
    has_rate, has_burst = "rate" in data, "burst" in data
    if has_rate == has_burst:
        ctx.fail(path, "give either 'rate' (with 'for') or 'burst' (with 'at')")
    if has_rate and "for" not in data:
        ctx.fail(path, "missing required key 'for': how long the rate lasts, such as 60s")
    for a, b in (
        ("rate", "at"),
        ("burst", "ramp_to"),
        ("burst", "for"),
        ("burst", "arrivals"),
        ("event", "events"),
        ("message", "event"),
        ("message", "events"),
    ):
        if a in data and b in data:
            ctx.fail((*path, b), f"'{b}' does not go with '{a}'")
    invocation = data.get("invocation", "sync")
    default = (
        f"cloudfront-{name}" if kind == "edge" and name in edge.TRIGGERS else {}
    )  # CloudFront's event for the trigger
    events = (
        tuple(event(ctx, (*path, "events", i), e) for i, e in enumerate(data["events"]))
        if "events" in data
        else (
            event(
                ctx,
                (*path, "message" if "message" in data else "event"),
                data.get("message", data.get("event", default)),
            ),
        )
    )
    if invocation == "async":
        for i, sent in enumerate(events):
            size = len(json.dumps(sent, separators=(",", ":")).encode())
            if size > limits.ASYNC_PAYLOAD_MAX_BYTES:
                ctx.fail(
                    (*path, "events", i) if "events" in data else (*path, "event"),
                    f"{size} bytes is above the asynchronous payload limit of {limits.ASYNC_PAYLOAD_MAX_BYTES} bytes",
                )
    start = duration(ctx, (*path, "start"), data.get("start"), 0.0)
    if has_burst:
        start = duration(ctx, (*path, "at"), data.get("at"), 0.0)
    rate = _rate(ctx, (*path, "rate"), data["rate"]) if has_rate else 0.0
    ramp_to = _rate(ctx, (*path, "ramp_to"), data["ramp_to"]) if "ramp_to" in data else 0.0
    base, _, qualifier = target.partition(":") if kind not in (*SENT_TO, "callback") else (target, "", "")
    execution_name, name_path = durable_traffic(ctx, path, data, functions.get(base), events)
    if kind == "callback":
        execution_name = data.get("execution", "")
    return Traffic(
        index=index,
        target=base,
        qualifier=qualifier,
        invocation=invocation,
        events=events,
        rate=rate,
        ramp_to=ramp_to,
        start=start,
        end=start + duration(ctx, (*path, "for"), data.get("for"), 0.0),
        poisson=data.get("arrivals") == "poisson",
        burst=data.get("burst", 0),
        name=data.get("name", ""),
        principal=data.get("principal", ""),
        source_arn=data.get("source_arn", ""),
        source_account=str(data.get("source_account", "")),
        key=_key_rule(ctx, path, data, kind, ctx.targets.get(kind, {}).get(name), events),
        tenant=_tenant_rule(ctx, path, data, None if kind in SENT_TO else functions.get(base)),
        execution_name=execution_name,
        execution_name_path=name_path,
        callback=data.get("callback", ""),
        outcome=data.get("outcome", "success") if kind == "callback" else "",
    )


def check_traffic_volume(ctx: Context, traffic: tuple[Traffic, ...], duration: float) -> None:
    """What the traffic sends within the run, in all, stays within what one run simulates."""
    total = 0.0
    for item in traffic:
        count = requests_sent(item, duration)
        total += count
        if total > MAX_REQUESTS:
            others = f" here, {total:,.0f} in all," if total > count else ""
            fix = "a smaller burst" if item.burst else "a lower rate or a shorter 'for'"
            ctx.fail(
                ("traffic", item.index, "burst" if item.burst else "rate"),
                f"{count:,.0f} requests{others} is more than one run simulates ({MAX_REQUESTS:,}): {fix}",
            )
            return


def requests_sent(traffic: Traffic, duration: float) -> float:
    """About how many requests a traffic item sends in a run of `duration` seconds."""
    if traffic.burst:
        return traffic.burst
    return arrivals_by(traffic, max(0.0, min(traffic.end, duration) - traffic.start))


def _rate(ctx: Context, path: KeyPath, value: Any) -> float:
    try:
        return parse_rate(value)
    except ValueError as exc:
        ctx.fail(path, str(exc))
        return 0.0


def _tenant_rule(ctx: Context, path: KeyPath, data: dict[str, Any], fn: Function | None) -> KeyRule | None:
    """Each request's tenant id: required by a function in tenant isolation mode, refused by any other
    (InvalidParameterValueException for each request, so the scenario is refused as Invoke would refuse
    them: https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation-troubleshooting.html)."""
    given = [key for key in ("tenant", "tenants") if key in data]
    if fn is None or not fn.tenant_isolation:
        for key in given:
            ctx.fail(
                (*path, key),
                f"{fn.name} is not in tenant isolation mode, and Lambda refuses a tenant id for it "
                "(InvalidParameterValueException): remove it, or give the function tenant_isolation: true"
                if fn is not None
                else f"{key} is for traffic to a function in tenant isolation mode",
            )
        return None
    if not given:
        ctx.fail(
            path,
            f"{fn.name} is in tenant isolation mode: every request needs a tenant id (else "
            "InvalidParameterValueException); give tenant (a JSON path such as $.customer, or one fixed id) "
            f"or tenants: N ({limits.TENANT})",
        )
        return None
    if len(given) == 2:
        ctx.fail((*path, "tenants"), "'tenants' does not go with 'tenant'")
    if "tenants" in data:
        return KeyRule(count=data["tenants"])
    value = data["tenant"]
    if value.startswith("$"):
        return KeyRule(path=json_path(value))  # an event without an id there is refused when it is sent
    problem = tenant_id_problem(value)
    if problem:
        ctx.fail((*path, "tenant"), f"{problem} ({limits.TENANT})")
    return KeyRule(fixed=value)


def _key_rule(
    ctx: Context, path: KeyPath, data: dict[str, Any], kind: str, target: Any, events: tuple[Any, ...]
) -> KeyRule | None:
    """A stream record's partition key, or a FIFO message's group id: from the event, fixed, or cycling."""
    fifo = kind == "queue" and target is not None and target.fifo
    names = (
        ("partition_key", "partition_keys") if kind == "stream" else ("message_group", "message_groups") if fifo else ()
    )
    for key in ("partition_key", "partition_keys", "message_group", "message_groups"):
        if key in data and key not in names:
            ctx.fail(
                (*path, key),
                f"{key} is for traffic to a {'stream' if key.startswith('partition') else 'FIFO queue'}",
            )
    if not names:
        return None
    by, count = names
    if kind == "stream" and target is not None and target.kind == "dynamodb":
        paths = (
            [(*path, "events", i) for i in range(len(events))]
            if "events" in data
            else [(*path, "message" if "message" in data else "event")]
        )
        check_items(ctx, paths, target.key, events, target.name, by_traffic=by in data or count in data)
    if by in data and count in data:
        ctx.fail((*path, count), f"'{count}' does not go with '{by}'")
    if count in data:
        return KeyRule(count=data[count])
    value = data.get(by)
    if value is None:
        if fifo:
            ctx.fail(
                path,
                "every message sent to a FIFO queue needs a message group id: give message_group "
                "(a JSON path such as $.customer, or one fixed id) or message_groups: N",
            )
        return KeyRule()
    if not value.startswith("$"):
        return KeyRule(fixed=value)
    parts = json_path(value)
    for i, sent in enumerate(events):
        found = lookup(sent, parts)
        if found is MISSING or found is None or isinstance(found, (dict, list)):
            ctx.fail(
                (*path, by),
                f"{'event ' + str(i) + ' of events' if len(events) > 1 else 'the event'} has no "
                f"text or number at {value} to use as the {by.replace('_', ' ')}",
            )
            break
    return KeyRule(path=parts)
