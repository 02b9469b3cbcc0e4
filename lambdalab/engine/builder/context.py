"""What every part of the scenario builder shares: the document, the problems found so far, the
named things a reference may name, and the readers of values any part may hold (durations,
references, sample events, JSON paths).

The parts take one Context rather than being methods of one class, so each part's module says all it
needs in its imports and signatures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lambdalab import content
from lambdalab.engine.model import JsonPath
from lambdalab.engine.units import parse_duration
from lambdalab.inputs import Document, InputError
from lambdalab.inputs.errors import did_you_mean

KeyPath = tuple[str | int, ...]  # where a value is in the scenario: ("functions", "api", "memory"), ("traffic", 0)


@dataclass
class Context:
    """One build: the checked document, and what the parts found in it."""

    doc: Document
    errors: list[InputError] = field(default_factory=list)
    # The named things a reference may name, by kind ("queue", "topic", "bus", "stream", "function", "edge"),
    # filled in as they are built: a part sees only the kinds built before it.
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def fail(self, path: KeyPath, message: str) -> None:
        self.errors.append(self.doc.error(path, message))


def refuse_beside_code_or_instances(ctx: Context, path: KeyPath, data: dict[str, Any], what: str) -> None:
    """A modelled feature that lambdalab does not simulate yet for real code or on Managed Instances."""
    for key, how in (("code", "with real code"), ("managed_instances", "on Managed Instances")):
        if key in data:
            ctx.fail(path, f"{what} for a function {how}: not simulated yet")


def refuse_isolated(ctx: Context, path: KeyPath, function: str, how: str) -> None:
    """A function in tenant isolation mode is invoked only with a tenant id, which `how` (a topic, a
    mapping, a destination ...) never sends: Lambda refuses each such invoke, so the scenario is refused
    (https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation.html)."""
    data = ctx.targets.get("function", {}).get(function)
    if isinstance(data, dict) and data.get("tenant_isolation") is True:
        ctx.fail(
            path,
            f"{function} is in tenant isolation mode, and {how} invokes it without a tenant id "
            "(InvalidParameterValueException); invoke it from traffic with tenant: or tenants:",
        )


def duration(ctx: Context, path: KeyPath, value: Any, default: float = 0.0) -> float:
    if value is None:
        return default
    try:
        return parse_duration(value)
    except ValueError as exc:
        ctx.fail(path, str(exc))
        return default


def positive_duration(ctx: Context, path: KeyPath, value: Any, default: float) -> float:
    seconds = duration(ctx, path, value, default)
    if seconds <= 0:
        ctx.fail(path, "must be above zero")
    return seconds


def resolve(ctx: Context, path: KeyPath, ref: str, kinds: tuple[str, ...]) -> tuple[str, str] | None:
    """("queue", "dlq") for "dlq" or "queue:dlq", if exactly one thing of an allowed kind has that name."""
    kind, _, name = ref.partition(":") if ":" in ref else ("", "", ref)
    if kind and kind not in kinds:
        ctx.fail(path, f"{ref!r}: a {kind} cannot be used here; use one of: {', '.join(kinds)}")
        return None
    found = [k for k in ((kind,) if kind else kinds) if name in ctx.targets.get(k, {})]
    if len(found) > 1:
        ctx.fail(path, f"{ref!r} names a {found[0]} and a {found[1]}; write {found[0]}:{name} or {found[1]}:{name}")
        return None
    if not found:
        known = [n for k in kinds for n in ctx.targets.get(k, {})]
        ctx.fail(path, f"no {' or '.join(kinds)} named {name!r} in this scenario{did_you_mean(name, known)}")
        return None
    return found[0], name


def event(ctx: Context, path: KeyPath, value: Any) -> Any:
    """An inline event, or the name of a sample event shipped in assets/events/."""
    if not isinstance(value, str):
        return value
    samples = content.sample_events()
    if value not in samples:
        ctx.fail(
            path,
            f"no sample event named {value!r}{did_you_mean(value, list(samples))}; "
            "write the event inline as a mapping, or use a sample name",
        )
        return {}
    return json.loads(samples[value].read_text("utf-8"))


def json_path(path: str) -> JsonPath:
    """ "$.Records[0].body" -> ("Records", 0, "body")."""
    return tuple(int(p[1:-1]) if p.startswith("[") else p for p in _json_path_parts(path))


def _json_path_parts(path: str) -> list[str]:
    """ "$.Records[0].body" -> ["Records", "[0]", "body"]."""
    parts, token = [], ""
    for ch in path[1:]:
        if ch in ".[":
            if token:
                parts.append(token)
            token = "[" if ch == "[" else ""
        elif ch == "]":
            parts.append(token + "]")
            token = ""
        else:
            token += ch
    if token:
        parts.append(token)
    return parts
