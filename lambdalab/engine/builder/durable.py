"""Durable functions: a function's `durable` block (DurableConfig and the modelled workflow, `steps`), and
what traffic says of durable executions (`execution_name`, and `callback:FUNCTION` targets).

Facts from https://docs.aws.amazon.com/lambda/latest/dg/durable-configuration.html (ExecutionTimeout 1 s -
366 days, retention 1-90 days) and https://docs.aws.amazon.com/lambda/latest/dg/durable-invoking.html (a
durable function is invoked by a qualified ARN); the SDK's defaults from aws-durable-execution-sdk-python
3.0.0 (retries.py, config.py).
"""

from __future__ import annotations

import re
from typing import Any

from lambdalab import limits
from lambdalab.engine.behaviour import MISSING, lookup
from lambdalab.engine.builder.behaviour import distribution
from lambdalab.engine.builder.context import Context, KeyPath, duration, json_path
from lambdalab.engine.model import DurableConfig, DurableOp, Function, JsonPath, RetryPolicy
from lambdalab.engine.units import format_duration, parse_size
from lambdalab.inputs.errors import did_you_mean

KINDS = ("step", "wait", "callback", "parallel", "map")
# The keys each kind of operation takes (besides its name).
KEYS = {
    "step": ("duration", "errors", "fails", "retry", "size", "on_error"),
    "wait": ("for",),
    "callback": ("timeout", "heartbeat_timeout", "submitter", "on_error"),
    "parallel": ("branches", "max_concurrency", "completion", "on_error"),
    "map": ("items", "do", "max_concurrency", "completion", "on_error"),
}
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # DurableExecutionName (API)
CALLBACK_OUTCOMES = ("success", "failure", "heartbeat")


def durable_config(ctx: Context, path: KeyPath, data: dict[str, Any], has_code: bool) -> DurableConfig:
    timeout = duration(ctx, (*path, "execution_timeout"), data.get("execution_timeout"), 1.0)
    _within(
        ctx,
        (*path, "execution_timeout"),
        timeout,
        limits.DURABLE_EXECUTION_TIMEOUT_MIN_S,
        limits.DURABLE_EXECUTION_TIMEOUT_MAX_S,
    )
    retention = duration(ctx, (*path, "retention"), data.get("retention"), float(limits.DURABLE_RETENTION_DEFAULT_S))
    _within(ctx, (*path, "retention"), retention, limits.DURABLE_RETENTION_MIN_S, limits.DURABLE_RETENTION_MAX_S)
    if "steps" not in data and not has_code:
        ctx.fail(path, "missing required key 'steps': the workflow the code runs (step, wait, callback, ...)")
    if "steps" in data and has_code:
        ctx.fail(
            (*path, "steps"),
            "a function with `code:` runs its handler's own workflow (the SDK's @durable_execution): "
            "remove `steps`, or `code:` to model the workflow instead",
        )
    steps = _ops(ctx, (*path, "steps"), data.get("steps") or [])
    return DurableConfig(timeout, retention, steps, bool(data.get("reuse_closed_names", False)))


def _within(ctx: Context, path: KeyPath, seconds: float, low: float, high: float) -> None:
    if not low <= seconds <= high:
        ctx.fail(
            path,
            f"{format_duration(seconds)} is outside {format_duration(low)} - {format_duration(high)} "
            f"({high / 86_400:g} days) ({limits.DF_CFG})",
        )


def _ops(ctx: Context, path: KeyPath, items: list[dict[str, Any]]) -> tuple[DurableOp, ...]:
    return tuple(_op(ctx, (*path, i), item) for i, item in enumerate(items))


