"""Lambda extensions: their Init before the runtime's, their work after each handler, their Shutdown.

Facts: shared/reference/lambda-facts.md, lifecycle table (Init: extension init, then runtime and function init,
10 s on demand; Invoke: the timeout bounds the whole phase, extensions' post-invoke work included; Shutdown:
0 ms without extensions, 500 ms with internal ones, 2,000 ms with an external one), and §"Extensions" (at most
10); PostRuntimeExtensionsDuration (METRICS); billing includes extensions' time (PRICE).
"""

from __future__ import annotations

import pytest
from engine_helpers import simulate
from test_scenario_validation import problems

FUNCTIONS = """\
name: extensions
duration: 30m
functions:
  api:
    timeout: TIMEOUT
    behaviour: {init: 300ms, duration: DURATION}
    extensions: EXTENSIONS
  plain:
    timeout: TIMEOUT
    behaviour: {init: 300ms, duration: DURATION}
traffic:
  - {target: api, rate: 2/s, for: 10m}
  - {target: plain, rate: 2/s, for: 10m}
"""
TWO = (
    "[{name: telemetry, init: 400ms, post_invoke: 20ms, shutdown: 3s},"
    " {name: secrets, type: internal, init: 100ms, post_invoke: 5ms}]"
)


def run(extensions: str = TWO, duration: str = "100ms", timeout: str = "3s"):
    text = FUNCTIONS.replace("EXTENSIONS", extensions).replace("DURATION", duration).replace("TIMEOUT", timeout)
    return simulate(text)


def test_init_duration_adds_the_extensions_init_to_the_functions():
    result = run()
    assert result.metrics("api")["InitDuration"]["max"] == 300 + 400 + 100
    assert result.metrics("plain")["InitDuration"]["max"] == 300


def test_post_invoke_work_is_billed_and_keeps_the_environment_busy_but_duration_stays_the_handlers():
    result = run(duration="100ms")
    api, plain = result.metrics("api"), result.metrics("plain")
    assert api["Duration"] == plain["Duration"]  # the handler's own time
    assert api["PostRuntimeExtensionsDuration"]["max"] == 20  # the longer of the two, side by side
    assert "PostRuntimeExtensionsDuration" not in plain
    invocations = api["Invocations"]
    assert invocations == plain["Invocations"] == 1200
    cold_api, cold_plain = api["ColdStarts"], plain["ColdStarts"]
    assert api["BilledDurationMs"] == invocations * 120 + cold_api * 800
    assert plain["BilledDurationMs"] == invocations * 100 + cold_plain * 300


def test_a_long_post_invoke_needs_more_concurrency():
    result = run(extensions="[{name: flush, post_invoke: 900ms}]", duration="200ms")
    # 200 ms busy of every 500 (2 at once only while the first cold start's 300 ms Init lasts) ...
    assert result.metrics("plain")["ConcurrentExecutions"] == 2
    # ... against 1.1 s busy for a request every 500 ms: 3 environments at once
    assert result.metrics("api")["ConcurrentExecutions"] == 3
    assert result.fn("api")["environments"]["busy_time_average"] == pytest.approx(2.2 * 10 / 30, abs=0.01)  # 10m of 30


def test_post_invoke_work_cut_by_the_timeout_resets_the_environment():
    result = run(extensions="[{name: flush, post_invoke: 2s}]", duration="2s", timeout="3s")
    api = result.metrics("api")
    assert api["PostRuntimeExtensionsDuration"]["max"] == pytest.approx(1000, abs=1e-6)  # 3 s - 2 s
    assert api["Errors"] == 0  # the handler's result stands
    assert api["ColdStarts"] == api["Invocations"]  # each reset: the next request pays Init again
    assert result.fn("api")["environments"]["shut_down"] >= api["Invocations"]


@pytest.mark.parametrize(
    "extensions, shutdown_ms",
    [
        ("[{name: a, type: external, shutdown: 3s}]", 2000),  # cut at 2,000 ms with an external extension
        ("[{name: a, type: internal, shutdown: 3s}]", 500),  # 500 ms with internal ones only
        ("[{name: a, type: internal, shutdown: 200ms}, {name: b, shutdown: 1s}]", 1000),  # the longest they ask
    ],
)
def test_shutdown_lasts_what_the_extensions_ask_within_lambdas_limit(extensions, shutdown_ms):
    result = run(extensions=extensions)
    environments = result.fn("api")["environments"]
    assert environments["shut_down"] == environments["created"] - len(result.sim.functions["api"].environments)
    assert environments["shut_down"] > 0  # the run lasts 20 minutes past the traffic: idle environments go
    assert environments["shutdown_duration"] == {"p50": shutdown_ms, "max": shutdown_ms}
    assert "shut_down" not in result.fn("plain")["environments"]


def test_the_text_report_has_a_table_of_extensions():
    from lambdalab.engine.report_text import render

    result = run()
    text = render(result.sim, result.report)
    assert "Extensions (Init Duration includes theirs" in text
    row = next(line for line in text.splitlines() if line.strip().startswith("api ") and "2,000.00" in line)
    assert row.split()[1:4] == ["800.00", "20.00", "20.00"]


@pytest.mark.parametrize(
    "extensions, message",
    [
        ("[" + ", ".join(f"{{name: e{i}}}" for i in range(11)) + "]", "11 extensions: a function has at most 10"),
        ("[{name: a}, {name: a}]", "two extensions named 'a'"),
        ("[{name: a, type: sidecar}]", "functions.api.extensions[0].type"),
        ("[{name: a, init: soon}]", "functions.api.extensions[0].init"),
    ],
)
def test_bad_extensions_are_refused_with_the_place(extensions, message):
    text = FUNCTIONS.replace("EXTENSIONS", extensions).replace("DURATION", "1s").replace("TIMEOUT", "3s")
    assert any(message in p for p in problems(text)), problems(text)


def test_extensions_of_real_code_wait_for_a_later_lambdalab():
    found = problems(
        """\
        duration: 1m
        functions:
          api:
            code: .
            handler: app.handler
            extensions: [{name: telemetry, init: 100ms}]
        """
    )
    assert any("extensions for a function with real code: not simulated yet" in p for p in found), found
