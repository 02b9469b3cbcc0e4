"""Durations on the command line as in a scenario: a bare number is seconds (as the AWS CLI's own --timeout),
a unit may follow; each option that takes one, run as a user types it."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from test_cli_invoke import APP

from lambdalab.engine.units import parse_duration, parse_rate


@pytest.mark.parametrize("text, seconds", [("1", 1.0), ("2.5", 2.5), (" 3 ", 3.0), ("3s", 3.0), ("250ms", 0.25)])
def test_a_bare_number_in_text_is_seconds_as_in_yaml(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text, per_second", [("100", 100.0), ("100/s", 100.0), ("6000/m", 100.0)])
def test_a_bare_rate_is_per_second(text, per_second):
    assert parse_rate(text) == per_second


@pytest.mark.parametrize("timeout", ["1", "1s", "1000ms"])
def test_invoke_timeout(timeout):
    result = run_cli("invoke", f"{APP}:context_and_env", "--timeout", timeout, "--json")
    assert result.returncode == 0, result.stderr
    assert 500 < json.loads(result.stdout)["response"]["remaining_ms"] <= 1000


def test_invoke_timeout_that_is_not_a_duration_says_so_without_contradiction():
    result = run_cli("invoke", f"{APP}:counter", "--timeout", "soon")
    assert result.returncode == 2
    assert "'soon' is not a duration such as 250ms, 3s, 5m or 6h (a bare number means seconds)" in result.stderr


@pytest.mark.parametrize("until", ["30", "30s"])
def test_sim_until(until):
    result = run_cli("sim", "burst-reserved-concurrency", "--until", until, "--json")
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["virtual_time_s"] == 30.0


@pytest.mark.parametrize("step", ["10", "10s"])
def test_sim_series(step):
    result = run_cli("sim", "burst-reserved-concurrency", "--series", step, "--json")
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["series"]["step_s"] == 10.0


def test_grade_time_limit_takes_a_bare_number(tmp_path):
    refused = run_cli("grade", str(tmp_path / "nothing-here"), "--time-limit", "soon")
    assert refused.returncode == 2 and "--time-limit" in refused.stderr and "'soon' is not a duration" in refused.stderr
    taken = run_cli("grade", str(tmp_path / "nothing-here"), "--time-limit", "60")
    assert "is not a duration" not in taken.stderr


def test_a_gradescope_kit_time_limit_takes_a_bare_number(tmp_path):
    key = tmp_path / "key"
    assert run_cli("classroom", "init", str(key), "--exercise", "proxy-response", timeout=120).returncode == 0
    result = run_cli(
        "classroom",
        "gradescope",
        str(key),
        "--exercise",
        "proxy-response",
        "--out",
        str(tmp_path / "autograder.zip"),
        "--time-limit",
        "60",
    )
    assert result.returncode == 0, result.stderr
    refused = run_cli(
        "classroom",
        "gradescope",
        str(key),
        "--exercise",
        "proxy-response",
        "--out",
        str(tmp_path / "other.zip"),
        "--time-limit",
        "soon",
    )
    assert refused.returncode == 2 and "'soon' is not a duration" in refused.stderr
