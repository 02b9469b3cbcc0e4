"""A function's `extensions`: what each takes of Init, of each invocation and of Shutdown (limits.EXTAPI)."""

from __future__ import annotations

from typing import Any

from lambdalab import limits
from lambdalab.engine.builder.context import Context, KeyPath, duration, refuse_beside_code_or_instances
from lambdalab.engine.model import Extension


def extensions(ctx: Context, path: KeyPath, given: Any, data: dict[str, Any]) -> tuple[Extension, ...]:
    if not given:
        return ()
    if len(given) > limits.EXTENSIONS_MAX:
        ctx.fail(path, f"{len(given)} extensions: a function has at most {limits.EXTENSIONS_MAX} ({limits.EXTAPI})")
    refuse_beside_code_or_instances(ctx, path, data, "extensions")
    names: set[str] = set()
    made = []
    for index, item in enumerate(given):
        at = (*path, index)
        if item["name"] in names:
            ctx.fail((*at, "name"), f"two extensions named {item['name']!r}: each has its own name")
        names.add(item["name"])
        made.append(
            Extension(
                name=item["name"],
                type=item.get("type", "external"),
                init=duration(ctx, (*at, "init"), item.get("init")),
                post_invoke=duration(ctx, (*at, "post_invoke"), item.get("post_invoke")),
                shutdown=duration(ctx, (*at, "shutdown"), item.get("shutdown")),
            )
        )
    return tuple(made)
