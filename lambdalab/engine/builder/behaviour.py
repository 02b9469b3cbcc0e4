"""What runs when a function is invoked: the model of its code (init and duration distributions,
error rules) or a reference to real code (`code:` and `handler:`).

The model of the code is what `engine/behaviour.py` draws from at run time; it is built here with the
checks that keep a run from stalling (no zero-length invocation) or drawing impossible durations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambdalab import limits
from lambdalab.engine.builder.context import Context, KeyPath, duration, json_path, resolve
from lambdalab.engine.model import Behaviour, Call, Distribution, ErrorRule, EventMatch, RealCodeRef, Send


def real_code(ctx: Context, path: KeyPath, data: dict[str, Any]) -> RealCodeRef | None:
    """`code:` (a folder, relative to the scenario file) and `handler:` go together."""
    if "code" not in data and "handler" not in data:
        return None
    if "code" not in data or "handler" not in data:
        missing = "handler" if "code" in data else "code"
        ctx.fail(path, f"missing required key {missing!r}: real code needs both `code:` (a folder) and `handler:`")
        return None
    folder = Path(ctx.doc.name).resolve().parent / data["code"]
    if not folder.is_dir():
        ctx.fail((*path, "code"), f"{data['code']!r} is not a folder (it is read relative to the scenario file)")
        return None
    behaviour = data.get("behaviour") or {}
    return RealCodeRef(folder, data["handler"], modelled_timing="duration" in behaviour)


def behaviour(ctx: Context, path: KeyPath, data: dict[str, Any]) -> Behaviour:
    for key in ("init", "duration"):
        if key not in data and data:
            ctx.fail(path, f"missing required key {key!r} (a duration such as 200ms, or a distribution)")
    errors = data.get("errors", [])
    rules = tuple(error_rule(rule) for rule in (errors if isinstance(errors, list) else [errors]))
    extra = data.get("cold_start_extra")
    run_time = distribution(ctx, (*path, "duration"), data.get("duration", 0))
    if "duration" in data and max(run_time.a, run_time.b) <= 0:
        # Every invocation takes some time; at zero, a stream's failing batch would be retried forever
        # without virtual time moving.
        ctx.fail((*path, "duration"), "an invocation takes some time: give at least 1ms")
    return Behaviour(
        init=distribution(ctx, (*path, "init"), data.get("init", 0)),
        duration=run_time,
        cold_start_extra=distribution(ctx, (*path, "cold_start_extra"), extra) if extra is not None else None,
        cpu_bound=float(data.get("cpu_bound", 0.0)),
        measured_at=data.get("measured_at", limits.MEMORY_MIN_MB),
        threads=data.get("threads", 1),
        memory_used=data.get("memory_used", 64),
        errors=rules,
        sends=tuple(_send(ctx, (*path, "sends", i), ref) for i, ref in enumerate(data.get("sends") or [])),
        calls=tuple(
            Call(item["to"], distribution(ctx, (*path, "calls", i, "duration"), item.get("duration", 0)))
            for i, item in enumerate(data.get("calls") or [])
        ),
    )


SEND_KINDS = ("queue", "topic", "bus", "function")


def _send(ctx: Context, path: KeyPath, item: str | dict[str, Any]) -> Send:
    """A target the code sends to: a standard queue or topic, a bus, or a function (invoked asynchronously,
    or synchronously with `{target: function:NAME, invocation: sync}`). FIFO targets are refused: the modelled
    code gives no message group or deduplication id."""
    if isinstance(item, str):
        ref, sync = item, False
        resolved = resolve(ctx, path, ref, SEND_KINDS)
    else:  # only a function is invoked; queues, topics and buses are sent to
        ref, sync = item["target"], item.get("invocation") == "sync"
        resolved = resolve(ctx, (*path, "target"), ref, ("function",))
    if resolved is None:
        return Send("")
    kind, name = resolved
    if kind in ("queue", "topic") and ctx.targets[kind][name].fifo:
        ctx.fail(path, f"{ref!r} is FIFO; the modelled code sends to a standard queue or topic only")
    return Send(f"{kind}:{name}", sync)


def distribution(ctx: Context, path: KeyPath, value: Any) -> Distribution:
    if not isinstance(value, dict):
        return Distribution("fixed", duration(ctx, path, value))
    d = {k: duration(ctx, (*path, k), v) for k, v in value.items() if k != "dist"}
    kind = value.get("dist")
    if kind is None:
        if d.get("jitter", 0) > d["mean"]:
            ctx.fail((*path, "jitter"), "jitter is larger than the mean, which would allow negative durations")
        return Distribution("jitter", d["mean"], d.get("jitter", 0.0))
    if kind == "exponential":
        return Distribution("exponential", d["mean"])
    if kind == "uniform":
        if d["min"] > d["max"]:
            ctx.fail((*path, "min"), "min is larger than max")
        return Distribution("uniform", d["min"], d["max"])
    if not 0 < d["median"] < d["p99"]:
        ctx.fail((*path, "p99"), "a lognormal needs 0 < median < p99")
        return Distribution("fixed", d["median"])
    return Distribution("lognormal", d["median"], d["p99"])


def error_rule(data: dict[str, Any]) -> ErrorRule:
    when = data.get("when")
    match = None
    if when:
        match = EventMatch(
            json_path(when["path"]),
            when.get("equals"),
            "equals" in when,
            tuple(when["in"]) if "in" in when else None,
            when.get("exists"),
        )
    return ErrorRule(
        data.get("rate"),
        data.get("every"),
        data.get("on_cold_start"),
        match,
        data.get("type", "Exception"),
        data.get("message", "Simulated failure"),
    )
