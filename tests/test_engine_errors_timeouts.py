"""Timeouts and the error rules of the behaviour model (lambda-facts.md sections 3.3 and 11)."""

from __future__ import annotations

import pytest

try:
    from engine_helpers import simulate
except ImportError:  # tests/ imported as a package
    from tests.engine_helpers import simulate


def test_a_timed_out_invocation_ends_at_the_timeout_and_is_billed_the_timeout_plus_init():
    # Timeout 2 s, the code would take 5 s, Init 500 ms.
    # Request at 0 s (cold): Init 0.0-0.5, invoke 0.5-2.5 (cut at 2 s): Duration 2000 ms, billed 500 + 2000 = 2500.
    # The timeout resets the environment, so the request at 10 s re-inits inside its invoke, which the
    # timeout also bounds: invoke 10.0-12.0, Duration 2000 ms, billed 2000 (the re-init is inside it).
    run = simulate("""
        duration: 30s
        functions:
          f:
            timeout: 2s
            behaviour: {init: 500ms, duration: 5s}
        traffic:
          - {target: f, burst: 1, at: 0s}
          - {target: f, burst: 1, at: 10s}
    """)
    ends = run.of("invoke_end")
    assert [t for t, _ in ends] == [2.5, 12.0]
    assert [d["duration_ms"] for _, d in ends] == [2000.0, 2000.0]
    assert [d["billed_ms"] for _, d in ends] == [2500, 2000]
    assert all(d["error"] == "Sandbox.Timedout" and d["timed_out"] for _, d in ends)
    assert all("Task timed out after 2.00 seconds" in d["error_message"] for _, d in ends)
    m, o = run.metrics(), run.outcomes()
    assert m["Duration"]["max"] == 2000.0
    assert m["BilledDurationMs"] == 4500
    assert (m["Invocations"], m["Errors"]) == (2, 2)
    assert (o["timed_out"], o["failed"], o["succeeded"]) == (2, 2, 0)


def test_a_warm_timeout_is_billed_exactly_the_timeout():
    # A provisioned environment is never cold, so no Init is billed: the 4 s code is cut at the 3 s
    # timeout (invoke 1.0-4.0), Duration 3000 ms, billed exactly 3000 ms.
    run = simulate("""
        duration: 30s
        functions:
          f:
            timeout: 3s
            provisioned_concurrency: 1
            behaviour: {init: 1s, duration: 4s}
        traffic:
          - {target: f, burst: 1, at: 1s}
    """)
    ((t, end),) = run.of("invoke_end")
    assert t == 4.0
    assert (end["duration_ms"], end["billed_ms"], end["timed_out"]) == (3000.0, 3000, True)
    assert run.metrics()["BilledDurationMs"] == 3000


def test_error_rate_0_never_fails_and_rate_1_always_fails():
    run = simulate("""
        duration: 20s
        functions:
          never:
            behaviour: {init: 0s, duration: 100ms, errors: {rate: 0}}
          always:
            behaviour: {init: 0s, duration: 100ms, errors: {rate: 1}}
        traffic:
          - {target: never, rate: 5/s, for: 10s}
          - {target: always, rate: 5/s, for: 10s}
    """)
    assert (run.metrics("never")["Invocations"], run.metrics("never")["Errors"]) == (50, 0)
    assert (run.metrics("always")["Invocations"], run.metrics("always")["Errors"]) == (50, 50)
    assert run.outcomes("always")["failed"] == 50


def test_error_rate_fails_about_that_share():
    # 2000 invocations at rate 0.3: mean 600, standard deviation ~20.5; +-90 is over 4 sigma.
    run = simulate("""
        duration: 30s
        functions:
          f:
            behaviour: {init: 0s, duration: 10ms, errors: {rate: 0.3}}
        traffic:
          - {target: f, rate: 100/s, for: 20s}
    """)
    assert run.metrics()["Invocations"] == 2000
    assert 510 <= run.metrics()["Errors"] <= 690


def test_every_nth_invocation_fails():
    # 9 sequential requests (1/s, 100 ms each): the 3rd, 6th and 9th fail.
    run = simulate("""
        duration: 12s
        functions:
          f:
            behaviour: {init: 0s, duration: 100ms, errors: {every: 3, type: Boom}}
        traffic:
          - {target: f, rate: 1/s, for: 9s}
    """)
    errors = [d["error"] for _, d in run.of("invoke_end")]
    assert errors == [None, None, "Boom"] * 3
    assert run.metrics()["Errors"] == 3


