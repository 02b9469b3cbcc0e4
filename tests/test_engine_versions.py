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


@pytest.mark.parametrize("target, runs", [("checkout", "$LATEST"), ("checkout:$LATEST", "$LATEST"),
                                          ("checkout:2", "2"), ("checkout:stable", "1")])
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
    traffic = ("{target: 'checkout:2', invocation: sync, burst: 8, at: 0s}\n"
               "  - {target: 'checkout:1', invocation: sync, burst: 8, at: 0s}")
    out = run(tmp_path, traffic, reserved="reserved_concurrency: 10")
    fn = out["functions"]["checkout"]
    assert fn["metrics"]["ConcurrentExecutions"] == 10 and fn["metrics"]["Throttles"] == 6


@pytest.mark.parametrize("change, message", [
    (('live: {version: "1", routing: {"2": 0.1}}', 'live: {version: "7"}'), "aliases.live.version: no version '7'"),
    (('live: {version: "1", routing: {"2": 0.1}}', 'live: {version: "$LATEST", routing: {"2": 0.1}}'),
     "weighted routing needs two published versions, and $LATEST is not one"),
    (('live: {version: "1", routing: {"2": 0.1}}', 'live: {version: "2", routing: {"2": 0.1}}'),
     "the alias already points to version 2"),
    (("TRAFFIC", "{target: 'checkout:beta', invocation: sync, burst: 1, at: 0s}"), "checkout has no version or alias 'beta'"),
])
def test_aliases_are_checked_when_the_scenario_loads(tmp_path, change, message):
    text = BASE.replace("RESERVED", "").replace(*change).replace("TRAFFIC", "{target: checkout, invocation: sync, burst: 1, at: 0s}")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = run_cli("sim", str(path))
    assert result.returncode == 2 and message in result.stderr
