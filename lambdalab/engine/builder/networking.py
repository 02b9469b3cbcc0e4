"""A function's `vpc` settings: what its model's `calls` reach over the network (engine/networking.py)."""

from __future__ import annotations

from typing import Any

from lambdalab.engine.builder.context import Context, KeyPath, refuse_beside_code_or_instances
from lambdalab.engine.model import VpcConfig
from lambdalab.engine.networking import INTERNET

VPC = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html"


def vpc_config(ctx: Context, path: KeyPath, given: Any, data: dict[str, Any]) -> VpcConfig | None:
    if given is None:
        return None
    refuse_beside_code_or_instances(ctx, path, data, "a VPC")
    endpoints = tuple(given.get("endpoints") or ())
    if INTERNET in endpoints:
        ctx.fail(
            (*path, "endpoints", endpoints.index(INTERNET)),
            f"a VPC endpoint reaches an AWS service, not the internet: the internet needs nat_gateway: true ({VPC})",
        )
    return VpcConfig(nat_gateway=bool(given.get("nat_gateway")), endpoints=endpoints)