def test_every_nth_invocation_fails_also_when_invocations_overlap():
    # 4 concurrent cold starts (Init 100 ms each, overlapping): invocations 1-4, every 2nd fails -> 2 errors.
    run = simulate("""
        duration: 10s
        functions:
          f:
            behaviour: {init: 100ms, duration: 1s, errors: {every: 2}}
        traffic:
          - {target: f, burst: 4, at: 0s}
    """)
    assert run.metrics()["Invocations"] == 4
    assert run.metrics()["Errors"] == 2


@pytest.mark.parametrize(
    "on_cold_start, expected", [(True, [True, False, False, False, False]), (False, [False, True, True, True, True])]
)
def test_on_cold_start_rules_pick_cold_or_warm_invocations(on_cold_start, expected):
    # 5 sequential requests on one environment: only the first is cold (a plain exception does not reset).
    run = simulate(f"""
        duration: 10s
        functions:
          f:
            behaviour: {{init: 200ms, duration: 100ms, errors: {{on_cold_start: {str(on_cold_start).lower()}}}}}
        traffic:
          - {{target: f, rate: 1/s, for: 5s}}
    """)
    assert [d["cold"] for _, d in run.of("invoke_end")] == [True, False, False, False, False]
    assert [d["error"] is not None for _, d in run.of("invoke_end")] == expected


EVENTS = """
              - {kind: a, n: 1, Records: [{body: x}]}
              - {kind: b, n: "1"}
              - {kind: c, n: true}
              - {other: 1}
"""


@pytest.mark.parametrize(
    "when, failing",
    [
        ("{path: $.kind, equals: b}", [False, True, False, False]),
        ("{path: $.kind, in: [a, c]}", [True, False, True, False]),
        ("{path: $.kind, exists: true}", [True, True, True, False]),
        ("{path: $.kind, exists: false}", [False, False, False, True]),
        ("{path: $.n, equals: 1}", [True, False, False, False]),  # JSON types kept apart: not "1", not true
        ('{path: "$.Records[0].body", equals: x}', [True, False, False, False]),
        ('{path: "$.Records[1].body", exists: true}', [False, False, False, False]),
    ],
)
def test_when_rules_match_a_json_path_in_the_event(when, failing):
    # The 4 events are used in turn by 8 sequential requests.
    run = simulate(f"""
        duration: 12s
        functions:
          f:
            behaviour:
              init: 0s
              duration: 100ms
              errors: {{when: {when}}}
        traffic:
          - target: f
            rate: 1/s
            for: 8s
            events:
{EVENTS}
    """)
    assert [d["error"] is not None for _, d in run.of("invoke_end")] == failing * 2


def test_a_list_of_rules_fails_when_any_rule_holds_and_a_rule_needs_all_its_conditions():
    # Rule 1: kind == a.  Rule 2: kind == c AND a cold start (only invocation 1 is cold, and its kind is a).
    run = simulate(f"""
        duration: 12s
        functions:
          f:
            behaviour:
              init: 0s
              duration: 100ms
              errors:
                - {{when: {{path: $.kind, equals: a}}, type: IsA}}
                - {{when: {{path: $.kind, equals: c}}, on_cold_start: true, type: IsColdC}}
        traffic:
          - target: f
            rate: 1/s
            for: 8s
            events:
{EVENTS}
    """)
    assert [d["error"] for _, d in run.of("invoke_end")] == ["IsA", None, None, None] * 2


def test_memory_used_above_memory_is_out_of_memory():
    run = simulate("""
        duration: 10s
        functions:
          small:
            memory: 256
            behaviour: {init: 0s, duration: 100ms, memory_used: 257}
          enough:
            memory: 256
            behaviour: {init: 0s, duration: 100ms, memory_used: 256}
        traffic:
          - {target: small, rate: 1/s, for: 3s}
          - {target: enough, rate: 1/s, for: 3s}
    """)
    small = run.of("invoke_end", function="small")
    assert [d["error"] for _, d in small] == ["Runtime.OutOfMemory"] * 3
    assert all(d["max_memory_used_mb"] == 256 for _, d in small)
    assert run.metrics("small")["Errors"] == 3
    assert run.metrics("enough")["Errors"] == 0
    assert [d["max_memory_used_mb"] for _, d in run.of("invoke_end", function="enough")] == [256] * 3


def test_a_rule_type_and_message_reach_the_caller():
    run = simulate("""
        duration: 5s
        functions:
          f:
            behaviour: {init: 0s, duration: 100ms, errors: {type: KeyError, message: "'order_id'"}}
        traffic:
          - {target: f, burst: 1, at: 0s}
    """)
    ((_, end),) = run.of("invoke_end")
    assert (end["error"], end["error_message"], end["timed_out"]) == ("KeyError", "'order_id'", False)
