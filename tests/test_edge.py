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


@pytest.mark.parametrize(
    "handler, trigger, status, problem",
    [
        ("edge_add_header", "viewer-response", 200, None),
        ("edge_redirect", "viewer-request", 200, None),
        ("echo", "origin-request", 502, "this is not a request (it has 'Records')"),
        ("edge_bad_header", "viewer-response", 502, "the name 'X-Frame-Options' must be lower-case"),
        ("edge_change_status", "viewer-response", 502, "cannot change the status code (200 to 404)"),
        ("edge_change_method", "origin-request", 502, "request.method is read-only ('GET' became 'POST')"),
        (
            "edge_change_host",
            "viewer-request",
            502,
            "request.headers['host'] is read-only on viewer-request: the function changed it",
        ),
        ("edge_change_host", "origin-request", 200, None),
        ("edge_add_x_cache", "origin-response", 502, "'x-cache' is a header edge functions may not add"),
        ("fails", "viewer-request", 503, "ValueError: the order has no id"),  # LambdaExecutionError
    ],
)
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


@pytest.mark.parametrize(
    "args, message",
    [
        (["--memory", "256"], "a viewer-request function may have at most 128 MB of memory, not 256"),
        (["--timeout", "10s"], "a viewer-request function may have a timeout of at most 5 s, not 10"),
        (["--env", "A=1"], "Lambda@Edge functions cannot have environment variables"),
    ],
)
def test_association_limits_are_checked_before_running(args, message):
    result = run_cli("invoke", f"{APP}:edge_redirect", "--edge", "viewer-request", *args)
    assert result.returncode == 2 and message in result.stderr


def test_origin_triggers_allow_more():
    result, out = edge("edge_redirect", "origin-request", "--memory", "1024", "--timeout", "30s")
    assert result.returncode == 0 and out["edge"]["status"] == 200


# --- Lambda@Edge associations inside a scenario ---------------------------------------------------

HANDLERS = Path(__file__).parent / "handlers"
EDGE_SCENARIO = """\
duration: 20s
account: {region: REGION}
functions:
  router:
    timeout: 5s
    FUNCTION
    versions: {"1": {}}
    aliases: {live: {version: "1"}}
edge:
  - {trigger: TRIGGER, function: "QUALIFIED"}
traffic:
  - {target: "edge:TRIGGER", rate: 10/s, for: 10s}
"""


def edge_scenario(
    tmp_path,
    *,
    trigger="viewer-request",
    function="behaviour: {init: 0ms, duration: 20ms}",
    qualified="router:1",
    region="us-east-1",
):
    path = tmp_path / "edge.yaml"
    path.write_text(
        EDGE_SCENARIO.replace("FUNCTION", function)
        .replace("TRIGGER", trigger)
        .replace("QUALIFIED", qualified)
        .replace("REGION", region)
    )
    return run_cli("sim", str(path), "--json")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"qualified": "router"}, "a trigger needs a published version such as router:1, not $LATEST"),
        ({"qualified": "router:live"}, "not the alias live"),
        ({"region": "eu-west-1"}, "Lambda@Edge functions must be in us-east-1, not eu-west-1"),
        (
            {"function": "architecture: arm64\n    behaviour: {init: 0ms, duration: 20ms}"},
            "Lambda@Edge does not support arm64",
        ),
        (
            {"function": "reserved_concurrency: 5\n    behaviour: {init: 0ms, duration: 20ms}"},
            "does not support reserved or provisioned concurrency",
        ),
        (
            {"function": "environment: {A: b}\n    behaviour: {init: 0ms, duration: 20ms}"},
            "cannot have environment variables",
        ),
        (
            {
                "function": "role: {trust: {Version: '2012-10-17', Statement: [{Effect: Allow, "
                "Principal: {Service: lambda.amazonaws.com}, "
                "Action: 'sts:AssumeRole'}]}}\n    behaviour: {init: 0ms, duration: 20ms}"
            },
            "must let edgelambda.amazonaws.com assume it",
        ),
        ({"function": "memory: 512\n    behaviour: {init: 0ms, duration: 20ms}"}, "at most 128 MB of memory, not 512"),
    ],
)
def test_associations_are_refused_as_cloudfront_refuses_them(tmp_path, change, message):
    result = edge_scenario(tmp_path, **change)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_a_trust_policy_with_both_services_is_accepted(tmp_path):
    trust = (
        "role: {trust: {Version: '2012-10-17', Statement: [{Effect: Allow, Principal: {Service: [lambda.amazonaws.com, "
        "edgelambda.amazonaws.com]}, Action: 'sts:AssumeRole'}]}}\n    behaviour: {init: 0ms, duration: 20ms}"
    )
    assert edge_scenario(tmp_path, function=trust).returncode == 0


