"""Versions and aliases: snapshots of $LATEST, qualifiers, weighted routing, function-wide reserved concurrency."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

BASE = """\
name: versions
seed: 3
duration: 2m
queues: {done: {}}
functions:
  checkout:
    timeout: 10s
    RESERVED
    behaviour: {init: 100ms, duration: 100ms, errors: {rate: 0.5}}
    async: {on_success: "queue:done"}
    versions:
      "1": {behaviour: {init: 100ms, duration: 100ms, errors: {rate: 0}}}
      "2": {}
    aliases:
      live: {version: "1", routing: {"2": 0.1}}
      stable: {version: "1"}
traffic:
  - TRAFFIC
"""


def run(tmp_path, traffic: str, reserved: str = "", *args: str) -> dict:
    path = tmp_path / "versions.yaml"
    path.write_text(BASE.replace("TRAFFIC", traffic).replace("RESERVED", reserved))
    result = run_cli("sim", str(path), "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_weighted_routing_splits_requests_at_random_but_repeatably(tmp_path):
    traffic = "{target: 'checkout:live', invocation: sync, rate: 100/s, for: 100s}"
    out = run(tmp_path, traffic)
    by_version = out["functions"]["checkout"]["by_version"]
    ran_new = by_version["2"]["Invocations"]
    # 10,000 requests at 10 %: binomial mean 1,000, standard deviation 30
    assert abs(ran_new - 1000) < 4 * 30
    assert by_version["1"]["Invocations"] + ran_new == 10_000 and by_version["$LATEST"]["Invocations"] == 0
    assert by_version["1"]["Errors"] == 0 and by_version["2"]["Errors"] > 0  # only the new version fails
    assert out == run(tmp_path, traffic)  # the same seed routes the same way


@pytest.mark.parametrize(
    "target, runs",
    [("checkout", "$LATEST"), ("checkout:$LATEST", "$LATEST"), ("checkout:2", "2"), ("checkout:stable", "1")],
)
def test_qualifiers_choose_the_version(tmp_path, target, runs):
    out = run(tmp_path, f"{{target: '{target}', invocation: sync, burst: 20, at: 0s}}")
    by_version = out["functions"]["checkout"]["by_version"]
    assert {v: c["Invocations"] for v, c in by_version.items() if c["Invocations"]} == {runs: 20}


def test_the_executed_version_reaches_the_destination_record(tmp_path):
    out = run(tmp_path, "{target: 'checkout:stable', invocation: async, burst: 3, at: 0s}")
    record = out["queues"]["done"]["messages"][0]["body"]
    assert record["responseContext"]["executedVersion"] == "1"
    assert record["requestContext"]["functionArn"].endswith(":function:checkout:1")


def test_reserved_concurrency_is_shared_by_the_versions(tmp_path):
    traffic = (
        "{target: 'checkout:2', invocation: sync, burst: 8, at: 0s}\n"
        "  - {target: 'checkout:1', invocation: sync, burst: 8, at: 0s}"
    )
    out = run(tmp_path, traffic, reserved="reserved_concurrency: 10")
    fn = out["functions"]["checkout"]
    assert fn["metrics"]["ConcurrentExecutions"] == 10 and fn["metrics"]["Throttles"] == 6


@pytest.mark.parametrize(
    "change, message",
    [
        (('live: {version: "1", routing: {"2": 0.1}}', 'live: {version: "7"}'), "aliases.live.version: no version '7'"),
        (
            ('live: {version: "1", routing: {"2": 0.1}}', 'live: {version: "$LATEST", routing: {"2": 0.1}}'),
            "weighted routing needs two published versions, and $LATEST is not one",
        ),
        (
            ('live: {version: "1", routing: {"2": 0.1}}', 'live: {version: "2", routing: {"2": 0.1}}'),
            "the alias already points to version 2",
        ),
        (
            ("TRAFFIC", "{target: 'checkout:beta', invocation: sync, burst: 1, at: 0s}"),
            "checkout has no version or alias 'beta'",
        ),
    ],
)
def test_aliases_are_checked_when_the_scenario_loads(tmp_path, change, message):
    text = (
        BASE.replace("RESERVED", "")
        .replace(*change)
        .replace("TRAFFIC", "{target: checkout, invocation: sync, burst: 1, at: 0s}")
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = run_cli("sim", str(path))
    assert result.returncode == 2 and message in result.stderr


PROVISIONED = """\
name: provisioned versions
duration: 10s
ACCOUNT
functions:
  checkout:
    RESERVED
    behaviour: {init: 100ms, duration: 1s}
    versions:
      "1": {provisioned_concurrency: ONE}
      "2": {provisioned_concurrency: TWO}
