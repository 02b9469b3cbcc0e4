"""Permissions inside a run: the resource-based policy decides who may invoke, the execution role what it may send."""

from __future__ import annotations

import json

from conftest import REPO, run_cli

DEMO = REPO / "lessons" / "07-permissions" / "demo-s3-source-arn.yaml"

SCENARIO = """\
name: permissions
duration: 5m
account: {account_id: "111122223333"}
queues: {failures: {}}
functions:
  thumbnailer:
    behaviour: {init: 100ms, duration: 100ms, errors: {rate: 1}}
    async: {maximum_retry_attempts: 0, on_failure: "queue:failures"}
    resource_policy:
      - Sid: s3-photos
        Effect: Allow
        Principal: {Service: s3.amazonaws.com}
        Action: lambda:InvokeFunction
        Resource: "arn:aws:lambda:us-east-1:111122223333:function:thumbnailer"
        Condition: {ArnLike: {"aws:SourceArn": "arn:aws:s3:::photos"}}
      - Sid: partner
        Effect: Allow
        Principal: {AWS: "arn:aws:iam::444455556666:role/partner"}
        Action: lambda:InvokeFunction
        Resource: "*"
    ROLE
traffic:
  - {target: thumbnailer, invocation: async, principal: s3.amazonaws.com, source_arn: "arn:aws:s3:::photos", \
burst: 3, at: 0s}
  - {target: thumbnailer, invocation: async, principal: s3.amazonaws.com, source_arn: "arn:aws:s3:::other", \
burst: 2, at: 0s}
  - {target: thumbnailer, invocation: sync, principal: "arn:aws:iam::444455556666:role/partner", burst: 4, at: 0s}
  - {target: thumbnailer, invocation: sync, principal: "arn:aws:iam::999999999999:user/eve", burst: 5, at: 0s}
  - {target: thumbnailer, invocation: sync, burst: 1, at: 0s}
"""

ROLE_ALLOWS = """role:
      trust: {Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: "sts:AssumeRole"}]}
      policies:
        - Statement: [{Effect: Allow, Action: "sqs:SendMessage", \
Resource: "arn:aws:sqs:us-east-1:111122223333:failures"}]"""
ROLE_WITHOUT_SQS = """role:
      policies:
        - Statement: [{Effect: Allow, Action: "logs:*", Resource: "*"}]"""


def run(tmp_path, role: str, *args: str):
    path = tmp_path / "permissions.yaml"
    path.write_text(SCENARIO.replace("ROLE", role))
    return run_cli("sim", str(path), "--json", *args)


def test_the_resource_policy_decides_who_may_invoke(tmp_path):
    result = run(tmp_path, ROLE_ALLOWS)
    assert result.returncode == 0, result.stderr
    fn = json.loads(result.stdout)["functions"]["thumbnailer"]
    # allowed: 3 from photos, 4 from the partner role, 1 from the account itself; denied: the other bucket and eve
    assert fn["outcomes"]["denied"] == 2 + 5
    assert fn["metrics"]["Invocations"] == 3 + 4 + 1 and fn["metrics"]["AsyncEventsReceived"] == 3
    outcomes = fn["outcomes"]
    assert outcomes["requests"] == sum(
        outcomes[k] for k in ("succeeded", "failed", "throttled", "denied", "dropped", "in_flight")
    )


def test_the_execution_role_decides_what_the_function_may_send(tmp_path):
    allowed = json.loads(run(tmp_path, ROLE_ALLOWS).stdout)
    assert allowed["functions"]["thumbnailer"]["outcomes"]["to_on_failure"] == 3
    assert allowed["queues"]["failures"]["NumberOfMessagesSent"] == 3
    refused = json.loads(run(tmp_path, ROLE_WITHOUT_SQS).stdout)
    assert refused["functions"]["thumbnailer"]["metrics"]["DestinationDeliveryFailures"] == 3
    assert refused["queues"]["failures"]["NumberOfMessagesSent"] == 0


def test_a_trace_shows_each_refusal_with_its_reason(tmp_path):
    trace = tmp_path / "run.jsonl"
    assert run(tmp_path, ROLE_ALLOWS, "--trace", str(trace)).returncode == 0
    denied = [json.loads(line) for line in trace.read_text().splitlines() if '"denied"' in line]
    assert len(denied) == 7 and {d["status"] for d in denied} == {403}
    assert any("implicitly denied" in d["reason"] for d in denied)


def test_a_trust_policy_that_does_not_trust_lambda_is_refused(tmp_path):
    role = """role:
      trust: {Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: "sts:AssumeRole"}]}"""
    result = run(tmp_path, role)
    assert result.returncode == 2
    assert (
        "functions.thumbnailer.role.trust: the trust policy does not let lambda.amazonaws.com assume the role"
        in result.stderr
    )


def test_policy_mistakes_name_the_scenarios_line(tmp_path):
    path = tmp_path / "permissions.yaml"
    path.write_text(SCENARIO.replace("ROLE", ROLE_ALLOWS).replace("ArnLike", "ArnLikes"))
    result = run_cli("sim", str(path))
    assert result.returncode == 2
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "ArnLikes" in text)
    assert f"permissions.yaml:{line}:" in result.stderr
    assert (
        "functions.thumbnailer.resource_policy[0].Condition.ArnLikes: unknown condition operator 'ArnLikes' "
        "(did you mean 'ArnLike'?)" in result.stderr
    )


def test_the_permissions_lesson_demo_runs_and_its_expectations_hold():
    result = run_cli("sim", str(DEMO), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert all(e["passed"] for e in report["expectations"])