@pytest.mark.parametrize(
    "function, answers",
    [
        ("behaviour: {init: 0ms, duration: 20ms}", {"200": 100}),
        (
            "behaviour: {init: 0ms, duration: 20ms, errors: {every: 2}}",
            {"200": 50, "503": 50},
        ),  # an error is a 503, as a timeout
        ("behaviour: {init: 0ms, duration: 6s}", {"503": 100}),  # every call times out at 5 s
        (
            "reserved_concurrency: 1\n    behaviour: {init: 0ms, duration: 20ms}",
            None,
        ),  # refused: no reserved concurrency
        (f"code: {HANDLERS}\n    handler: app.edge_redirect", {"200": 100}),
        (f"code: {HANDLERS}\n    handler: app.echo", {"502": 100}),
    ],
)
def test_cloudfront_answers_each_call_in_a_run(tmp_path, function, answers):
    result = edge_scenario(tmp_path, function=function)
    if answers is None:
        assert result.returncode == 2
        return
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    statuses = {code: n for code, n in report["edge"]["viewer-request"]["status"].items() if n}
    assert statuses == answers
    assert (
        report["functions"]["router"]["by_version"]["1"]["Invocations"]
        == report["functions"]["router"]["outcomes"]["requests"]
    )


def test_a_second_function_on_one_trigger_is_refused(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(
        EDGE_SCENARIO.replace("FUNCTION", "behaviour: {init: 0ms, duration: 20ms}")
        .replace("TRIGGER", "origin-request")
        .replace("QUALIFIED", "router:1")
        .replace("REGION", "us-east-1")
        .replace("traffic:", "  - {trigger: origin-request, function: 'router:1'}\ntraffic:")
    )
    result = run_cli("sim", str(path))
    assert result.returncode == 2 and "at most one function on origin-request" in result.stderr


def test_cloudfront_functions_answer_viewer_requests_without_lambda(tmp_path):
    path = tmp_path / "cff.yaml"
    path.write_text("""\
duration: 10s
functions:
  router: {timeout: 30s, versions: {"1": {}}, behaviour: {init: 0ms, duration: 20ms}}
edge:
  - {trigger: viewer-request, cloudfront_function: {name: add-headers, size: 2KB}}
  - {trigger: origin-request, function: "router:1"}
traffic:
  - {target: "edge:viewer-request", rate: 100/s, for: 10s}
  - {target: "edge:origin-request", rate: 10/s, for: 10s}
""")
    result = run_cli("sim", str(path), "--json")
    report = json.loads(result.stdout)
    viewer, origin = report["edge"]["viewer-request"], report["edge"]["origin-request"]
    assert viewer == {
        "function": "add-headers",
        "kind": "cloudfront-function",
        "answered": 1000,
        "status": {"200": 1000},
        "CostUSD": 0.0001,
    }  # $0.10 per million
    assert origin["kind"] == "lambda@edge" and origin["status"]["200"] == 100
    assert report["functions"]["router"]["metrics"]["Invocations"] == 100  # only the origin trigger runs Lambda


@pytest.mark.parametrize(
    "edge_section, message",
    [
        (
            "[{trigger: origin-request, cloudfront_function: {name: js}}]",
            "CloudFront Functions run only on viewer-request and viewer-response",
        ),
        ("[{trigger: viewer-request, cloudfront_function: {name: js, size: 11KB}}]", "at most 10 KB of code"),
        (
            "[{trigger: viewer-request, cloudfront_function: {name: js}}, "
            "{trigger: viewer-response, function: 'router:1'}]",
            "cannot share a cache behaviour's viewer triggers",
        ),
        ("[{trigger: viewer-request}]", "give either function (Lambda@Edge, NAME:VERSION) or cloudfront_function"),
    ],
)
def test_cloudfront_functions_are_refused_where_they_do_not_belong(tmp_path, edge_section, message):
    path = tmp_path / "cff.yaml"
    path.write_text(f"""\
duration: 10s
functions:
  router: {{timeout: 5s, versions: {{"1": {{}}}}, behaviour: {{init: 0ms, duration: 20ms}}}}
edge: {edge_section}
""")
    result = run_cli("sim", str(path))
    assert result.returncode == 2 and message in result.stderr, result.stderr
