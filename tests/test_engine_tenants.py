"""Tenant isolation mode: environments per (function, tenant id), the cap on live tenant environments, the fee
per environment created, and the requests Lambda refuses for want of a tenant id.

Facts: https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation.html (routing, cold starts),
https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation-troubleshooting.html (2,500 live environments per
1,000 of concurrency, 429 "Rate exceeded"; InvalidParameterValueException), https://aws.amazon.com/lambda/pricing/
($0.000167 per environment at 1,024 MB).
"""

from __future__ import annotations

import pytest
from engine_helpers import conservation_holds, report_json, simulate

from lambdalab.engine.explain import sentence
from lambdalab.engine.report_text import render


def isolated(traffic: str, function: str = "", duration: str = "1m") -> str:
    return f"""\
        duration: {duration}
        functions:
          f: {{tenant_isolation: true, memory: 1024, {function} behaviour: {{init: 100ms, duration: 50ms}}}}
        traffic:
          - {traffic}
        """


def env_tenants(run) -> dict[int, str]:
    return {d["env"]: d["tenant"] for _, d in run.of("env_start")}


def test_warm_reuse_only_within_a_tenant():
    """Two tenants taking turns, one request at a time: a normal function reuses its one environment, an
    isolated one keeps an environment per tenant, and each tenant's first request is its cold start."""
    traffic = "{target: f, rate: 1/s, for: 10s, tenants: 2}"
    run = simulate(isolated(traffic))
    assert env_tenants(run) == {1: "tenant-1", 2: "tenant-2"}
    starts = run.of("invoke_start")
    assert [d["tenant"] for _, d in starts] == ["tenant-1", "tenant-2"] * 5
    assert all(env_tenants(run)[d["env"]] == d["tenant"] for _, d in starts)  # never another tenant's
    assert [d["cold"] for _, d in starts] == [True, True] + [False] * 8
    assert all(d["tenant"] == env_tenants(run)[d["env"]] for _, d in run.of("invoke_end"))
    assert run.metrics()["ColdStarts"] == 2 and run.envs()["created"] == 2
    tenants = run.fn()["tenants"]
    assert tenants["seen"] == 2 and tenants["environments_created"] == 2 and tenants["max_live_environments"] == 2
    assert tenants["by_tenant"] == {
        "tenant-1": {"requests": 5, "invocations": 5, "cold_starts": 1},
        "tenant-2": {"requests": 5, "invocations": 5, "cold_starts": 1},
    }
    plain = simulate(isolated(traffic).replace("tenant_isolation: true, ", "").replace(", tenants: 2", ""))
    assert plain.metrics()["ColdStarts"] == 1 and plain.envs()["created"] == 1
    assert "tenants" not in plain.fn() and "tenant_environments_usd" not in plain.fn()["cost"]
    assert "tenant" not in plain.of("env_start")[0][1] and "tenant" not in plain.of("invoke_end")[0][1]


def test_a_tenant_scaling_up_gets_more_environments_of_its_own():
    """One tenant with overlapping requests: a cold start per environment it scales to, all of them its own."""
    run = simulate(isolated("{target: f, burst: 3, at: 0s, tenant: acme}"))
    assert env_tenants(run) == {1: "acme", 2: "acme", 3: "acme"}
    assert run.fn()["tenants"]["by_tenant"] == {"acme": {"requests": 3, "invocations": 3, "cold_starts": 3}}


def test_live_tenant_environments_are_capped_per_concurrency():
    """Reserved concurrency 2 allows 2,500 per 1,000 of it: 5 live tenant environments. One request at a time
    (never more than 1 busy), six tenants in turn: the sixth is throttled with "Rate exceeded", each round."""
    run = simulate(isolated("{target: f, rate: 5/s, for: 2.4s, tenants: 6}", "reserved_concurrency: 2,"))
    tenants = run.fn()["tenants"]
    assert tenants["live_environments_limit"] == 5
    assert tenants["environments_created"] == 5 and tenants["max_live_environments"] == 5
    throttles = run.of("throttle")
    assert [round(t, 3) for t, _ in throttles] == [1.0, 2.2]
    assert {(d["reason"], d["status"], d["error"]) for _, d in throttles} == {
        ("Rate exceeded", 429, "TooManyRequestsException")
    }
    assert run.metrics()["Throttles"] == 2 and run.outcomes()["throttled"] == 2
    assert run.metrics()["ConcurrentExecutions"] == 1  # the cap, not concurrency, refused them
    assert tenants["by_tenant"]["tenant-6"] == {"requests": 2, "invocations": 0, "cold_starts": 0}
    assert all(tenants["by_tenant"][f"tenant-{n}"]["cold_starts"] == 1 for n in range(1, 6))
    t, data = throttles[0]
    assert "its tenant had no idle environment and the function already had 5 tenant environments live" in (
        sentence("throttle", t, data, run.sim.scenario)
    )


