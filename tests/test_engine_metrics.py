"""The report's figures for tiny scenarios whose every number can be worked out by hand
(shared/spec/scenarios.md, "The report"; lambda-facts.md section 10)."""

from __future__ import annotations

import pytest

try:
    from engine_helpers import simulate
except ImportError:  # tests/ imported as a package
    from tests.engine_helpers import simulate

# The latency histogram keeps 11 significant bits (relative error under 0.05 %), so percentiles other
# than max are compared with that tolerance.
HIST = dict(rel=1e-3)


def test_duration_percentiles_with_two_cold_starts_in_ten():
    # duration 125 ms, cold starts add 750 ms -> 875 ms. A burst of 2 at 0 s makes 2 cold starts; 8 more
    # requests at 2..9 s are warm. Sorted: 8 x 125, 2 x 875. Nearest rank: p50 = 5th = 125,
    # p90 = 9th = 875, p99 = 10th = 875, max = 875.
    run = simulate("""
        duration: 12s
        functions:
          f:
            behaviour: {init: 0s, duration: 125ms, cold_start_extra: 750ms}
        traffic:
          - {target: f, burst: 2, at: 0s}
          - {target: f, rate: 1/s, for: 8s, start: 2s}
    """)
    m = run.metrics()
    assert (m["Invocations"], m["ColdStarts"]) == (10, 2)
    d = m["Duration"]
    assert d["p50"] == pytest.approx(125.0, **HIST)
    assert d["p90"] == pytest.approx(875.0, **HIST)
    assert d["p99"] == pytest.approx(875.0, **HIST)
    assert d["max"] == 875.0


def test_duration_p99_differs_from_max_with_one_cold_start_in_a_hundred():
    # 1 cold (875 ms) + 99 warm (125 ms): p99 = 99th value = 125 ms, max = 875 ms.
    run = simulate("""
        duration: 102s
        functions:
          f:
            behaviour: {init: 0s, duration: 125ms, cold_start_extra: 750ms}
        traffic:
          - {target: f, rate: 1/s, for: 100s}
    """)
    m = run.metrics()
    assert (m["Invocations"], m["ColdStarts"]) == (100, 1)
    d = m["Duration"]
    assert d["p50"] == pytest.approx(125.0, **HIST)
    assert d["p90"] == pytest.approx(125.0, **HIST)
    assert d["p99"] == pytest.approx(125.0, **HIST)
    assert d["max"] == 875.0


def test_duration_and_init_duration_are_none_without_invocations():
    run = simulate("""
        duration: 5s
        functions:
          f:
            behaviour: {init: 0s, duration: 125ms}
    """)
    m = run.metrics()
    assert m["Duration"] == {"p50": None, "p90": None, "p99": None, "max": None}
    assert m["InitDuration"] == {"p50": None, "p90": None, "p99": None, "max": None}
    assert (m["Invocations"], m["BilledDurationMs"], m["ColdStarts"]) == (0, 0, 0)


def test_init_duration_is_reported_for_cold_starts_only():
    # 3 requests at 0, 2, 4 s: one cold (Init 250 ms), two warm.
    run = simulate("""
        duration: 6s
        functions:
          f:
            behaviour: {init: 250ms, duration: 500ms}
        traffic:
          - {target: f, rate: 0.5/s, for: 6s}
    """)
    m = run.metrics()
    assert (m["Invocations"], m["ColdStarts"]) == (3, 1)
    assert m["InitDuration"]["max"] == 250.0
    assert m["InitDuration"]["p50"] == pytest.approx(250.0, **HIST)


def test_billed_duration_rounds_up_to_the_next_millisecond():
    # 100.4 ms -> billed 101 ms (1 ms granularity, rounded up, since Dec 2020).
    run = simulate("""
        duration: 5s
        functions:
          f:
            behaviour: {init: 0s, duration: 100.4ms}
        traffic:
          - {target: f, burst: 1, at: 0s}
    """)
    assert run.metrics()["BilledDurationMs"] == 101


def test_billed_duration_of_a_whole_number_of_milliseconds_is_not_rounded_up():
    # Three warm-ish requests of exactly 100 ms at 1, 2 and 3 s (Init 0): billed 100 ms each = 300 ms.
    # (1.1 - 1.0) * 1000 is 100.00000000000009 in floating point; a bill of 101 ms would be an artefact.
    run = simulate("""
        duration: 5s
        functions:
          f:
            behaviour: {init: 0s, duration: 100ms}
        traffic:
          - {target: f, rate: 1/s, for: 3s, start: 1s}
    """)
    assert [d["billed_ms"] for _, d in run.of("invoke_end")] == [100, 100, 100]
    assert run.metrics()["BilledDurationMs"] == 300


def test_environment_figures_for_a_tiny_scenario():
    # Init 0.5 s, invoke 1 s, idle_expiry 3 s, run 10 s. Requests at 0 s and 1 s.
    #   env 1: created 0.0, busy 0.0-1.5 (Init + invoke), idle 1.5, shut down 4.5 -> alive 4.5 s, busy 1.5 s
    #   env 2: created 1.0 (env 1 busy), busy 1.0-2.5, idle 2.5, shut down 5.5   -> alive 4.5 s, busy 1.5 s
    # created 2, max 2, time_average = 9.0 / 10 = 0.9, busy_time_average = 3.0 / 10 = 0.3
    run = simulate("""
        duration: 10s
        functions:
          f:
            idle_expiry: 3s
            behaviour: {init: 500ms, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 0s}
          - {target: f, burst: 1, at: 1s}
    """)
    assert run.envs() == {"created": 2, "max": 2, "time_average": 0.9, "busy_time_average": 0.3}
    assert run.metrics()["ColdStarts"] == 2
    assert run.metrics()["ConcurrentExecutions"] == 2
    assert run.report["account"]["ConcurrentExecutions"] == 2


