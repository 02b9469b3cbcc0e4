"""CloudFront's triggers: Lambda@Edge functions (a published version of a function of the scenario)
and CloudFront Functions, associated with a cache behaviour's four triggers.

An association is refused as CloudFront refuses it: the rules themselves are in `engine/edge.py`
(association_problems), which also runs the associations; this part ties them to the scenario's keys.
"""

from __future__ import annotations

from typing import Any

from lambdalab.engine import edge
from lambdalab.engine.builder.context import Context, KeyPath, refuse_isolated
from lambdalab.engine.builder.permissions import trusts
from lambdalab.engine.model import Account, EdgeAssociation, Function
from lambdalab.engine.units import parse_size
from lambdalab.inputs.errors import did_you_mean


def edge_associations(
    ctx: Context, items: list[dict[str, Any]], functions: dict[str, Function], account: Account
) -> dict[str, EdgeAssociation]:
    """Lambda@Edge associations, refused as CloudFront refuses them (edge.association_problems)."""
    found: dict[str, EdgeAssociation] = {}
    for index, item in enumerate(items):
        path = ("edge", index)
        trigger = item["trigger"]
        if trigger in found:
            ctx.fail(
                (*path, "trigger"),
                f"a cache behaviour has at most one function on {trigger} ({edge.CF_RESTRICTIONS})",
            )
        if ("function" in item) == ("cloudfront_function" in item):
            ctx.fail(path, "give either function (Lambda@Edge, NAME:VERSION) or cloudfront_function")
            continue
        if "cloudfront_function" in item:
            found[trigger] = _cloudfront_function(
                ctx, (*path, "cloudfront_function"), trigger, item["cloudfront_function"]
            )
            continue
        name, _, version = item["function"].partition(":")
        fn = functions.get(name)
        if fn is None:
            ctx.fail((*path, "function"), f"no function named {name!r}{did_you_mean(name, list(functions))}")
            continue
        if fn.tenant_isolation:
            refuse_isolated(ctx, (*path, "function"), name, "CloudFront")
            continue
        if version not in fn.versions:
            given = (
                "$LATEST"
                if version in ("", "$LATEST")
                else f"the alias {version}"
                if version in fn.aliases
                else repr(version)
            )
            ctx.fail(
                (*path, "function"),
                f"a trigger needs a published version such as {name}:1, not {given}; "
                f"{name} has {'version(s) ' + ', '.join(fn.versions) if fn.versions else 'no published versions'} "
                f"({edge.CF_RESTRICTIONS})",
            )
            continue
        published = fn.versions[version]
        trusted = published.role_trust is None or trusts(published.role_trust, edge.EDGE_SERVICE)
        for problem in edge.lambda_at_edge_problems(trigger, published, account.region, trusted):
            ctx.fail((*path, "function"), f"{item['function']}: {problem}")
        found[trigger] = EdgeAssociation(trigger, name, version)
    kinds = {a.cloudfront_function for t, a in found.items() if t.startswith("viewer")}
    if len(kinds) > 1:
        ctx.fail(
            ("edge",),
            "CloudFront Functions and Lambda@Edge functions cannot share a cache behaviour's viewer "
            f"triggers; use one kind for both ({edge.CF_RESTRICTIONS})",
        )
    return found


def _cloudfront_function(ctx: Context, path: KeyPath, trigger: str, data: dict[str, Any]) -> EdgeAssociation:
    size = 0
    if "size" in data:
        try:
            size = parse_size(data["size"])
        except ValueError as exc:
            ctx.fail((*path, "size"), str(exc))
    for problem in edge.cloudfront_function_problems(trigger, size):
        ctx.fail(path, problem)
    return EdgeAssociation(trigger, data["name"], "", cloudfront_function=True)
