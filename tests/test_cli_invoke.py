"""`lambdalab invoke` as a learner runs it: logs framed by START/END/REPORT, the response or the error document."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_cli

from lambdalab import content

HANDLERS = Path(__file__).parent / "handlers"
APP = str(HANDLERS / "app.py")
REPORT = re.compile(
    r"REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: 128 MB\tMax Memory Used: \d+ MB(\tInit Duration: \d+\.\d\d ms)?"
)


def test_text_output_frames_the_logs_and_prints_the_response():
    result = run_cli("invoke", f"{APP}:counter")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"START RequestId: [0-9a-f-]{36} Version: \$LATEST", lines[0])
    assert lines[1] == "invocation 1"
    end = next(i for i, line in enumerate(lines) if line.startswith("END RequestId:"))
    assert REPORT.fullmatch(lines[end + 1]) and "Init Duration" in lines[end + 1]
    assert json.loads("\n".join(lines[end + 2 :])) == {"invocations": 1, "tmp_lines": 1}


def test_json_shape_and_repeat_shows_cold_then_warm():
    result = run_cli("invoke", f"{APP}:counter", "--repeat", "3", "--json")
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout)
    assert [r["response"]["invocations"] for r in runs] == [1, 2, 3]
    assert ["init_duration_ms" in r["report"] for r in runs] == [True, False, False]
    first = runs[0]
    assert set(first) == {"request_id", "response", "function_error", "error", "logs", "report"}
    assert first["function_error"] is None and first["error"] is None
    assert set(first["report"]) == {
        "duration_ms",
        "billed_duration_ms",
        "memory_size_mb",
        "max_memory_used_mb",
        "init_duration_ms",
    }
    assert first["report"]["billed_duration_ms"] >= first["report"]["duration_ms"] + first["report"]["init_duration_ms"]
    assert first["logs"].startswith(f"START RequestId: {first['request_id']} Version: $LATEST\n")


def test_function_error_exits_1_with_the_error_document():
    result = run_cli("invoke", f"{APP}:fails", "--json")
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert out["function_error"] == "Unhandled" and out["response"] is None
    assert out["error"]["errorType"] == "ValueError" and out["error"]["requestId"] == out["request_id"]
    assert "[ERROR] ValueError: the order has no id" in out["logs"]


def test_timeout_reports_status_timeout():
    result = run_cli("invoke", f"{APP}:loops_forever", "--timeout", "1s", "--json")
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert out["error"]["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in out["logs"]
    assert out["logs"].rstrip().splitlines()[-1].endswith("\tStatus: timeout")
    assert out["report"]["duration_ms"] == 1000.0


def test_event_from_stdin_file_and_folder_with_handler(tmp_path):
    piped = run_cli("invoke", f"{APP}:echo", "--event", "-", "--json", input='{"order": 42}')
    assert json.loads(piped.stdout)["response"] == {"order": 42}
    event = tmp_path / "event.json"
    event.write_text('{"from": "file"}')
    folder = run_cli("invoke", str(HANDLERS), "--handler", "app.echo", "--event", str(event), "--json")
    assert json.loads(folder.stdout)["response"] == {"from": "file"}


def test_environment_memory_and_timeout_options():
    result = run_cli(
        "invoke", f"{APP}:context_and_env", "--memory", "512", "--timeout", "5s", "--env", "TABLE=t1", "--json"
    )
    out = json.loads(result.stdout)
    assert out["response"]["memory_limit_in_mb"] == 512 and out["response"]["env"]["TABLE"] == "t1"
    assert 4500 < out["response"]["remaining_ms"] <= 5000 and out["report"]["memory_size_mb"] == 512


@pytest.mark.parametrize(
    "args, message",
    [
        (["invoke", "nowhere.py:handler"], "nowhere.py: no such file or folder"),
        (["invoke", APP], "name the handler function"),
        (["invoke", str(HANDLERS)], "give the handler with --handler"),
        (["invoke", f"{APP}:echo", "--memory", "64"], "Lambda allows 128 to 10240 MB"),
        (["invoke", f"{APP}:echo", "--timeout", "20m"], "Lambda allows up to 900 s"),
        (["invoke", f"{APP}:echo", "--env", "NOEQUALS"], "write it as KEY=VALUE"),
        (["invoke", f"{APP}:echo", "--event", "no-such-event"], "no such file, and no sample event of that name"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = run_cli(*args)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_an_event_that_is_not_json_names_line_and_column(tmp_path):
    event = tmp_path / "bad.json"
    event.write_text('{\n  "a": 1,\n  "b": \n}\n')
    result = run_cli("invoke", f"{APP}:echo", "--event", str(event))
    assert result.returncode == 2 and f"{event}:4:1: the event is not JSON" in result.stderr


def test_sample_events_run_by_name():
    samples = content.sample_events()
    assert len(samples) >= 15
    listing = run_cli("invoke", "--list-events").stdout
    for name, path in samples.items():
        assert name in listing
        result = run_cli("invoke", f"{APP}:echo", "--event", name, "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["response"] == json.loads(path.read_text())
