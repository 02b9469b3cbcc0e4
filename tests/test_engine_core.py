"""The engine's core guarantees: determinism, seeds, and equal-time ordering (shared/spec/scenarios.md,
"Guarantees")."""

from __future__ import annotations

import json
import textwrap

from lambdalab.engine import Simulation
from lambdalab.engine.clock import EventLoop
from lambdalab.engine.report import build_report

try:
    from engine_helpers import report_json, scenario, simulate
except ImportError:  # tests/ imported as a package
    from tests.engine_helpers import report_json, scenario, simulate

# Randomness everywhere it can be: Poisson arrivals, jittered/lognormal durations, error rates, async retries.
RANDOM = """
    duration: 90s
    functions:
      api:
        memory: 512
        timeout: 2s
        behaviour:
          init: {dist: uniform, min: 100ms, max: 900ms}
          duration: {dist: lognormal, median: 120ms, p99: 2500ms}
          errors: {rate: 0.2}
      worker:
        memory: 256
        timeout: 3s
        reserved_concurrency: 3
        behaviour:
          init: 300ms
          duration: {mean: 1s, jitter: 500ms}
          errors: [{rate: 0.3, type: ValueError}]
        async: {maximum_retry_attempts: 1, maximum_event_age: 60s, on_failure: failures}
    queues:
      failures: {}
    traffic:
      - {target: api, invocation: sync, rate: 40/s, for: 60s, arrivals: poisson}
      - {target: worker, invocation: async, rate: 5/s, for: 30s, arrivals: poisson, event: {job: 1}}
"""


def test_same_scenario_and_seed_give_byte_identical_reports():
    first = report_json(RANDOM, seed=11)
    second = report_json(RANDOM, seed=11)
    assert first == second
    # and the run did something random enough for the check to matter
    report = json.loads(first)
    assert report["functions"]["api"]["metrics"]["Errors"] > 0
    assert report["functions"]["worker"]["metrics"]["Throttles"] > 0


def test_a_different_seed_changes_a_random_scenario():
    a = json.loads(report_json(RANDOM, seed=1))
    b = json.loads(report_json(RANDOM, seed=2))
    assert a["seed"] == 1 and b["seed"] == 2
    assert a["functions"]["api"]["metrics"]["Duration"] != b["functions"]["api"]["metrics"]["Duration"]
    assert a["functions"] != b["functions"]


def test_seed_defaults_to_the_scenario_file_seed():
    text = "seed: 5\n" + textwrap.dedent(RANDOM)
    assert report_json(text) == report_json(text, seed=5)
    assert report_json(text) != report_json(text, seed=6)


def test_listening_and_stepping_do_not_change_the_run():
    """A UI that subscribes and advances in small steps sees the same run as the CLI's one-shot run."""
    plain = report_json(RANDOM, seed=3)
    sim = Simulation(scenario(RANDOM), seed=3)
    seen = []
    sim.subscribe(lambda t, kind, data: seen.append(kind))
    t = 0.0
    while not sim.finished:
        t += 0.7
        sim.advance_to(t)
        sim.step(5)
        sim.snapshot()
    assert sim.now == 90.0
    assert json.dumps(build_report(sim), sort_keys=False) == plain
    assert "invoke_start" in seen and "throttle" in seen


def test_advance_to_stops_at_the_requested_time_and_snapshot_shows_the_busy_environment():
    sim = Simulation(
        scenario("""
        duration: 10s
        functions:
          f:
            behaviour: {init: 500ms, duration: 2s}
        traffic:
          - {target: f, burst: 1, at: 1s}
    """)
    )
    sim.advance_to(2.0)  # the request arrived at 1 s: Init 1.0-1.5, invoke 1.5-3.5
    assert sim.now == 2.0
    view = sim.snapshot().functions["f"]
    assert view.busy == 1
    (env,) = view.environments
    assert env.state == "busy" and env.provisioned is False
    assert env.request_id == sim.request_id(1)
    sim.advance_to(4.0)
    view = sim.snapshot().functions["f"]
    assert view.busy == 0 and view.environments[0].state == "idle" and view.environments[0].since_s == 3.5
    assert view.counters["succeeded"] == 1
    sim.advance_to(99.0)  # never past the scenario's duration
    assert sim.now == 10.0 and sim.finished


def test_event_loop_runs_equal_times_in_scheduling_order():
    loop = EventLoop(0)
    order = []
    for name in "abcde":
        loop.at(1.0, order.append, name)
    loop.at(0.5, order.append, "first")
    loop.at(1.0, order.append, "f")
    loop.run_until(2.0)
    assert order == ["first", "a", "b", "c", "d", "e", "f"]


def test_requests_arriving_at_the_same_instant_are_served_in_arrival_order():
    run = simulate("""
        duration: 10s
        functions:
          f:
            behaviour: {init: 100ms, duration: 1s}
        traffic:
          - {target: f, burst: 5, at: 2s}
    """)
    starts = run.of("invoke_start")
    assert [d["request_id"] for _, d in starts] == [1, 2, 3, 4, 5]
    assert [d["env"] for _, d in starts] == [1, 2, 3, 4, 5]


def test_traffic_items_due_at_the_same_time_run_in_the_order_they_are_listed():
    # Reserved concurrency 1: only the first request at t=1 s gets in. It must be the first listed
    # item's ({who: first}); if the second item's request got in, the `when` rule would fail it.
    run = simulate("""
        duration: 10s
        functions:
          f:
            reserved_concurrency: 1
            behaviour:
              init: 0s
              duration: 1s
              errors: {when: {path: $.who, equals: second}}
        traffic:
          - {target: f, burst: 1, at: 1s, event: {who: first}}
          - {target: f, burst: 1, at: 1s, event: {who: second}}
    """)
    m = run.metrics()
    assert (m["Invocations"], m["Errors"], m["Throttles"]) == (1, 0, 1)