traffic:
  - {target: "checkout:2", invocation: sync, burst: 2, at: 0s}
  - {target: "checkout:1", invocation: sync, burst: 1, at: 0.5s}
"""


def provisioned(tmp_path, one: int = 1, two: int = 0, reserved: str = "reserved_concurrency: 2", account: str = ""):
    path = tmp_path / "provisioned.yaml"
    path.write_text(
        PROVISIONED.replace("ONE", str(one))
        .replace("TWO", str(two))
        .replace("RESERVED", reserved)
        .replace("ACCOUNT", account)
    )
    return run_cli("sim", str(path), "--json")


def test_a_versions_provisioned_environments_keep_their_seats_in_the_reservation(tmp_path):
    """Reserved 2 with one environment provisioned on version 1: version 2 may run only one request on
    demand, so version 1's request still finds its environment and the function never passes 2."""
    result = provisioned(tmp_path)
    assert result.returncode == 0, result.stderr
    fn = json.loads(result.stdout)["functions"]["checkout"]
    assert fn["metrics"]["ConcurrentExecutions"] == 2 and fn["outcomes"]["throttled"] == 1
    assert fn["metrics"]["ProvisionedConcurrencyInvocations"] == 1
    assert {v: c["Invocations"] for v, c in fn["by_version"].items()} == {"$LATEST": 0, "1": 1, "2": 1}


@pytest.mark.parametrize(
    "case, message",
    [
        (
            dict(one=2, two=1),
            "functions.checkout.versions: 3 provisioned in all is more than reserved concurrency 2: "
            "every version's provisioned concurrency counts against the function's reservation",
        ),
        (
            dict(one=450, two=451, reserved="", account="account: {concurrency: 1000}"),
            "functions.checkout.provisioned_concurrency: 901 would leave 99 unreserved of the account's 1000",
        ),
    ],
)
def test_provisioned_concurrency_on_versions_is_checked(tmp_path, case, message):
    result = provisioned(tmp_path, **case)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_provisioned_concurrency_is_never_on_latest_once_there_are_versions(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        BASE.replace("RESERVED", "provisioned_concurrency: 2").replace(
            "TRAFFIC", "{target: checkout, invocation: sync, burst: 1, at: 0s}"
        )
    )
    result = run_cli("sim", str(path))
    assert result.returncode == 2
    assert (
        "functions.checkout.provisioned_concurrency: with published versions, provisioned concurrency goes on a "
        "version" in result.stderr
    )


def test_an_expectation_can_name_one_version(tmp_path):
    traffic = "{target: 'checkout:live', invocation: sync, rate: 100/s, for: 100s}"
    expect = """
expect:
  - {metric: Invocations, function: checkout, version: "2", op: ">", value: 800}
  - {metric: Errors, function: checkout, version: "1", op: "==", value: 0}
  - {metric: Invocations, function: checkout, version: $LATEST, op: ">", value: 0, why: nothing calls $LATEST here}
"""
    path = tmp_path / "versions.yaml"
    path.write_text(BASE.replace("TRAFFIC", traffic).replace("RESERVED", "") + expect)
    result = run_cli("sim", str(path), "--json")
    assert result.returncode == 1, result.stderr  # the third one fails
    out = json.loads(result.stdout)
    by_version = out["functions"]["checkout"]["by_version"]
    assert [(e["version"], e["actual"], e["passed"]) for e in out["expectations"]] == [
        ("2", by_version["2"]["Invocations"], True),
        ("1", 0, True),
        ("$LATEST", 0, False),
    ]
    text = run_cli("sim", str(path)).stdout
    assert "PASS  Invocations of checkout version 2 > 800" in text
    assert "FAIL  Invocations of checkout version $LATEST > 0  (actual 0)  nothing calls $LATEST here" in text


