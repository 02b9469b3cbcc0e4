"""Functions in a VPC: which of a model's network calls reach their target, and what a call with no route does.

Facts: https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html and .../configuration-vpc-internet.html
(a function attached to a VPC reaches the internet only through a NAT gateway; AWS services through a NAT
gateway or a VPC endpoint); without a route the call never connects and the invocation times out
(lambdalab's model: the wait lasts until the function's timeout).
"""

from __future__ import annotations

import pytest
from engine_helpers import simulate
from test_scenario_validation import problems

from lambdalab.engine.model import VpcConfig
from lambdalab.engine.networking import reaches

CALLS = "[{to: dynamodb, duration: 8ms}, {to: internet, duration: 120ms}]"
SCENARIO = """\
name: vpc
duration: 2m
functions:
  orders:
    timeout: 3s
    VPC
    behaviour: {init: 200ms, duration: 40ms, calls: CALLS}
traffic:
  - {target: orders, rate: 1/s, for: 60s}
"""


def run(vpc: str = "", calls: str = CALLS):
    return simulate(SCENARIO.replace("VPC", vpc or "description: not in a VPC").replace("CALLS", calls))


@pytest.mark.parametrize(
    "vpc, target, reached",
    [
        (None, "internet", True),  # not in a VPC: everything public
        (None, "dynamodb", True),
        (VpcConfig(), "internet", False),  # private subnets, nothing else
        (VpcConfig(), "dynamodb", False),
        (VpcConfig(endpoints=("dynamodb",)), "dynamodb", True),
        (VpcConfig(endpoints=("dynamodb",)), "s3", False),  # an endpoint is for its own service
        (VpcConfig(endpoints=("dynamodb",)), "internet", False),
        (VpcConfig(nat_gateway=True), "internet", True),
        (VpcConfig(nat_gateway=True), "sqs", True),  # a NAT gateway reaches AWS services' public endpoints too
    ],
)
def test_what_a_function_reaches(vpc, target, reached):
    assert reaches(vpc, target) is reached


def test_calls_add_their_time_to_each_invocation():
    result = run()
    assert result.metrics("orders")["Duration"]["max"] == pytest.approx(40 + 8 + 120)
    assert result.fn("orders")["calls"] == {
        "dynamodb": {"made": 60, "blocked": 0, "route": True},
        "internet": {"made": 60, "blocked": 0, "route": True},
    }


def test_a_call_with_no_route_waits_until_the_timeout():
    result = run(vpc="vpc: {endpoints: [dynamodb]}")
    metrics, outcomes = result.metrics("orders"), result.outcomes("orders")
    assert metrics["Errors"] == outcomes["timed_out"] == 60
    assert metrics["Duration"]["max"] == 3000  # the function's timeout
    assert result.fn("orders")["calls"] == {
        "dynamodb": {"made": 60, "blocked": 0, "route": True},  # the endpoint: it went through first
        "internet": {"made": 0, "blocked": 60, "route": False},
    }
    assert metrics["ColdStarts"] == 60  # each timeout resets the environment


def test_a_nat_gateway_or_an_endpoint_gives_the_route():
    assert run(vpc="vpc: {nat_gateway: true}").metrics("orders")["Errors"] == 0
    only_dynamodb = "[{to: dynamodb, duration: 8ms}]"
    assert run(vpc="vpc: {endpoints: [dynamodb]}", calls=only_dynamodb).metrics("orders")["Errors"] == 0
    assert run(vpc="vpc: {endpoints: [s3]}", calls=only_dynamodb).metrics("orders")["Errors"] == 60


def test_the_text_report_names_the_calls_without_a_route():
    from lambdalab.engine.report_text import render

    result = run(vpc="vpc: {}")
    text = render(result.sim, result.report)
    assert "Network calls (from a VPC" in text
    assert any("dynamodb" in line and "NO: waits until the timeout" in line for line in text.splitlines())


@pytest.mark.parametrize(
    "vpc, calls, message",
    [
        ("vpc: {endpoints: [internet]}", CALLS, "a VPC endpoint reaches an AWS service, not the internet"),
        ("vpc: {nat: true}", CALLS, "functions.orders.vpc.nat: unknown key 'nat'"),
        ("vpc: {}", "[{to: DynamoDB}]", "functions.orders.behaviour.calls[0].to"),
    ],
)
def test_bad_networking_is_refused_with_the_place(vpc, calls, message):
    found = problems(SCENARIO.replace("VPC", vpc).replace("CALLS", calls))
    assert any(message in p for p in found), found
