"""Reserved and provisioned concurrency, the account pool, and the per-function scaling rate
(lambda-facts.md sections 1.3, 3.5 and 4)."""

from __future__ import annotations

from collections import Counter

import pytest

from lambdalab.inputs import InputErrors

try:
    from engine_helpers import scenario, simulate
except ImportError:  # tests/ imported as a package
    from tests.engine_helpers import scenario, simulate

RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT = "ConcurrentInvocationLimitExceeded"
RATE = "FunctionInvocationRateLimitExceeded"


def reasons(run, **match) -> Counter:
    return Counter(d["reason"] for _, d in run.of("throttle", **match))


def test_reserved_concurrency_caps_concurrent_executions_and_throttles_the_rest():
    # 10 sync requests at once, reserved 5: 5 run (1 s each), 5 get 429 with the reserved-limit reason.
    # At 2 s the five are done and a second burst of 5 all fit (warm).
    run = simulate("""
        duration: 10s
        functions:
          f:
            reserved_concurrency: 5
            behaviour: {init: 0s, duration: 1s}
        traffic:
          - {target: f, burst: 10, at: 0s}
          - {target: f, burst: 5, at: 2s}
    """)
    m, o = run.metrics(), run.outcomes()
    assert m["ConcurrentExecutions"] == 5
    assert (m["Invocations"], m["Throttles"]) == (10, 5)
    assert (o["succeeded"], o["throttled"]) == (10, 5)
    assert reasons(run) == Counter({RESERVED: 5})
    assert all(d["status"] == 429 and d["error"] == "TooManyRequestsException" for _, d in run.of("throttle"))
    assert run.envs()["created"] == 5


def test_reserved_concurrency_zero_throttles_every_sync_request():
    # 10/s for 2 s = 20 requests, none run.
    run = simulate("""
        duration: 5s
        functions:
          f:
            reserved_concurrency: 0
            behaviour: {init: 0s, duration: 100ms}
        traffic:
          - {target: f, invocation: sync, rate: 10/s, for: 2s}
    """)
    m, o = run.metrics(), run.outcomes()
    assert (m["Invocations"], m["Throttles"], m["ConcurrentExecutions"]) == (0, 20, 0)
    assert (o["requests"], o["throttled"], o["succeeded"]) == (20, 20, 0)
    assert reasons(run) == Counter({RESERVED: 20})
    assert run.envs()["created"] == 0


def test_unreserved_functions_share_what_reservations_leave_and_a_reservation_is_guaranteed():
    # Account 200, `a` reserves 100: the unreserved pool is 200 - 100 = 100.
    # `b` (unreserved) bursts 150 first: 100 run, 50 throttled with the account reason.
    # `a` then bursts 101: its 100 are guaranteed (b cannot take them); the 101st hits a's own limit.
    run = simulate("""
        duration: 10s
        account: {concurrency: 200}
        functions:
          a:
            reserved_concurrency: 100
            behaviour: {init: 0s, duration: 2s}
          b:
            behaviour: {init: 0s, duration: 2s}
        traffic:
          - {target: b, burst: 150, at: 0s}
          - {target: a, burst: 101, at: 0s}
    """)
    a, b = run.metrics("a"), run.metrics("b")
    assert (b["Invocations"], b["Throttles"], b["ConcurrentExecutions"]) == (100, 50, 100)
    assert (a["Invocations"], a["Throttles"], a["ConcurrentExecutions"]) == (100, 1, 100)
    assert reasons(run, function="b") == Counter({ACCOUNT: 50})
    assert reasons(run, function="a") == Counter({RESERVED: 1})
    acct = run.report["account"]
    assert acct["ConcurrentExecutions"] == 200
    assert acct["UnreservedConcurrentExecutions"] == 100


def test_the_unreserved_pool_frees_up_when_executions_finish():
    # Account 150, `a` reserves 50: pool of 100. `b` fills it at 0 s (2 s each); at 1 s b is still full
    # (10 throttled); at 3 s the first 100 are done and 10 more fit.
    run = simulate("""
        duration: 10s
        account: {concurrency: 150}
        functions:
          a:
            reserved_concurrency: 50
            behaviour: {init: 0s, duration: 2s}
          b:
            behaviour: {init: 0s, duration: 2s}
        traffic:
          - {target: b, burst: 100, at: 0s}
          - {target: b, burst: 10, at: 1s}
          - {target: b, burst: 10, at: 3s}
    """)
    b = run.metrics("b")
    assert (b["Invocations"], b["Throttles"]) == (110, 10)
    assert reasons(run, function="b") == Counter({ACCOUNT: 10})


@pytest.mark.parametrize("reserved, ok", [(900, True), (901, False)])
def test_validation_keeps_the_unreserved_minimum_of_100(reserved, ok):
    text = f"""
        duration: 10s
        functions:
          f:
            reserved_concurrency: {reserved}
            behaviour: {{init: 0s, duration: 1s}}
    """
    if ok:
        assert scenario(text).functions["f"].reserved_concurrency == reserved
        return
    with pytest.raises(InputErrors) as caught:
        scenario(text)
    message = str(caught.value)
    assert "functions.f.reserved_concurrency" in message
    assert "100" in message


def test_validation_counts_all_reservations_together():
    # 450 + 451 = 901 reserved of 1000 leaves 99 < 100.
    with pytest.raises(InputErrors) as caught:
        scenario("""
            duration: 10s
            functions:
              a:
                reserved_concurrency: 450
                behaviour: {init: 0s, duration: 1s}
              b:
                reserved_concurrency: 451
                behaviour: {init: 0s, duration: 1s}
        """)
    assert "reserved_concurrency" in str(caught.value)
    # 450 + 450 leaves exactly 100: fine
    scenario("""
        duration: 10s
        functions:
          a:
            reserved_concurrency: 450
            behaviour: {init: 0s, duration: 1s}
          b:
            reserved_concurrency: 450
            behaviour: {init: 0s, duration: 1s}
    """)


