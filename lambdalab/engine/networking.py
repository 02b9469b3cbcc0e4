"""A function's network calls, and whether they reach their target from where the function runs.

As https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html and
https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-internet.html describe it: a function not
attached to a VPC reaches the internet and AWS services' public endpoints; attached to private subnets of a
VPC, it reaches only what the VPC routes to: the internet through a NAT gateway, an AWS service through a NAT
gateway or a VPC endpoint for that service
(https://docs.aws.amazon.com/vpc/latest/privatelink/concepts.html). A call with no route never connects: the
code waits for it, and the invocation times out (lambdalab's model: the wait lasts until the function's
timeout, as it does for an SDK or HTTP client whose own timeouts are longer, like boto3's 60 s connect
timeout: https://docs.aws.amazon.com/sdkref/latest/guide/feature-smart-config-defaults.html).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lambdalab.engine.behaviour import sampler
from lambdalab.engine.model import VpcConfig

if TYPE_CHECKING:
    from lambdalab.engine.environments import FunctionRuntime

INTERNET = "internet"


def reaches(vpc: VpcConfig | None, target: str) -> bool:
    """Whether a call from a function with this VPC configuration (None: none) reaches `target`."""
    if vpc is None or vpc.nat_gateway:
        return True
    return target != INTERNET and target in vpc.endpoints


class CallsAtWork:
    """One function's network calls in a run: each invocation makes them in order, each adding its time, until
    one has no route. Made at build time for a function whose model calls out; others pay nothing."""

    def __init__(self, runtime: FunctionRuntime):
        fn = runtime.config
        rng = runtime.loop.rng
        self.made = {call.to: 0 for call in fn.behaviour.calls}
        self.blocked = dict.fromkeys(self.made, 0)
        self.routed = {to: reaches(fn.vpc, to) for to in self.made}
        calls = [(call.to, sampler(call.duration, rng), self.routed[call.to]) for call in fn.behaviour.calls]
        handler = runtime.behaviour.sample_duration
        made, blocked = self.made, self.blocked

        def duration() -> float:
            total = handler()
            for to, draw, routed in calls:
                if not routed:
                    blocked[to] += 1
                    return math.inf  # waits for a connection that never comes: the invocation times out
                made[to] += 1
                total += draw()
            return total

        runtime.behaviour.sample_duration = duration

    def figures(self) -> dict[str, dict[str, int | bool]]:
        """Per target: calls made, calls that found no route, and whether there is one."""
        return {to: {"made": self.made[to], "blocked": self.blocked[to], "route": self.routed[to]} for to in self.made}