def test_the_cap_follows_the_account_without_a_reservation():
    text = isolated("{target: f, burst: 1, at: 0s, tenant: a}")
    run = simulate(text.replace("duration: 1m", "duration: 1m\n        account: {concurrency: 400}"))
    assert run.fn()["tenants"]["live_environments_limit"] == 1000


def test_idle_expiry_frees_the_cap():
    """Five tenants fill the cap of 5; a sixth is throttled at 5 s, and served at 20 s once the five environments
    have been idle for the function's idle expiry (10 s) and shut down."""
    text = """\
        duration: 30s
        functions:
          f: {tenant_isolation: true, reserved_concurrency: 2, idle_expiry: 10s,
               behaviour: {init: 100ms, duration: 50ms}}
        traffic:
          - {target: f, rate: 10/s, for: 0.5s, tenants: 5}
          - {target: f, burst: 1, at: 5s, tenant: late}
          - {target: f, burst: 1, at: 20s, tenant: late}
        """
    run = simulate(text)
    assert [round(t, 3) for t, _ in run.of("throttle")] == [5.0]
    shutdowns = run.of("env_shutdown", reason="SPINDOWN")
    assert len(shutdowns) == 5 and all(10 < t < 11 for t, _ in shutdowns)
    assert env_tenants(run)[6] == "late"
    tenants = run.fn()["tenants"]
    assert tenants["by_tenant"]["late"] == {"requests": 2, "invocations": 1, "cold_starts": 1}
    assert tenants["environments_created"] == 6 and tenants["max_live_environments"] == 5


def test_versions_keep_environments_per_version_and_tenant_and_share_the_cap():
    """An environment serves one (version, tenant id): one tenant split between two versions by an alias gets
    environments of each version; the cap (5 for a reservation of 2) counts every version's."""
    text = """\
        duration: 1m
        functions:
          f:
            tenant_isolation: true
            reserved_concurrency: 2
            behaviour: {init: 100ms, duration: 50ms}
            versions: {"1": {}, "2": {}}
            aliases: {live: {version: "1", routing: {"2": 0.5}}}
        traffic:
          - {target: "f:live", rate: 2/s, for: 20s, tenant: acme}
          - {target: "f:2", rate: 5/s, for: 2s, start: 30s, tenants: 6}
        """
    run = simulate(text)
    starts = run.of("env_start")
    assert [(d["function"], d["tenant"]) for _, d in starts[:2]] == [("f:1", "acme"), ("f:2", "acme")]
    by_version = run.fn()["by_version"]
    assert by_version["1"]["Invocations"] > 5 and by_version["2"]["Invocations"] > 5
    tenants = run.fn()["tenants"]
    assert tenants["by_tenant"]["acme"] == {"requests": 40, "invocations": 40, "cold_starts": 2}
    # At 30 s: acme's two environments are still idle, so version 2 makes three more and throttles the rest.
    assert tenants["environments_created"] == 5 and tenants["max_live_environments"] == 5
    assert [d["tenant"] for _, d in starts[2:]] == ["tenant-1", "tenant-2", "tenant-3"]
    assert {d["reason"] for _, d in run.of("throttle")} == {"Rate exceeded"}
    assert run.metrics()["Throttles"] == 4  # tenant-4 twice (10 requests: tenants 1-6, then 1-4), -5 and -6 once


def test_each_environment_expires_after_its_own_idle_time():
    """Tenants a, b, c start at 0, 1 and 2 s (Init 100 ms + 50 ms); b comes back at 5 s, taking its environment
    from the middle of the idle order. Each then shuts down 10 s after it last went idle: a, c, then b."""
    text = """\
        duration: 30s
        functions:
          f: {tenant_isolation: true, idle_expiry: 10s, behaviour: {init: 100ms, duration: 50ms}}
        traffic:
          - {target: f, burst: 1, at: 0s, tenant: a}
          - {target: f, burst: 1, at: 1s, tenant: b}
          - {target: f, burst: 1, at: 2s, tenant: c}
          - {target: f, burst: 1, at: 5s, tenant: b}
        """
    run = simulate(text)
    tenants = env_tenants(run)
    shutdowns = [(round(t, 3), tenants[d["env"]]) for t, d in run.of("env_shutdown")]
    assert shutdowns == [(10.15, "a"), (12.15, "c"), (15.05, "b")]
    assert run.fn()["tenants"]["by_tenant"]["b"] == {"requests": 2, "invocations": 2, "cold_starts": 1}