def test_validation_uses_a_lower_unreserved_minimum_when_the_account_sets_one():
    # Low-quota accounts show smaller minimums such as [50] (lambda-facts.md section 4).
    base = """
        duration: 10s
        account: {{concurrency: 100, unreserved_minimum: 50}}
        functions:
          f:
            reserved_concurrency: {n}
            behaviour: {{init: 0s, duration: 1s}}
    """
    scenario(base.format(n=50))
    with pytest.raises(InputErrors):
        scenario(base.format(n=51))


def test_provisioned_concurrency_serves_first_and_the_rest_spills_over_to_on_demand():
    # PC 2, burst of 5 at 1 s: 2 run on provisioned envs (warm, no Init), 3 spill over to new on-demand
    # environments (cold: Init 1 s then 2 s).
    run = simulate("""
        duration: 10s
        functions:
          f:
            provisioned_concurrency: 2
            behaviour: {init: 1s, duration: 2s}
        traffic:
          - {target: f, burst: 5, at: 1s}
    """)
    m = run.metrics()
    assert m["ProvisionedConcurrencyInvocations"] == 2
    assert m["ProvisionedConcurrencySpilloverInvocations"] == 3
    assert m["ColdStarts"] == 3
    assert m["ConcurrentExecutions"] == 5
    assert run.envs()["created"] == 5
    starts = run.of("invoke_start")
    assert sorted((d["request_id"], d["cold"]) for _, d in starts) == [
        (1, False),
        (2, False),
        (3, True),
        (4, True),
        (5, True),
    ]
    # warm ones start at 1 s, spill-over ones after their 1 s Init
    assert sorted(t for t, _ in starts) == [1.0, 1.0, 2.0, 2.0, 2.0]


def test_provisioned_concurrency_counts_against_the_reservation():
    # Reserved 3 of which 2 provisioned: a burst of 5 runs 2 provisioned + 1 spill-over, 2 throttled.
    run = simulate("""
        duration: 10s
        functions:
          f:
            reserved_concurrency: 3
            provisioned_concurrency: 2
            behaviour: {init: 500ms, duration: 2s}
        traffic:
          - {target: f, burst: 5, at: 1s}
    """)
    m = run.metrics()
    assert (m["Invocations"], m["Throttles"], m["ConcurrentExecutions"]) == (3, 2, 3)
    assert (m["ProvisionedConcurrencyInvocations"], m["ProvisionedConcurrencySpilloverInvocations"]) == (2, 1)
    assert reasons(run) == Counter({RESERVED: 2})


def test_provisioned_concurrency_above_the_reservation_is_rejected():
    with pytest.raises(InputErrors) as caught:
        scenario("""
            duration: 10s
            functions:
              f:
                reserved_concurrency: 2
                provisioned_concurrency: 3
                behaviour: {init: 0s, duration: 1s}
        """)
    assert "functions.f.provisioned_concurrency" in str(caught.value)


def test_scaling_rate_1000_new_environments_at_once_then_100_per_second():
    # Account 5000, so only the per-function scaling rate limits (+1,000 environments per 10 s, refilled
    # continuously = a bucket of 1,000 refilled at 100/s). Every invocation lasts 60 s.
    #   t=0    burst 3000: 1000 new envs, 2000 throttled
    #   t=1    burst  500: 1 s refilled 100 -> 100 new, 400 throttled
    #   t=11   burst 2000: 10 s refilled 1000 (the cap) -> 1000 new, 1000 throttled
    #   t=100  burst 2500: all 2100 envs are idle and warm (they finished by 71 s) and reuse needs no
    #          scaling; 400 new ones come from the (full, not accumulated beyond 1000) bucket -> 0 throttled
    run = simulate("""
        duration: 200s
        account: {concurrency: 5000}
        functions:
          f:
            timeout: 90s
            behaviour: {init: 0s, duration: 60s}
        traffic:
          - {target: f, burst: 3000, at: 0s}
          - {target: f, burst: 500, at: 1s}
          - {target: f, burst: 2000, at: 11s}
          - {target: f, burst: 2500, at: 100s}
    """)
    throttles = run.of("throttle")
    per_time = Counter(t for t, _ in throttles)
    assert per_time == Counter({0.0: 2000, 1.0: 400, 11.0: 1000})
    assert reasons(run) == Counter({RATE: 3400})
    new_envs = Counter(run.times("env_start"))
    assert new_envs == Counter({0.0: 1000, 1.0: 100, 11.0: 1000, 100.0: 400})
    m = run.metrics()
    assert (m["Invocations"], m["Throttles"]) == (4600, 3400)
    assert m["ConcurrentExecutions"] == 2500
    assert run.envs()["created"] == 2500
    assert run.outcomes()["throttled"] == 3400


def test_scaling_rate_is_per_function():
    # Two functions each get their own 1,000 at once (since Nov 2023 each function scales independently).
    run = simulate("""
        duration: 10s
        account: {concurrency: 5000}
        functions:
          a:
            behaviour: {init: 0s, duration: 2s}
          b:
            behaviour: {init: 0s, duration: 2s}
        traffic:
          - {target: a, burst: 1200, at: 0s}
          - {target: b, burst: 1200, at: 0s}
    """)
    for name in ("a", "b"):
        m = run.metrics(name)
        assert (m["Invocations"], m["Throttles"]) == (1000, 200)
        assert reasons(run, function=name) == Counter({RATE: 200})