def test_environment_figures_count_environments_still_alive_at_the_end():
    # The same traffic in a 2 s run: env 1 alive 0-2 (2 s), env 2 alive 1-2 (1 s) -> 3 / 2 = 1.5.
    # Busy: env 1 0-1.5 (1.5 s), env 2 1.0-2.0 still busy at the end (1 s) -> 2.5 / 2 = 1.25.
    run = simulate("""
        duration: 2s
        functions:
          f:
            idle_expiry: 3s
            behaviour: {init: 500ms, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 0s}
          - {target: f, burst: 1, at: 1s}
    """)
    assert run.envs() == {"created": 2, "max": 2, "time_average": 1.5, "busy_time_average": 1.25}
    assert run.outcomes()["in_flight"] == 1


def test_max_environments_counts_the_most_alive_at_once_not_the_total():
    # idle_expiry 1 s: three requests 5 s apart each find the previous env gone -> 3 created, never 2 at once.
    run = simulate("""
        duration: 20s
        functions:
          f:
            idle_expiry: 1s
            behaviour: {init: 0s, duration: 1s}
        traffic:
          - {target: f, rate: 0.2/s, for: 15s}
    """)
    envs = run.envs()
    assert (envs["created"], envs["max"]) == (3, 1)
    # each env alive 2 s (1 s busy + 1 s idle): 6 / 20 = 0.3; busy 3 / 20 = 0.15
    assert (envs["time_average"], envs["busy_time_average"]) == (0.3, 0.15)


def test_series_per_step():
    # step 1 s, run 8 s. Init 0.5 s, invoke 1 s, idle_expiry 3 s. Requests at 0.25 s and 1.25 s:
    #   env 1: busy 0.25-1.75, idle 1.75, shut down 4.75
    #   env 2: created 1.25 (env 1 busy), busy 1.25-2.75, idle 2.75, shut down 5.75
    # ConcurrentExecutions (max within each step): (0,1] 1, (1,2] 2, (2,3] 1, then 0.
    # environments alive at each step's end: t=1: 1, 2: 2, 3: 2, 4: 2, 5: 1, 6..8: 0.
    run = simulate(
        """
        duration: 8s
        functions:
          f:
            idle_expiry: 3s
            behaviour: {init: 500ms, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 250ms}
          - {target: f, burst: 1, at: 1250ms}
    """,
        series_step=1.0,
    )
    series = run.report["series"]
    assert series["step_s"] == 1.0
    assert series["t_s"] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    f = series["functions"]["f"]
    assert f["ConcurrentExecutions"] == [1, 2, 1, 0, 0, 0, 0, 0]
    assert f["environments"] == [1, 2, 2, 2, 1, 0, 0, 0]
    assert f["Invocations"] == [1, 1, 0, 0, 0, 0, 0, 0]
    assert f["ColdStarts"] == [1, 1, 0, 0, 0, 0, 0, 0]
    assert f["Errors"] == [0] * 8 and f["Throttles"] == [0] * 8


def test_series_counts_add_up_to_the_totals_and_are_absent_unless_asked_for():
    text = """
        duration: 30s
        functions:
          f:
            reserved_concurrency: 3
            behaviour: {init: 100ms, duration: 700ms, errors: {every: 4}}
        traffic:
          - {target: f, rate: 6/s, for: 20s}
    """
    with_series = simulate(text, series_step=2.0)
    s = with_series.report["series"]["functions"]["f"]
    m = with_series.metrics()
    assert len(with_series.report["series"]["t_s"]) == 15
    assert sum(s["Invocations"]) == m["Invocations"]
    assert sum(s["Throttles"]) == m["Throttles"] > 0
    assert sum(s["Errors"]) == m["Errors"] > 0
    assert max(s["ConcurrentExecutions"]) == m["ConcurrentExecutions"] == 3
    assert "series" not in simulate(text).report


def test_series_include_what_happens_at_the_very_end_of_the_run():
    # Requests at 4 s and 5 s in a 5 s run with a 5 s step: the run processes the arrival at exactly 5 s
    # (Invocations == 2), so the one step (0, 5] must count both.
    text = """
        duration: 5s
        functions:
          f:
            behaviour: {init: 0s, duration: 1ms}
        traffic:
          - {target: f, rate: 1/s, for: 2s, start: 4s}
    """
    run = simulate(text, series_step=5.0)
    assert run.metrics()["Invocations"] == 2
    assert run.report["series"]["t_s"] == [5.0]
    assert run.report["series"]["functions"]["f"]["Invocations"] == [2]


def test_account_concurrency_is_the_maximum_across_functions_together():
    # a: 3 at 0-2 s; b: 2 at 1-3 s -> 5 at once during 1-2 s.
    run = simulate("""
        duration: 5s
        functions:
          a:
            behaviour: {init: 0s, duration: 2s}
          b:
            reserved_concurrency: 10
            behaviour: {init: 0s, duration: 2s}
        traffic:
          - {target: a, burst: 3, at: 0s}
          - {target: b, burst: 2, at: 1s}
    """)
    acct = run.report["account"]
    assert acct["ConcurrentExecutions"] == 5
    assert acct["UnreservedConcurrentExecutions"] == 3  # only a draws on the unreserved pool
    assert acct["unreserved_capacity"] == 990