@pytest.mark.parametrize(
    "item, message",
    [
        (
            '{metric: Invocations, function: checkout, version: "3", op: ">", value: 0}',
            "expect[0].version: checkout has no version '3'; it has $LATEST, 1, 2",
        ),
        (
            '{metric: Invocations, version: "2", op: ">", value: 0}',
            "expect[0].version: a version belongs to a function",
        ),
        (
            '{metric: Throttles, function: checkout, version: "2", op: ">", value: 0}',
            "expect[0].metric: unknown metric 'Throttles' for one version, which has only Invocations and Errors",
        ),
        ('{metric: Invocations, function: checkout, version: 2, op: ">", value: 0}', "expect[0].version"),
    ],
)
def test_version_expectations_are_checked(tmp_path, item, message):
    path = tmp_path / "bad.yaml"
    path.write_text(
        BASE.replace("RESERVED", "").replace("TRAFFIC", "{target: checkout, invocation: sync, burst: 1, at: 0s}")
        + f"expect:\n  - {item}\n"
    )
    result = run_cli("sim", str(path))
    assert result.returncode == 2 and message in result.stderr, result.stderr


DEPLOY = """\
name: canary deployment
duration: 15m
functions:
  checkout:
    behaviour: {init: 100ms, duration: 100ms, errors: {rate: 0.2}}
    versions:
      "1": {behaviour: {init: 100ms, duration: 100ms, errors: {rate: 0}}}
      "2": {}
    aliases:
      live: {version: "1"}
deployments:
  - {function: checkout, alias: live, to: "2", config: CONFIG, start: 1m ALARM}
traffic:
  - {target: "checkout:live", invocation: sync, rate: 20/s, for: 15m}
"""


def deploy(tmp_path, config: str, alarm: str = "") -> dict:
    path = tmp_path / "deploy.yaml"
    path.write_text(DEPLOY.replace("CONFIG", config).replace("ALARM", alarm))
    result = run_cli("sim", str(path), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_canary_and_linear_shift_on_codedeploys_schedule(tmp_path):
    canary = deploy(tmp_path, "Canary10Percent5Minutes")["deployments"][0]
    assert canary["status"] == "succeeded"
    assert [(s["t_s"], s["weight"]) for s in canary["steps"]] == [(60.0, 0.1), (360.0, 1.0)]
    linear = deploy(tmp_path, "Linear10PercentEvery1Minute")["deployments"][0]
    assert [s["weight"] for s in linear["steps"]] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert [s["t_s"] for s in linear["steps"]][-1] == 60.0 + 9 * 60.0
    at_once = deploy(tmp_path, "AllAtOnce")
    assert at_once["deployments"][0]["steps"] == [{"t_s": 60.0, "weight": 1.0}]
    assert at_once["functions"]["checkout"]["by_version"]["2"]["Invocations"] == 20 * 14 * 60


def test_an_alarm_rolls_the_alias_back(tmp_path):
    out = deploy(tmp_path, "Canary10Percent5Minutes", ", alarm: {errors_over: 5}")
    deployment = out["deployments"][0]
    assert deployment["status"] == "rolled back"
    assert deployment["steps"][-1]["t_s"] == 120.0 and deployment["steps"][-1]["weight"] == 0.0
    assert "errors on version 2 in the last minute (more than 5)" in deployment["steps"][-1]["alarm"]
    by_version = out["functions"]["checkout"]["by_version"]
    assert by_version["2"]["Invocations"] < 200  # one minute of 10 %, then nothing


def test_deployments_are_checked(tmp_path):
    path = tmp_path / "deploy.yaml"
    path.write_text(DEPLOY.replace("CONFIG", "Canary10Percent7Minutes").replace("ALARM", ""))
    result = run_cli("sim", str(path))
    assert result.returncode == 2 and "'Canary10Percent7Minutes' is not a CodeDeploy configuration" in result.stderr
