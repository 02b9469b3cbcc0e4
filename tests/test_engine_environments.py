"""Execution environments: cold and warm starts, the warm pool's rule, idle expiry, provisioned
concurrency, resets after a timeout or crash, and Init over 10 s (lambda-facts.md section 3)."""

from __future__ import annotations

import pytest

from lambdalab.engine import Simulation

try:
    from engine_helpers import scenario, simulate
except ImportError:  # tests/ imported as a package
    from tests.engine_helpers import scenario, simulate


def test_first_request_is_a_cold_start_with_init_before_the_invoke():
    # Arrives at 1 s: Init 1.00-1.25 (250 ms), invoke 1.25-1.75 (500 ms).
    # Billed = Init + invoke on demand = 250 + 500 = 750 ms.
    run = simulate("""
        duration: 5s
        functions:
          f:
            behaviour: {init: 250ms, duration: 500ms}
        traffic:
          - {target: f, burst: 1, at: 1s}
    """)
    assert run.times("env_start") == [1.0]
    assert run.times("init_start") == [1.0]
    ((t_end, init_end),) = run.of("init_end")
    assert t_end == 1.25 and init_end["status"] == "success" and init_end["init_ms"] == 250.0
    ((t_start, start),) = run.of("invoke_start")
    assert t_start == 1.25 and start["cold"] is True and start["env"] == 1
    ((t_done, end),) = run.of("invoke_end")
    assert t_done == 1.75
    assert end["duration_ms"] == 500.0 and end["init_ms"] == 250.0 and end["billed_ms"] == 750
    m = run.metrics()
    assert m["ColdStarts"] == 1
    assert m["InitDuration"]["max"] == 250.0
    assert m["Duration"]["max"] == 500.0
    assert m["BilledDurationMs"] == 750


def test_a_warm_environment_is_reused_without_init():
    # 0.0-0.5 Init, 0.5-1.5 invoke; the request at 3 s finds env 1 idle: warm, 3.0-4.0.
    run = simulate("""
        duration: 10s
        functions:
          f:
            behaviour: {init: 500ms, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 0s}
          - {target: f, burst: 1, at: 3s}
    """)
    starts = run.of("invoke_start")
    assert [(t, d["env"], d["cold"]) for t, d in starts] == [(0.5, 1, True), (3.0, 1, False)]
    assert len(run.of("init_start")) == 1
    assert run.metrics()["ColdStarts"] == 1
    assert run.envs()["created"] == 1
    # warm invoke: no init_ms, billed = 1000 ms; cold one billed 500 + 1000
    assert [d["init_ms"] for _, d in run.of("invoke_end")] == [500.0, None]
    assert [d["billed_ms"] for _, d in run.of("invoke_end")] == [1500, 1000]


def test_a_request_goes_to_the_most_recently_used_idle_environment():
    # Three cold starts at 0, 0.25, 0.5 s (each earlier env is still busy) -> envs 1, 2, 3, idle from
    # 1.5, 1.75 and 2.0 s. At 5 s the most recently used idle env is 3 (busy 5.0-6.0); at 5.5 s env 3 is
    # busy, so env 2 (idle since 1.75, later than env 1's 1.5). At 8 s env 2 (idle since 6.5) is more
    # recent than env 3 (idle since 6.0). LRU would give 1, 2, 3; round-robin or random something else.
    run = simulate("""
        duration: 12s
        functions:
          f:
            behaviour: {init: 500ms, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 0s}
          - {target: f, burst: 1, at: 250ms}
          - {target: f, burst: 1, at: 500ms}
          - {target: f, burst: 1, at: 5s}
          - {target: f, burst: 1, at: 5500ms}
          - {target: f, burst: 1, at: 8s}
    """)
    starts = [(t, d["env"], d["cold"]) for t, d in run.of("invoke_start")]
    assert starts[:3] == [(0.5, 1, True), (0.75, 2, True), (1.0, 3, True)]
    assert starts[3:] == [(5.0, 3, False), (5.5, 2, False), (8.0, 2, False)]