def _op(ctx: Context, path: KeyPath, data: dict[str, Any]) -> DurableOp:
    kinds = [k for k in KINDS if k in data]
    if len(kinds) != 1:
        ctx.fail(path, f"an operation is one of {', '.join(KINDS)} with its name, such as {{step: charge}}")
        return DurableOp("step", "invalid")
    kind = kinds[0]
    for key in data:
        if key != kind and key not in KEYS[kind]:
            ctx.fail((*path, key), f"a {kind} takes {', '.join(KEYS[kind])}; not {key!r}")
    name = data[kind]
    if kind == "step":
        errors = data.get("errors") or {}
        if "errors" in data and "fails" in data:
            ctx.fail((*path, "fails"), "'fails' does not go with 'errors': give one of them")
        retry = data.get("retry") or {}
        policy = RetryPolicy(
            attempts=retry.get("attempts", 6),
            initial=duration(ctx, (*path, "retry", "initial"), retry.get("initial"), 5.0),
            max=duration(ctx, (*path, "retry", "max"), retry.get("max"), 60.0),
            backoff=float(retry.get("backoff", 2.0)),
            jitter=retry.get("jitter", "full"),
        )
        if policy.initial < 1:
            ctx.fail((*path, "retry", "initial"), "the SDK's delays are whole seconds: give at least 1s")
        size = parse_size(data.get("size", 0))  # the schema checked its form
        if size > limits.DURABLE_PAYLOAD_MAX_BYTES:
            ctx.fail(
                (*path, "size"),
                f"{size} bytes is above the {limits.DURABLE_PAYLOAD_MAX_BYTES} bytes a checkpointed result may be "
                "(the API's OperationUpdate.Payload)",
            )
        if policy.max < policy.initial:
            ctx.fail((*path, "retry", "max"), f"below the initial delay of {format_duration(policy.initial)}")
        return DurableOp(
            "step",
            name,
            duration=distribution(ctx, (*path, "duration"), data.get("duration", 0)),
            error_rate=float(errors.get("rate", 0.0)),
            error_type=errors.get("type", "Exception"),
            fails=data.get("fails", 0),
            retry=policy,
            size=size,
            on_error=data.get("on_error", "fail"),
        )
    if kind == "wait":
        if "for" not in data:
            ctx.fail(path, "missing required key 'for': how long the wait lasts, such as 3d")
        wait = duration(ctx, (*path, "for"), data.get("for"), limits.DURABLE_WAIT_MIN_S)
        if wait < limits.DURABLE_WAIT_MIN_S:
            ctx.fail(
                (*path, "for"), f"a wait lasts at least 1s (the SDK raises ValidationError below it) ({limits.DF})"
            )
        return DurableOp("wait", name, wait_s=wait)
    if kind == "callback":
        return DurableOp(
            "callback",
            name,
            duration=distribution(ctx, (*path, "submitter"), data.get("submitter", 0)),
            timeout=duration(ctx, (*path, "timeout"), data.get("timeout"), 0.0),
            heartbeat_timeout=duration(ctx, (*path, "heartbeat_timeout"), data.get("heartbeat_timeout"), 0.0),
            on_error=data.get("on_error", "fail"),
        )
    if kind == "parallel":
        if "branches" not in data:
            ctx.fail(path, "missing required key 'branches': a list of branches, each a list of operations")
        branches = tuple(_ops(ctx, (*path, "branches", i), b) for i, b in enumerate(data.get("branches") or []))
        return DurableOp(
            "parallel",
            name,
            branches=branches,
            items=len(branches),
            max_concurrency=data.get("max_concurrency", 0),
            completion=data.get("completion", "all_successful"),
            on_error=data.get("on_error", "fail"),
        )
    for key in ("items", "do"):
        if key not in data:
            ctx.fail(path, f"missing required key {key!r}: a map runs `do` for each of its `items`")
    return DurableOp(
        "map",
        name,
        branches=(_ops(ctx, (*path, "do"), data.get("do") or []),),
        items=data.get("items", 1),
        max_concurrency=data.get("max_concurrency", 0),
        completion=data.get("completion", "all_successful"),
        on_error=data.get("on_error", "fail"),
    )