def test_each_tenant_environment_created_is_charged_by_memory():
    """$0.000167 per environment at 1,024 MB: 3 environments of 2,048 MB cost 3 x 2 x $0.000167."""
    run = simulate(isolated("{target: f, rate: 1/s, for: 9s, tenants: 3}").replace("memory: 1024", "memory: 2048"))
    cost, metrics = run.fn()["cost"], run.metrics()
    assert cost["tenant_environments_usd"] == pytest.approx(3 * 2 * 0.000167)
    assert metrics["CostUSD"] == pytest.approx(cost["requests_usd"] + cost["duration_usd"] + 3 * 2 * 0.000167)
    assert run.report["account"]["CostUSD"] == metrics["CostUSD"]


def test_a_request_without_a_valid_tenant_id_is_refused():
    """A JSON path that finds no usable id: that request is refused with InvalidParameterValueException (a 400:
    the caller's request fails, the function never runs); the others go on."""
    events = "[{customer: acme}, {other: 1}, {customer: 'bad#id'}, {customer: 42}, {customer: {id: 1}}]"
    for invocation in ("sync", "async"):
        run = simulate(
            isolated(
                f"{{target: f, invocation: {invocation}, rate: 5/s, for: 1s, events: {events}, tenant: $.customer}}"
            )
        )
        outcomes, tenants = run.outcomes(), run.fn()["tenants"]
        assert outcomes["requests"] == 5 and outcomes["failed"] == 3 and outcomes["succeeded"] == 2
        assert conservation_holds(outcomes)
        assert run.metrics()["Invocations"] == 2 and run.metrics()["Errors"] == 0
        assert run.metrics()["AsyncEventsReceived"] == (2 if invocation == "async" else 0)
        assert tenants["rejected"] == 3 and list(tenants["by_tenant"]) == ["acme", "42"]
        rejected = run.of("rejected")
        assert [(d["status"], d["error"], d["invocation"]) for _, d in rejected] == [
            (400, "InvalidParameterValueException", invocation)
        ] * 3
        t, data = rejected[0]
        assert "was refused at t=0.20 s with InvalidParameterValueException" in sentence(
            "rejected", t, data, run.sim.scenario
        )


def test_async_events_keep_their_tenant_through_throttles():
    """Reserved concurrency 2, four async events of four tenants at once: two run, two are throttled and retried;
    every event runs on an environment of its own tenant."""
    run = simulate(isolated("{target: f, invocation: async, burst: 4, at: 0s, tenants: 4}", "reserved_concurrency: 2,"))
    assert len(run.of("throttle")) >= 2
    tenant_of_request = {d["request_id"]: d["tenant"] for _, d in run.of("invoke_start")}
    assert len(tenant_of_request) == 4 and sorted(tenant_of_request.values()) == [f"tenant-{n}" for n in range(1, 5)]
    assert all(env_tenants(run)[d["env"]] == d["tenant"] for _, d in run.of("invoke_start"))
    assert run.outcomes()["succeeded"] == 4 and run.fn()["tenants"]["environments_created"] == 4


def test_the_report_lists_the_first_hundred_tenants_and_says_so_in_text():
    run = simulate(isolated("{target: f, rate: 10/s, for: 15s, tenants: 150}"), listen=False)
    tenants = run.fn()["tenants"]
    assert tenants["seen"] == 150 and len(tenants["by_tenant"]) == 100
    assert list(tenants["by_tenant"])[:2] == ["tenant-1", "tenant-2"] and "tenant-101" not in tenants["by_tenant"]
    text = render(run.sim, run.report)
    assert "Tenant isolation (each environment serves one tenant)" in text
    assert "Tenants of f (the first 10 seen; 140 more)" in text


def test_a_run_with_tenants_repeats_byte_for_byte():
    text = isolated(
        "{target: f, invocation: async, rate: 30/s, for: 40s, arrivals: poisson, tenants: 40}",
        "reserved_concurrency: 10, idle_expiry: 5s,",
    )
    assert report_json(text) == report_json(text)
    assert report_json(text) != report_json(text, seed=1)
