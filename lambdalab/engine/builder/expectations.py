"""The scenario's `expect` list: each one a CloudWatch figure of the account, a function (or one of its
versions), a queue, a stream, an event source mapping or a capacity provider, compared with a value when the run ends.

The figures an expectation may name are the report's own (`engine/metrics.py`, EXPECTABLE_*), so a
misspelt metric is refused here rather than found missing after the run.
"""

from __future__ import annotations

import math
from typing import Any

from lambdalab.engine.builder.context import Context, KeyPath
from lambdalab.engine.metrics import (
    EXPECTABLE_ACCOUNT,
    EXPECTABLE_CAPACITY_PROVIDER,
    EXPECTABLE_FUNCTION,
    EXPECTABLE_MAPPING,
    EXPECTABLE_QUEUE,
    EXPECTABLE_STREAM,
    EXPECTABLE_VERSION,
)
from lambdalab.engine.model import EventSourceMapping, Expectation, Function
from lambdalab.inputs.errors import did_you_mean


def expectation(ctx: Context, index: int, data: dict[str, Any], functions: dict[str, Function]) -> Expectation:
    path = ("expect", index)
    metric = data["metric"]
    head = metric.split(".")[0]
    about = [key for key in ("function", "queue", "stream", "mapping", "capacity_provider") if key in data]
    if len(about) > 1:
        ctx.fail(
            path,
            "an expectation is about one function, queue, stream, mapping or capacity provider, "
            f"not {' and '.join(about)}",
        )
    known = EXPECTABLE_ACCOUNT
    for key, things, figures in (
        ("function", functions, EXPECTABLE_FUNCTION),
        ("queue", ctx.targets["queue"], EXPECTABLE_QUEUE),
        ("stream", ctx.targets["stream"], EXPECTABLE_STREAM),
        ("capacity_provider", ctx.targets["capacity_provider"], EXPECTABLE_CAPACITY_PROVIDER),
    ):
        if key in data:
            if data[key] not in things:
                ctx.fail((*path, key), f"no {key} named {data[key]!r}{did_you_mean(data[key], list(things))}")
            known = figures
            break
    if "mapping" in data:
        known = EXPECTABLE_MAPPING
        count = len(ctx.doc.data.get("event_source_mappings") or [])
        if data["mapping"] >= count:
            ctx.fail(
                (*path, "mapping"),
                f"no mapping {data['mapping']}: event_source_mappings has "
                + (f"{count}, numbered from 0" if count else "none"),
            )
    if "version" in data:
        known = _expected_version(ctx, path, data, functions)
    if head not in known:
        per_version = " for one version, which has only Invocations and Errors" if "version" in data else ""
        ctx.fail((*path, "metric"), f"unknown metric {metric!r}{per_version}{did_you_mean(head, list(known))}")
    elif known[head] and metric == head:
        ctx.fail((*path, "metric"), f"{head} has parts; write one of: {', '.join(f'{head}.{p}' for p in known[head])}")
    elif "." in metric and metric.split(".", 1)[1] not in known[head]:
        ctx.fail((*path, "metric"), f"{head} has the parts: {', '.join(known[head]) or 'none'}")
    if head == "tenants" and "function" in data and data["function"] in functions:
        if not functions[data["function"]].tenant_isolation:
            ctx.fail(
                (*path, "metric"), f"{data['function']} is not in tenant isolation mode: it has no tenants figures"
            )
    if head in RECURSION_FIGURES and not _follows_chains(ctx, functions):
        ctx.fail(
            (*path, "metric"),
            f"{head} is reported only when request chains are followed: give a function `behaviour.sends` "
            "(or set account.recursion_via_destinations)",
        )
    if head == "durable" and data.get("function") in functions and functions[data["function"]].durable is None:
        ctx.fail((*path, "metric"), f"{data['function']} is not a durable function: it has no durable figures")
    value = data["value"]
    if isinstance(value, float) and not math.isfinite(value):
        ctx.fail((*path, "value"), "must be a finite number")
    return Expectation(
        index,
        metric,
        data["op"],
        value,
        data.get("function"),
        data.get("queue"),
        data.get("why", ""),
        data.get("stream"),
        data.get("version"),
        data.get("mapping"),
        data.get("capacity_provider"),
    )


RECURSION_FIGURES = ("RecursiveInvocationsDropped", "rejected", "recursion")  # engine/recursion.py's


def _follows_chains(ctx: Context, functions: dict[str, Function]) -> bool:
    """As Scenario.follows_chains, before the scenario is built."""
    account = ctx.doc.data.get("account") or {}
    return bool(account.get("recursion_via_destinations")) or any(
        v.behaviour.sends for fn in functions.values() for v in (fn, *fn.versions.values())
    )


def _expected_version(
    ctx: Context, path: KeyPath, data: dict[str, Any], functions: dict[str, Function]
) -> dict[str, tuple[str, ...]]:
    """An expectation about one version of a function: the figures the report keeps per version."""
    fn = functions.get(data["function"]) if "function" in data else None
    if "function" not in data:
        ctx.fail((*path, "version"), "a version belongs to a function: add function: NAME")
    elif fn is not None and data["version"] not in ("$LATEST", *fn.versions):
        versions = ["$LATEST", *fn.versions]
        ctx.fail(
            (*path, "version"),
            f"{data['function']} has no version {data['version']!r}; "
            f"it has {', '.join(versions)}{did_you_mean(data['version'], versions)}",
        )
    return EXPECTABLE_VERSION


def check_window_expectations(
    ctx: Context, expect: tuple[Expectation, ...], mappings: tuple[EventSourceMapping, ...]
) -> None:
    """`windows.*` figures exist only for a stream whose mapping has a tumbling window."""
    windowed = {m.source for m in mappings if m.kind == "stream" and m.tumbling_window and m.enabled}
    for e in expect:
        if e.stream is not None and e.metric.startswith("windows.") and e.stream not in windowed:
            ctx.fail(
                ("expect", e.index, "metric"),
                f"{e.metric}: stream {e.stream} has no mapping with a tumbling_window, so no windows to count",
            )