def refuse_unqualified(ctx: Context, path: KeyPath, kind: str, name: str) -> None:
    """A destination, subscription or rule names a function without a qualifier: Lambda refuses to start a
    durable execution that way (DF_INV: an EventBridge rule targeting the bare function fails)."""
    written = ctx.targets.get("function", {}).get(name) if kind == "function" else None
    if isinstance(written, dict) and "durable" in written:
        ctx.fail(
            path,
            f"{name} is a durable function, invoked only by a qualified ARN (a version, alias or $LATEST); "
            f"Lambda refuses an invoke of its bare name ({limits.DF_INV})",
        )


def callback_names(ops: tuple[DurableOp, ...]) -> list[str]:
    """Every callback's name in a workflow, nested ones too."""
    names = []
    for op in ops:
        if op.kind == "callback":
            names.append(op.name)
        for branch in op.branches:
            names += callback_names(branch)
    return names


def durable_traffic(
    ctx: Context, path: KeyPath, data: dict[str, Any], fn: Function | None, events: tuple[Any, ...]
) -> tuple[str, JsonPath | None]:
    """A start of a durable function: it must be qualified, and its `execution_name` valid.
    Returns the name's pattern (or "" and a JSON path)."""
    if fn is None:
        return "", None
    if fn.durable is None:
        for key in ("execution_name", "execution", "callback", "outcome"):
            if key in data:
                ctx.fail((*path, key), f"{fn.name} is not a durable function (it has no `durable` block)")
        return "", None
    for key in ("execution", "callback", "outcome"):
        if key in data:
            ctx.fail((*path, key), f"{key!r} is for a callback:{fn.name} target, which completes a callback")
    if ":" not in data["target"]:
        ctx.fail(
            (*path, "target"),
            f"a durable function is invoked by a qualified ARN: write {fn.name}:$LATEST, a version or an alias "
            f"(an unqualified name is refused) ({limits.DF_INV})",
        )
    name = data.get("execution_name")
    if name is None:
        return "", None
    if name.startswith("$"):
        parts = json_path(name)
        for i, sent in enumerate(events):
            found = lookup(sent, parts)
            if found is MISSING or isinstance(found, (dict, list)) or not NAME.match(str(found)):
                ctx.fail(
                    (*path, "execution_name"),
                    f"{'event ' + str(i) + ' of events' if len(events) > 1 else 'the event'} has no name at "
                    f"{name}: an execution's name is 1-64 of A-Z a-z 0-9 _ -",
                )
                break
        return "", parts
    _check_name(ctx, (*path, "execution_name"), name)
    return name, None


def _check_name(ctx: Context, path: KeyPath, pattern: str) -> None:
    if not NAME.match(pattern.replace("{n}", "1")):
        ctx.fail(
            path, f"{pattern!r}: an execution's name is 1-64 of A-Z a-z 0-9 _ - (with {{n}}, the request's number)"
        )


def callback_traffic(ctx: Context, path: KeyPath, data: dict[str, Any], functions: dict[str, Function]) -> None:
    """`callback:FUNCTION` traffic: completes the named callback of each execution named."""
    function = data["target"].partition(":")[2]
    fn = functions.get(function)
    if fn is None or fn.durable is None:
        durable = [n for n, f in functions.items() if f.durable is not None]
        ctx.fail(
            (*path, "target"),
            f"no durable function named {function!r}{did_you_mean(function, durable)}; "
            f"durable functions: {', '.join(durable) or 'none'}",
        )
        return
    for key in ("execution", "callback"):
        if key not in data:
            ctx.fail(path, f"missing required key {key!r}: callback traffic names the execution and its callback")
    if "invocation" in data or "execution_name" in data:
        ctx.fail(path, "callback traffic completes a callback (SendDurableExecutionCallbackSuccess), not an invoke")
    if "execution" in data:
        _check_name(ctx, (*path, "execution"), data["execution"])
    names = callback_names(fn.durable.steps)
    if "callback" in data and data["callback"] not in names and fn.durable.steps:
        ctx.fail(
            (*path, "callback"),
            f"{function}'s workflow has no callback {data['callback']!r}{did_you_mean(data['callback'], names)}; "
            f"it has {', '.join(names) or 'none'}",
        )
