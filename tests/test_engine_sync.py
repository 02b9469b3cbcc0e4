"""Synchronous invocation: 429s are not invocations, and Lambda never retries a sync call
(lambda-facts.md sections 1.3 and 10)."""

from __future__ import annotations

from collections import Counter

try:
    from engine_helpers import conservation_holds, simulate
except ImportError:  # tests/ imported as a package
    from tests.engine_helpers import conservation_holds, simulate


def test_throttles_count_in_throttles_but_not_in_invocations_or_errors():
    # Reserved 2, every invocation fails; a burst of 5: 2 run and fail, 3 are throttled.
    # CloudWatch: Invocations excludes throttles; Errors counts function errors only.
    run = simulate("""
        duration: 10s
        functions:
          f:
            reserved_concurrency: 2
            behaviour:
              init: 0s
              duration: 1s
              errors: {rate: 1}
        traffic:
          - {target: f, burst: 5, at: 0s}
    """)
    m, o = run.metrics(), run.outcomes()
    assert (m["Invocations"], m["Errors"], m["Throttles"]) == (2, 2, 3)
    assert (o["requests"], o["failed"], o["throttled"], o["succeeded"]) == (5, 2, 3, 0)
    assert conservation_holds(o)


def test_function_errors_are_not_retried():
    # 10 requests (1/s for 10 s), all fail: each request runs exactly once.
    run = simulate("""
        duration: 15s
        functions:
          f:
            behaviour:
              init: 0s
              duration: 200ms
              errors: {rate: 1, type: KeyError}
        traffic:
          - {target: f, invocation: sync, rate: 1/s, for: 10s}
    """)
    m, o = run.metrics(), run.outcomes()
    assert (m["Invocations"], m["Errors"]) == (10, 10)
    assert (o["requests"], o["failed"], o["retried"], o["dropped"]) == (10, 10, 0, 0)
    per_request = Counter(d["request_id"] for _, d in run.of("invoke_start"))
    assert len(per_request) == 10 and set(per_request.values()) == {1}
    assert run.of("async_wait") == []


def test_timeouts_are_not_retried():
    run = simulate("""
        duration: 30s
        functions:
          f:
            timeout: 1s
            behaviour: {init: 0s, duration: 3s}
        traffic:
          - {target: f, invocation: sync, rate: 1/s, for: 5s}
    """)
    m, o = run.metrics(), run.outcomes()
    assert (m["Invocations"], m["Errors"]) == (5, 5)
    assert (o["failed"], o["timed_out"], o["retried"]) == (5, 5, 0)
    assert len({d["request_id"] for _, d in run.of("invoke_start")}) == 5


def test_invocations_equal_admitted_requests():
    # Reserved 3, 900 ms each, 4/s for 5 s = 20 requests at 0, 0.25, ... 4.75 s. Requests k, k+1, k+2 of
    # each second are all still running when the one at k+0.75 arrives (the one at k ends at k+0.9), so
    # the 4th of every second is throttled: 0.75, 1.75, 2.75, 3.75, 4.75 -> 5 throttles, 15 invocations.
    run = simulate("""
        duration: 10s
        functions:
          f:
            reserved_concurrency: 3
            behaviour: {init: 0s, duration: 900ms}
        traffic:
          - {target: f, invocation: sync, rate: 4/s, for: 5s}
    """)
    m, o = run.metrics(), run.outcomes()
    assert o["requests"] == 20
    admitted = o["requests"] - o["throttled"]
    assert m["Invocations"] == admitted == len(run.of("invoke_start"))
    assert m["Throttles"] == o["throttled"] == len(run.of("throttle")) == 5
    assert run.times("throttle") == [0.75, 1.75, 2.75, 3.75, 4.75]
    assert m["ConcurrentExecutions"] == 3


def test_a_request_still_running_at_the_end_is_in_flight():
    # Runs 5 s - 25 s in a 10 s scenario: counted as an invocation, not yet a success or failure.
    run = simulate("""
        duration: 10s
        functions:
          f:
            timeout: 30s
            behaviour: {init: 0s, duration: 20s}
        traffic:
          - {target: f, burst: 1, at: 5s}
    """)
    o = run.outcomes()
    assert (o["requests"], o["in_flight"], o["succeeded"], o["failed"]) == (1, 1, 0, 0)
    assert run.metrics()["Invocations"] == 1
    assert conservation_holds(o)
