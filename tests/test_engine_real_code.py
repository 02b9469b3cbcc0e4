"""Scenarios that run learners' real handlers: one worker per simulated environment, outcomes from the code."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

HANDLERS = Path(__file__).parent / "handlers"


def scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "real.yaml"
    path.write_text(body.replace("CODE", str(HANDLERS)))
    return path


def repeated_logs(path: Path) -> str:
    """`sim --logs` of the scenario, run twice: the logs, once both runs are shown to write the same bytes."""
    logs = []
    for run in (1, 2):
        written = path.with_name(f"{path.stem}-{run}.log")
        result = run_cli("sim", str(path), "--logs", str(written))
        assert result.returncode == 0, result.stderr
        logs.append(written.read_text())
    assert logs[0] == logs[1]
    return logs[0]


def report(path: Path, *args: str) -> dict:
    result = run_cli("sim", str(path), "--json", *args)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_warm_environment_keeps_its_globals_across_simulated_invocations(tmp_path):
    path = scenario(
        tmp_path,
        """\
name: warm reuse with real code
duration: 10s
functions:
  counter:
    code: CODE
    handler: app.counter
    async: {on_success: "queue:done"}
queues: {done: {}}
traffic:
  - {target: counter, invocation: async, rate: 1/s, for: 5s}
""",
    )
    out = report(path)
    fn = out["functions"]["counter"]
    assert fn["metrics"]["ColdStarts"] == 1 and fn["outcomes"]["to_on_success"] == 5
    payloads = [m["body"]["responsePayload"] for m in out["queues"]["done"]["messages"]]
    assert [p["invocations"] for p in payloads] == [1, 2, 3, 4, 5]  # one environment, its global counting up
    assert [p["tmp_lines"] for p in payloads] == [1, 2, 3, 4, 5]
    logs = tmp_path / "run.log"
    assert run_cli("sim", str(path), "--logs", str(logs)).returncode == 0
    lines = [line.split("\t", 2)[2] for line in logs.read_text().splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("START"))
    assert lines[start + 1] == "invocation 1" and lines[start + 3].startswith("END")  # the code's own output, in place


def test_the_codes_errors_drive_retries_and_the_on_failure_destination(tmp_path):
    path = scenario(
        tmp_path,
        """\
name: failing real code
duration: 5m
functions:
  orders:
    code: CODE
    handler: app.fails
    async: {maximum_retry_attempts: 1, on_failure: "queue:failed"}
queues: {failed: {}}
traffic:
  - {target: orders, invocation: async, burst: 2, at: 0s}
""",
    )
    out = report(path)
    fn = out["functions"]["orders"]
    assert fn["metrics"]["Invocations"] == 4 and fn["metrics"]["Errors"] == 4
    assert fn["outcomes"]["retried"] == 2 and fn["outcomes"]["to_on_failure"] == 2
    record = out["queues"]["failed"]["messages"][0]["body"]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "the order has no id"


def test_a_timeout_in_real_code_is_a_simulated_timeout_and_resets_the_environment(tmp_path):
    path = scenario(
        tmp_path,
        """\
name: real timeout
duration: 20s
functions:
  stuck:
    code: CODE
    handler: app.loops_forever
    timeout: 1s
traffic:
  - {target: stuck, invocation: sync, rate: 1/s, for: 2s}
""",
    )
    fn = report(path)["functions"]["stuck"]
    assert fn["outcomes"]["timed_out"] == 2 and fn["outcomes"]["failed"] == 2
    assert fn["metrics"]["Duration"]["max"] == 1000.0
    assert fn["metrics"]["ColdStarts"] == 2  # the reset environment paid Init again


def test_a_behaviour_model_times_real_code_so_the_run_repeats(tmp_path):
    path = scenario(
        tmp_path,
        """\
name: modelled timing
duration: 10s
functions:
  echo:
    code: CODE
    handler: app.echo
    behaviour: {init: 200ms, duration: 50ms}
traffic:
  - {target: echo, invocation: sync, rate: 2/s, for: 3s}