def test_an_idle_environment_shuts_down_exactly_idle_expiry_after_it_went_idle():
    # idle_expiry 5 s. Request 0 s: env 1, Init 0-0.5, invoke 0.5-1.5, idle from 1.5 (expiry would be 6.5).
    # Request 6 s: still warm (env 1), busy 6.0-7.0, idle from 7.0 -> shut down at 12.0.
    # Request 12.5 s: env 1 is gone -> cold env 2, Init 12.5-13.0, invoke 13.0-14.0, shut down at 19.0.
    run = simulate("""
        duration: 30s
        functions:
          f:
            idle_expiry: 5s
            behaviour: {init: 500ms, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 0s}
          - {target: f, burst: 1, at: 6s}
          - {target: f, burst: 1, at: 12500ms}
    """)
    assert [(t, d["env"], d["cold"]) for t, d in run.of("invoke_start")] == [
        (0.5, 1, True),
        (6.0, 1, False),
        (13.0, 2, True),
    ]
    assert [(t, d["env"], d["reason"]) for t, d in run.of("env_shutdown")] == [
        (12.0, 1, "SPINDOWN"),
        (19.0, 2, "SPINDOWN"),
    ]
    assert run.metrics()["ColdStarts"] == 2
    # env 1 lived 0-12, env 2 12.5-19: (12 + 6.5) / 30 s
    assert run.envs()["time_average"] == pytest.approx(18.5 / 30, abs=1e-4)


def test_idle_expiry_defaults_to_the_account_setting_and_a_function_can_override_it():
    # Both functions run once, 0-1 s (no Init time), idle from 1 s: f uses the account's 2 s, g its own 4 s.
    run = simulate("""
        duration: 20s
        account: {idle_expiry: 2s}
        functions:
          f:
            behaviour: {init: 0s, duration: 1s}
          g:
            idle_expiry: 4s
            behaviour: {init: 0s, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 0s}
          - {target: g, burst: 1, at: 0s}
    """)
    assert [(t, d["function"]) for t, d in run.of("env_shutdown")] == [(3.0, "f"), (5.0, "g")]


def test_provisioned_environments_exist_before_traffic_are_never_cold_and_never_expire():
    # 2 provisioned environments, idle_expiry only 1 s, Init 3 s (never paid by a request).
    # Requests at 10 s and 100 s: warm, 1 s each, billed 1000 ms each, no Init.
    text = """
        duration: 200s
        functions:
          f:
            idle_expiry: 1s
            provisioned_concurrency: 2
            behaviour: {init: 3s, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 10s}
          - {target: f, burst: 1, at: 100s}
    """
    sim = Simulation(scenario(text))
    before = sim.snapshot().functions["f"]
    assert sim.now == 0.0
    assert len(before.environments) == 2
    assert all(e.provisioned and e.state == "idle" for e in before.environments)

    run = simulate(text)
    assert [(t, d["cold"]) for t, d in run.of("invoke_start")] == [(10.0, False), (100.0, False)]
    assert run.of("init_start") == [] and run.of("env_start") == []  # no on-demand environment was ever needed
    assert run.of("env_shutdown") == []
    m = run.metrics()
    assert m["ColdStarts"] == 0
    assert m["InitDuration"]["max"] is None
    assert m["ProvisionedConcurrencyInvocations"] == 2
    assert m["ProvisionedConcurrencySpilloverInvocations"] == 0
    assert m["BilledDurationMs"] == 2000
    envs = run.envs()
    assert (envs["created"], envs["max"]) == (2, 2)
    assert envs["time_average"] == 2.0  # both alive for the whole 200 s


@pytest.mark.parametrize(
    "error_type, colds",
    [
        ("Exception", [True, False, False]),  # a handled-by-runtime exception: the env stays warm
        ("ValueError", [True, False, False]),
        ("Runtime.ExitError", [True, True, True]),  # a crash resets the environment: next request re-inits
        ("Runtime.Unknown", [True, True, True]),
    ],
)
def test_a_crash_resets_the_environment_but_a_plain_exception_does_not(error_type, colds):
    # Every invocation fails with `error_type`. Requests at 0, 5, 10 s are sequential, so all land on env 1.
    run = simulate(f"""
        duration: 20s
        functions:
          f:
            behaviour:
              init: 500ms
              duration: 1s
              errors: {{type: {error_type}}}
        traffic:
          - {{target: f, burst: 1, at: 0s}}
          - {{target: f, burst: 1, at: 5s}}
          - {{target: f, burst: 1, at: 10s}}
    """)
    starts = run.of("invoke_start")
    assert [d["env"] for _, d in starts] == [1, 1, 1]
    assert [d["cold"] for _, d in starts] == colds
    assert [d["error"] for _, d in run.of("invoke_end")] == [error_type] * 3
    assert run.metrics()["ColdStarts"] == colds.count(True)
    assert run.metrics()["Errors"] == 3
    assert run.envs()["created"] == 1


