"""Lambda@Edge with `lambdalab invoke --edge`: CloudFront's event per trigger, its limits, and its verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

APP = str(Path(__file__).parent / "handlers" / "app.py")


def edge(handler: str, trigger: str, *args: str):
    result = run_cli("invoke", f"{APP}:{handler}", "--edge", trigger, "--json", *args)
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


@pytest.mark.parametrize("handler, trigger, status, problem", [
    ("edge_add_header", "viewer-response", 200, None),
    ("edge_redirect", "viewer-request", 200, None),
    ("echo", "origin-request", 502, "this is not a request (it has 'Records')"),
    ("edge_bad_header", "viewer-response", 502, "the name 'X-Frame-Options' must be lower-case"),
    ("edge_change_status", "viewer-response", 502, "cannot change the status code (200 to 404)"),
    ("edge_change_method", "origin-request", 502, "request.method is read-only ('GET' became 'POST')"),
    ("fails", "viewer-request", 500, "ValueError: the order has no id"),
])
def test_cloudfront_judges_the_result(handler, trigger, status, problem):
    result, out = edge(handler, trigger)
    assert out["edge"]["trigger"] == trigger and out["edge"]["status"] == status
    assert result.returncode == (0 if status == 200 else 1)
    if problem:
        assert any(problem in p for p in out["edge"]["problems"]), out["edge"]["problems"]


def test_the_event_is_the_triggers_own():
    _, out = edge("echo", "origin-response")
    cf = out["response"]["Records"][0]["cf"]
    assert cf["config"]["eventType"] == "origin-response" and "response" in cf and "origin" in cf["request"]


@pytest.mark.parametrize("args, message", [
    (["--memory", "256"], "a viewer-request function may have at most 128 MB of memory, not 256"),
    (["--timeout", "10s"], "a viewer-request function may have a timeout of at most 5 s, not 10"),
    (["--env", "A=1"], "Lambda@Edge functions cannot have environment variables"),
])
def test_association_limits_are_checked_before_running(args, message):
    result = run_cli("invoke", f"{APP}:edge_redirect", "--edge", "viewer-request", *args)
    assert result.returncode == 2 and message in result.stderr


def test_origin_triggers_allow_more():
    result, out = edge("edge_redirect", "origin-request", "--memory", "1024", "--timeout", "30s")
    assert result.returncode == 0 and out["edge"]["status"] == 200