""",
    )
    first, second = report(path), report(path)
    assert first == second
    assert first["functions"]["echo"]["metrics"]["Duration"]["p50"] == 50.0
    assert first["functions"]["echo"]["metrics"]["InitDuration"]["max"] == 200.0


def test_real_codes_log_records_carry_virtual_time_so_the_logs_repeat(tmp_path):
    """A record logged through `logging` shows the invocation's virtual time, as its line's CloudWatch time
    does, not the machine's clock, and REPORT's memory is the model's: the same scenario writes the same logs at
    every run."""
    path = scenario(
        tmp_path,
        """\
name: logged records
duration: 5s
functions:
  counter:
    code: CODE
    handler: app.counter
    behaviour: {init: 200ms, duration: 50ms, memory_used: 40}
traffic:
  - {target: counter, invocation: sync, rate: 1/s, for: 2s}
""",
    )
    logs = repeated_logs(path)
    reports = [line for line in logs.splitlines() if "\tREPORT RequestId" in line]
    assert len(reports) == 2 and all("Max Memory Used: 40 MB" in line for line in reports)  # the model's, not measured
    logged = [line.split("\t") for line in logs.splitlines() if "logged through logging" in line]
    assert len(logged) == 2
    for cloudwatch_time, _group, level, record_time, *_rest in logged:
        assert level == "[WARNING]"
        assert record_time.startswith("2026-01-01T00:00:0") and record_time <= cloudwatch_time


def test_more_real_environments_than_the_cap_stop_with_advice(tmp_path):
    path = scenario(
        tmp_path,
        """\
name: too many
duration: 5s
functions:
  echo:
    code: CODE
    handler: slow_init.handler
traffic:
  - {target: echo, invocation: sync, burst: 5, at: 0s}
""",
    )
    result = run_cli("sim", str(path), "--real-environments", "3")
    assert result.returncode == 2
    assert "needs more than 3 real execution environments at once" in result.stderr
    assert "behaviour model" in result.stderr and "Traceback" not in result.stderr
    assert report(path, "--real-environments", "5")["functions"]["echo"]["metrics"]["ColdStarts"] == 5


def test_code_and_handler_are_validated(tmp_path):
    path = scenario(
        tmp_path,
        """\
name: bad
duration: 5s
functions:
  a: {code: nowhere, handler: app.handler}
  b: {code: CODE}
""",
    )
    result = run_cli("sim", str(path))
    assert result.returncode == 2
    assert "functions.a.code: 'nowhere' is not a folder (it is read relative to the scenario file)" in result.stderr
    assert "functions.b: missing required key 'handler'" in result.stderr
    path.write_text(
        path.read_text().replace(
            "b: {code: " + str(HANDLERS) + "}", "b: {code: " + str(HANDLERS) + ", handler: not-a-handler}"
        )
    )
    result = run_cli("sim", str(path))
    assert result.returncode == 2
    assert "functions.b.handler: 'not-a-handler' is not module.function, e.g. app.handler" in result.stderr


def test_records_logged_during_init_carry_the_inits_virtual_time(tmp_path):
    """Code that logs at import (configuring a client, say) logs in Init: those records show the virtual time
    of the Init too, so that two runs write the same logs, a second cold start's records its own time."""
    code = tmp_path / "src"
    code.mkdir()
    (code / "app.py").write_text(
        "import logging\n"
        "logging.getLogger().warning('configured at import')\n"
        "def handler(event, context):\n"
        "    return {}\n"
    )
    path = tmp_path / "init.yaml"
    path.write_text(
        """\
name: logged at import
duration: 30s
functions:
  setup:
    code: src
    handler: app.handler
    behaviour: {init: 200ms, duration: 50ms}
traffic:
  - {target: setup, invocation: sync, burst: 2, at: 1s}
  - {target: setup, invocation: sync, burst: 1, at: 12s}
"""
    )
    logs = repeated_logs(path)
    logged = [line.split("\t") for line in logs.splitlines() if "configured at import" in line]
    assert len(logged) == 2  # the burst of two at 1 s started two environments; the request at 12 s found one warm
    assert {record_time for _cw, _group, _level, record_time, *_rest in logged} == {"2026-01-01T00:00:01.000Z"}