def test_a_timed_out_invocation_resets_the_environment():
    # Timeout 1 s, the code needs 2 s: every invocation times out. Sequential requests reuse env 1, and
    # each one after the first is cold again because the timeout reset the environment.
    run = simulate("""
        duration: 20s
        functions:
          f:
            timeout: 1s
            behaviour: {init: 200ms, duration: 2s}
        traffic:
          - {target: f, burst: 1, at: 0s}
          - {target: f, burst: 1, at: 5s}
          - {target: f, burst: 1, at: 10s}
    """)
    assert [(d["env"], d["cold"]) for _, d in run.of("invoke_start")] == [(1, True), (1, True), (1, True)]
    assert all(d["timed_out"] for _, d in run.of("invoke_end"))
    assert run.metrics()["ColdStarts"] == 3
    assert run.envs()["created"] == 1


def test_out_of_memory_resets_the_environment():
    run = simulate("""
        duration: 20s
        functions:
          f:
            memory: 128
            behaviour: {init: 200ms, duration: 1s, memory_used: 300}
        traffic:
          - {target: f, burst: 1, at: 0s}
          - {target: f, burst: 1, at: 5s}
    """)
    assert [(d["env"], d["cold"]) for _, d in run.of("invoke_start")] == [(1, True), (1, True)]
    ends = [d for _, d in run.of("invoke_end")]
    assert [d["error"] for d in ends] == ["Runtime.OutOfMemory"] * 2
    assert [d["max_memory_used_mb"] for d in ends] == [128, 128]


def test_init_over_10_seconds_times_out_and_is_retried_inside_the_invoke():
    # Init takes 15 s on demand: the Init phase stops at the 10 s limit (status timeout), then Init is
    # retried inside the invoke phase: invoke 10 s -> 10 + 15 (re-init) + 1 (handler) = 26 s, under the 30 s timeout.
    run = simulate("""
        duration: 60s
        functions:
          f:
            timeout: 30s
            behaviour: {init: 15s, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 0s}
    """)
    ((t_init, init_end),) = run.of("init_end")
    assert t_init == 10.0 and init_end["status"] == "timeout"
    ((t_start, start),) = run.of("invoke_start")
    assert t_start == 10.0 and start["cold"] is True
    ((t_done, end),) = run.of("invoke_end")
    assert t_done == 26.0
    assert end["duration_ms"] == 16000.0 and end["error"] is None
    assert run.outcomes()["succeeded"] == 1


def test_a_timed_out_init_phase_reports_the_10_seconds_it_ran():
    # INIT_REPORT for this case reads "Init Duration: 10000.xx ms  Phase: init  Status: timeout"
    # (lambda-facts.md 3.3): the Init phase ran 10 s, not the 15 s the code would have needed.
    run = simulate("""
        duration: 60s
        functions:
          f:
            timeout: 30s
            behaviour: {init: 15s, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 0s}
    """)
    ((_, init_end),) = run.of("init_end")
    assert init_end["status"] == "timeout"
    assert init_end["init_ms"] == 10000.0


def test_a_retried_init_is_bounded_by_the_function_timeout_and_loops_until_the_env_is_replaced():
    # Init 15 s, timeout 12 s. Request 0 s: Init phase times out at 10 s; the retried Init inside the invoke
    # hits the 12 s timeout at 22 s. The timeout resets the env, so the request at 30 s re-inits inside its
    # invoke again (15 s > 12 s) and times out at 42 s: the "doom loop" of lambda-facts.md 3.1.
    run = simulate("""
        duration: 60s
        functions:
          f:
            timeout: 12s
            behaviour: {init: 15s, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 0s}
          - {target: f, burst: 1, at: 30s}
    """)
    assert run.times("invoke_start") == [10.0, 30.0]
    ends = run.of("invoke_end")
    assert [t for t, _ in ends] == [22.0, 42.0]
    assert [(d["duration_ms"], d["timed_out"], d["error"]) for _, d in ends] == [
        (12000.0, True, "Sandbox.Timedout")
    ] * 2
    assert [d["env"] for _, d in ends] == [1, 1]
    o = run.outcomes()
    assert (o["failed"], o["timed_out"], o["succeeded"]) == (2, 2, 0)


def test_init_under_10_seconds_is_not_bounded_by_the_function_timeout():
    # On demand, Init has its own 10 s limit: a 5 s Init with a 3 s timeout completes, then the 1 s handler runs.
    run = simulate("""
        duration: 20s
        functions:
          f:
            timeout: 3s
            behaviour: {init: 5s, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 0s}
    """)
    ((_, init_end),) = run.of("init_end")
    assert init_end["status"] == "success"
    ((t_done, end),) = run.of("invoke_end")
    assert t_done == 6.0 and end["error"] is None and end["duration_ms"] == 1000.0
    assert end["billed_ms"] == 6000  # 5000 Init + 1000 invoke
