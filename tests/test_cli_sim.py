"""`lambdalab sim` as a user runs it: a subprocess, its output, its files and its exit status."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from conftest import run_cli

from lambdalab import content
from lambdalab.cli import COMMANDS

SCENARIO = textwrap.dedent("""\
    name: cli-test
    duration: 20s
    functions:
      api:
        memory: 256
        timeout: 2s
        reserved_concurrency: 3
        behaviour:
          init: 200ms
          duration: {dist: uniform, min: 100ms, max: 900ms}
          errors: {rate: 0.2}
    traffic:
      - {target: api, invocation: sync, rate: 20/s, for: 10s}
    expect:
      - {metric: Throttles, function: api, op: ">", value: 0}
    """)


@pytest.fixture()
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "cli-test.yaml"
    path.write_text(SCENARIO)
    return path


def test_no_arguments_without_a_terminal_prints_help_listing_subcommands():
    result = run_cli()
    assert result.returncode == 0
    for command in COMMANDS:  # argparse puts the help of a name over 8 characters (classroom) on the next line
        assert re.search(rf"^    {command}\s", result.stdout, re.MULTILINE)
    assert "Run `lambdalab` in a terminal to open the app." in result.stdout
    assert result.stderr == ""


def test_every_command_has_help_with_examples():
    for command in COMMANDS:
        result = run_cli(command, "--help")
        assert result.returncode == 0 and "examples:" in result.stdout and f"lambdalab {command} " in result.stdout


def test_an_unknown_command_is_a_usage_error_naming_the_choices():
    result = run_cli("simulate", "x.yaml")
    assert result.returncode == 2 and "invalid choice: 'simulate'" in result.stderr and "'sim'" in result.stderr


def test_text_report_has_tables_charts_and_expectations(scenario: Path):
    result = run_cli("sim", str(scenario))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("cli-test  (seed 0, 20s of virtual time")
    for heading in ("Functions", "Outcomes", "Environments", "Concurrent executions of api", "Expectations"):
        assert heading in out
    assert "reserved 3" in out  # the limit line on the concurrency chart
    assert "429s" in out  # throttles over time
    assert re.search(r"PASS  Throttles of api > 0  \(actual \d+\)", out)


def test_json_is_one_object_and_byte_identical_across_runs(scenario: Path):
    first = run_cli("sim", str(scenario), "--json")
    second = run_cli("sim", str(scenario), "--json")
    assert first.returncode == 0
    assert first.stdout == second.stdout
    report = json.loads(first.stdout)
    assert list(report)[:9] == [
        "scenario",
        "seed",
        "virtual_time_s",
        "functions",
        "queues",
        "topics",
        "buses",
        "streams",
        "account",
    ]
    assert report["functions"]["api"]["metrics"]["ConcurrentExecutions"] == 3


def test_seed_option_changes_a_random_run(scenario: Path):
    a = json.loads(run_cli("sim", str(scenario), "--json").stdout)
    b = json.loads(run_cli("sim", str(scenario), "--json", "--seed", "7").stdout)
    assert b["seed"] == 7
    assert a["functions"]["api"]["metrics"]["Duration"] != b["functions"]["api"]["metrics"]["Duration"]


def test_series_adds_time_series_at_the_step(scenario: Path):
    report = json.loads(run_cli("sim", str(scenario), "--json", "--series", "1s").stdout)
    series = report["series"]
    assert series["step_s"] == 1.0
    assert series["t_s"][:3] == [1.0, 2.0, 3.0] and len(series["t_s"]) == 20
    api = series["functions"]["api"]
    assert max(api["ConcurrentExecutions"]) == 3
    assert sum(api["Throttles"]) == report["functions"]["api"]["metrics"]["Throttles"]
    assert sum(api["Invocations"]) == report["functions"]["api"]["metrics"]["Invocations"]


def test_until_stops_early(scenario: Path):
    report = json.loads(run_cli("sim", str(scenario), "--json", "--until", "5s", "--series", "2s").stdout)
    assert report["virtual_time_s"] == 5.0
    assert report["series"]["t_s"] == [2.0, 4.0, 5.0]  # the last, partial step is closed too
    assert (
        sum(report["series"]["functions"]["api"]["Invocations"]) == report["functions"]["api"]["metrics"]["Invocations"]
    )
    # 20/s from t=0; the run includes events due at exactly 5 s: arrivals at 0, 0.05, ..., 5.0.
    assert report["functions"]["api"]["outcomes"]["requests"] == 101


def test_trace_writes_every_event_as_json_lines_in_time_order(scenario: Path, tmp_path: Path):
    trace = tmp_path / "run.jsonl"
    result = run_cli("sim", str(scenario), "--json", "--trace", str(trace))
    assert result.returncode == 0
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    times = [r["t"] for r in records]
    assert times == sorted(times)
    kinds = {r["kind"] for r in records}
    assert {"env_start", "init_start", "init_end", "invoke_start", "invoke_end", "throttle"} <= kinds
    report = json.loads(result.stdout)
    assert sum(r["kind"] == "throttle" for r in records) == report["functions"]["api"]["metrics"]["Throttles"]
    assert all(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", r["request_id"])
        for r in records
        if "request_id" in r
    )


def test_logs_are_cloudwatch_start_end_report_lines(scenario: Path, tmp_path: Path):
    logs = tmp_path / "run.log"
    assert run_cli("sim", str(scenario), "--logs", str(logs)).returncode == 0
    lines = [line.split("\t", 2)[2] for line in logs.read_text().splitlines()]
    report_lines = [line for line in lines if line.startswith("REPORT ")]
    assert report_lines
    pattern = (
        r"REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 256 MB\tMax Memory Used: 64 MB(\tInit Duration: 200\.00 ms)?"
    )
    assert all(re.fullmatch(pattern, line) for line in report_lines), report_lines[:3]
    assert sum("Init Duration" in line for line in report_lines) == 3  # three environments, three cold starts
    assert sum(line.startswith("START RequestId:") and line.endswith("Version: $LATEST") for line in lines) == len(
        report_lines
    )
    assert any(line.startswith("[ERROR] Exception: Simulated failure") for line in lines)


def test_failed_expectation_exits_1(tmp_path: Path):
    path = tmp_path / "fails.yaml"
    path.write_text(SCENARIO.replace('op: ">", value: 0', 'op: "==", value: 0'))
    result = run_cli("sim", str(path))
    assert result.returncode == 1
    assert "FAIL  Throttles of api == 0" in result.stdout


def test_list_and_run_every_shipped_scenario_by_name():
    shipped = content.shipped_scenarios()
    assert len(shipped) >= 6
    listing = run_cli("sim", "--list").stdout
    for name in shipped:
        assert name in listing
        result = run_cli("sim", name, "--json")
        assert result.returncode == 0, f"{name}: {result.stderr or 'an expectation failed'}"
        report = json.loads(result.stdout)
        assert report["expectations"] and all(e["passed"] for e in report["expectations"])


def test_output_piped_into_a_closed_reader_is_quiet(scenario: Path):
    """`lambdalab ... | head`: once the reader has gone, lambdalab stops without a word (the reader's end is
    closed before lambdalab starts, so that every write meets a broken pipe)."""
    import os
    import subprocess
    import sys

    for args in (["sim", str(scenario), "--json"], [], ["--help"], ["lessons"]):
        read_end, write_end = os.pipe()
        os.close(read_end)
        done = subprocess.run(
            [sys.executable, "-m", "lambdalab", *args],
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
        os.close(write_end)
        assert (done.returncode, done.stderr) == (0, ""), args


# --- bad input: a clear message naming file:line:column and key, exit 2, never a traceback ---------

BAD = {
    "malformed": ("functions: {api: [1,\n", r"^{f}:2:1: invalid YAML: "),
    "list-for-map": (
        "duration: 10s\nfunctions:\n  - api\n",
        r"^{f}:2:1: functions: expected a mapping \(key: value\), got a list$",
    ),
    "unknown-key": (
        "duration: 10s\nfunctions:\n  api:\n    memroy: 512\n    behaviour: {init: 1s, duration: 1s}\n",
        r"^{f}:4:5: functions\.api\.memroy: unknown key 'memroy' \(did you mean 'memory'\?\)$",
    ),
    "wrong-units": (
        "duration: 10 seconds\nfunctions:\n  api: {behaviour: {init: 1s, duration: 1s}}\n",
        r"^{f}:1:1: duration: '10 seconds' is not a duration such as 250ms, 3s, 5m or 6h",
    ),
    "memory-as-string": (
        "duration: 10s\nfunctions:\n  api: {memory: 512MB, behaviour: {init: 1s, duration: 1s}}\n",
        r"^{f}:3:9: functions\.api\.memory: '512MB' is not a whole number of MB, such as 512$",
    ),
    "memory-too-big": (
        "duration: 10s\nfunctions:\n  api:\n    memory: 20000\n    behaviour: {init: 1s, duration: 1s}\n",
        r"^{f}:4:5: functions\.api\.memory: 20000 is above the Lambda maximum of 10240 MB",
    ),
    "old-timeout-myth-is-fine-new-limit-is-not": (
        "duration: 10s\nfunctions:\n  api:\n    timeout: 16m\n    behaviour: {init: 1s, duration: 1s}\n",
        r"^{f}:4:5: functions\.api\.timeout: 960 is above the Lambda maximum of 900 seconds",
    ),
    "empty": ("", r"^{f}: the file is empty$"),
    "comments-only": ("# nothing here\n", r"^{f}: the file is empty$"),
    "waits-for-a-feature": (
        "duration: 10s\nfunctions:\n  api:\n    snap_start: {apply_on: PublishedVersions}\n"
        "    behaviour: {init: 1s, duration: 1s}\n",
        r"^{f}:4:5: functions\.api\.snap_start: SnapStart snapshots are not simulated yet",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_gets_one_clear_line_and_exit_2(case: str, tmp_path: Path):
    text, pattern = BAD[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    result = run_cli("sim", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert re.search(pattern.format(f=re.escape(str(path))), result.stderr.splitlines()[0]), result.stderr


def test_binary_file(tmp_path: Path):
    path = tmp_path / "image.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = run_cli("sim", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"{path}: this is a binary file, not YAML text"


def test_fifty_megabyte_file_is_refused_quickly(tmp_path: Path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.write(b"a: 1\n" * (10 * 1024 * 1024))
    result = run_cli("sim", str(path), timeout=20)
    assert result.returncode == 2
    assert result.stderr.strip() == f"{path}: the file is 50.0 MB; YAML input is limited to 1024 KB"


def test_several_problems_are_reported_together_in_file_order(tmp_path: Path):
    path = tmp_path / "many.yaml"
    path.write_text(
        textwrap.dedent("""\
        duration: 10s
        functions:
          api:
            memory: 64
            reserved_concurrency: 950
            behaviour: {init: 1s, duration: 1s}
            async: {maximum_retry_attempts: 3}
        traffic:
          - {target: apx, rate: 1/s, for: 5s}
        """)
    )
    result = run_cli("sim", str(path))
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 4
    assert [line.split(": ")[0].split(":")[1] for line in lines] == ["4", "5", "7", "9"]
    assert "below the Lambda minimum of 128 MB" in lines[0]
    assert "would leave 50 unreserved" in lines[1] and "at least 100 unreserved" in lines[1]
    assert "above the Lambda maximum of 2 retries" in lines[2]
    assert "no function named 'apx' (did you mean 'api'?)" in lines[3]


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope.yaml"], "lambdalab sim: nope.yaml: no such file, and no shipped scenario of that name"),
        (["."], "lambdalab sim: .: not a file"),
        ([], "lambdalab sim: give a scenario FILE"),
    ],
)
def test_usage_errors(args: list[str], message: str):
    result = run_cli("sim", *args)
    assert result.returncode == 2
    assert result.stderr.startswith(message)


def test_bad_option_values(scenario: Path, tmp_path: Path):
    result = run_cli("sim", str(scenario), "--series", "often")
    assert result.returncode == 2 and result.stderr.startswith("lambdalab sim: --series: 'often' is not a duration")
    result = run_cli("sim", str(scenario), "--trace", str(tmp_path / "missing-dir" / "t.jsonl"))
    assert result.returncode == 2 and "--trace" in result.stderr and "No such file or directory" in result.stderr
    result = run_cli("sim", "warm-reuse-idle-expiry", "--series", "1ms")  # hours of virtual time in milliseconds
    assert result.returncode == 2 and "lambdalab keeps at most 100,000: give a step of at least" in result.stderr


def test_logs_mark_only_the_invocations_that_timed_out(tmp_path: Path):
    """A warm request after a timeout on the same environment is not a timeout; START is stamped at its start."""
    logs = tmp_path / "run.log"
    result = run_cli("sim", "timeout-billing", "--json", "--logs", str(logs))
    timed_out = sum(f["outcomes"]["timed_out"] for f in json.loads(result.stdout)["functions"].values())
    rows = [line.split("\t", 2) for line in logs.read_text().splitlines()]
    assert 0 < timed_out < sum(r[2].startswith("REPORT ") for r in rows)
    assert sum(r[2].startswith("REPORT ") and r[2].endswith("Status: timeout") for r in rows) == timed_out
    assert sum("Task timed out after" in r[2] for r in rows) == timed_out
    starts = {r[2].split()[2]: r[0] for r in rows if r[2].startswith("START ")}
    ends = {r[2].split()[2]: r[0] for r in rows if r[2].startswith("END ")}
    assert all(starts[rid] < ends[rid] for rid in starts)
