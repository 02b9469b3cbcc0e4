"""The IAM evaluator against a golden table built from the IAM User Guide's evaluation-logic, element and
condition-operator pages (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
and the pages it links)."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from lambdalab.iam import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Request, evaluate, policy_from_data

ACCOUNT, OTHER = "111122223333", "444455556666"
FN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:thumbnailer"
BUCKET = "arn:aws:s3:::photos"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deployer"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci-run-7"
STRANGER = f"arn:aws:iam::{OTHER}:role/partner"


def identity(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action="*", resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="*", resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def resource_policy(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def grant(principal, action="lambda:InvokeFunction", resource=FN, **extra) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


def ctx(**pairs) -> dict:
    return {k.replace("__", ":").lower(): (v if isinstance(v, list) else [v]) for k, v in pairs.items()}


# (case, identity policies, resource policy, boundary, request, expected decision)
CASES = [
    # --- the order of evaluation -----------------------------------------------------------------
    (
        "no policy allows: implicit deny",
        [identity()],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE),
        IMPLICIT_DENY,
    ),
    (
        "an allow allows",
        [identity(allow("s3:GetObject", BUCKET))],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE),
        ALLOW,
    ),
    (
        "explicit deny beats allow in the same policy",
        [identity(allow(), deny("s3:DeleteObject"))],
        None,
        None,
        Request("s3:DeleteObject", BUCKET, ALICE),
        EXPLICIT_DENY,
    ),
    (
        "explicit deny in another policy beats allow",
        [identity(allow()), identity(deny("s3:*"))],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE),
        EXPLICIT_DENY,
    ),
    (
        "deny in the resource policy beats an identity allow",
        [identity(allow())],
        resource_policy({**deny("lambda:*", FN), "Principal": "*"}),
        None,
        Request("lambda:InvokeFunction", FN, ALICE),
        EXPLICIT_DENY,
    ),
    # --- actions: case-insensitive, wildcards ----------------------------------------------------
    (
        "action case does not matter",
        [identity(allow("S3:getobject"))],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE),
        ALLOW,
    ),
    ("service wildcard", [identity(allow("lambda:*"))], None, None, Request("lambda:InvokeFunction", FN, ALICE), ALLOW),
    (
        "wildcard inside the name",
        [identity(allow("iam:*AccessKey*"))],
        None,
        None,
        Request("iam:CreateAccessKey", "*", ALICE),
        ALLOW,
    ),
    (
        "wildcard inside the name, no match",
        [identity(allow("iam:*AccessKey*"))],
        None,
        None,
        Request("iam:CreateUser", "*", ALICE),
        IMPLICIT_DENY,
    ),
    (
        "? is one character",
        [identity(allow("s3:?etObject"))],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE),
        ALLOW,
    ),
    (
        "another service does not match",
        [identity(allow("s3:*"))],
        None,
        None,
        Request("lambda:InvokeFunction", FN, ALICE),
        IMPLICIT_DENY,
    ),
    (
        "NotAction with Allow grants every other action",
        [identity({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE),
        ALLOW,
    ),
    (
        "NotAction with Allow does not grant the listed action",
        [identity({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})],
        None,
        None,
        Request("iam:CreateUser", "*", ALICE),
        IMPLICIT_DENY,
    ),
    (
        "NotAction with Deny denies every other action",
        [identity(allow(), {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"})],
        None,
        None,
        Request("s3:PutObject", BUCKET, ALICE),
        EXPLICIT_DENY,
    ),
    # --- resources: case-sensitive, wildcards, NotResource ----------------------------------------
    (
        "resource wildcard crosses slashes",
        [identity(allow("s3:GetObject", "arn:aws:s3:::photos/*"))],
        None,
        None,
        Request("s3:GetObject", "arn:aws:s3:::photos/2026/cat.jpg", ALICE),
        ALLOW,
    ),
    (
        "resource is case-sensitive",
        [identity(allow("s3:GetObject", "arn:aws:s3:::Photos/*"))],
        None,
        None,
        Request("s3:GetObject", "arn:aws:s3:::photos/cat.jpg", ALICE),
        IMPLICIT_DENY,
    ),
    (
        "a dot is literal",
        [identity(allow("s3:GetObject", "arn:aws:s3:::photos/cat.jpg"))],
        None,
        None,
        Request("s3:GetObject", "arn:aws:s3:::photos/catXjpg", ALICE),
        IMPLICIT_DENY,
    ),
    (
        "NotResource allows the others",
        [identity({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"})],
        None,
        None,
        Request("s3:GetObject", "arn:aws:s3:::photos/a", ALICE),
        ALLOW,
    ),
    (
        "NotResource excludes the listed",
        [identity({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"})],
        None,
        None,
        Request("s3:GetObject", "arn:aws:s3:::secret/a", ALICE),
        IMPLICIT_DENY,
    ),
    # --- principals, same and cross account --------------------------------------------------------
    (
        "same account: the resource policy alone allows a user",
        [],
        resource_policy(grant({"AWS": ALICE})),
        None,
        Request("lambda:InvokeFunction", FN, ALICE),
        ALLOW,
    ),
    (
        "same account: the account principal allows its users' identity allows",
        [identity(allow("lambda:*"))],
        resource_policy(grant({"AWS": ACCOUNT})),
        None,
        Request("lambda:InvokeFunction", FN, ALICE),
        ALLOW,
    ),
    (
        "a role principal matches its sessions",
        [],
        resource_policy(grant({"AWS": ROLE})),
        None,
        Request("lambda:InvokeFunction", FN, SESSION),
        ALLOW,
    ),
    (
        "another role does not match",
        [],
        resource_policy(grant({"AWS": ROLE})),
        None,
        Request("lambda:InvokeFunction", FN, f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/x"),
        IMPLICIT_DENY,
    ),
    (
        "cross account: both allow",
        [identity(allow("lambda:InvokeFunction", FN))],
        resource_policy(grant({"AWS": OTHER})),
        None,
        Request("lambda:InvokeFunction", FN, STRANGER),
        ALLOW,
    ),
    (
        "cross account: the resource policy alone is not enough",
        [],
        resource_policy(grant({"AWS": OTHER})),
        None,
        Request("lambda:InvokeFunction", FN, STRANGER),
        IMPLICIT_DENY,
    ),
    (
        "cross account: the identity policy alone is not enough",
        [identity(allow("lambda:InvokeFunction", FN))],
        None,
        None,
        Request("lambda:InvokeFunction", FN, STRANGER),
        IMPLICIT_DENY,
    ),
    (
        "Principal * allows anyone in the account",
        [],
        resource_policy(grant("*")),
        None,
        Request("lambda:InvokeFunction", FN, ALICE),
        ALLOW,
    ),
    (
        "Principal * still needs the other account's own allow",
        [],
        resource_policy(grant("*")),
        None,
        Request("lambda:InvokeFunction", FN, STRANGER),
        IMPLICIT_DENY,
    ),
    (
        "NotPrincipal with Deny spares the listed",
        [identity(allow())],
        resource_policy({"Effect": "Deny", "NotPrincipal": {"AWS": ALICE}, "Action": "*", "Resource": FN}),
        None,
        Request("lambda:InvokeFunction", FN, ALICE),
        ALLOW,
    ),
    (
        "NotPrincipal with Deny denies the others",
        [identity(allow())],
        resource_policy({"Effect": "Deny", "NotPrincipal": {"AWS": ALICE}, "Action": "*", "Resource": FN}),
        None,
        Request("lambda:InvokeFunction", FN, ROLE),
        EXPLICIT_DENY,
    ),
    # --- services as callers (S3 invoking a function) ---------------------------------------------
    (
        "a service principal is allowed by the function's policy",
        [],
        resource_policy(grant({"Service": "s3.amazonaws.com"})),
        None,
        Request("lambda:InvokeFunction", FN, "s3.amazonaws.com"),
        ALLOW,
    ),
    (
        "another service is not",
        [],
        resource_policy(grant({"Service": "s3.amazonaws.com"})),
        None,
        Request("lambda:InvokeFunction", FN, "sns.amazonaws.com"),
        IMPLICIT_DENY,
    ),
    (
        "SourceArn condition holds",
        [],
        resource_policy(grant({"Service": "s3.amazonaws.com"}, Condition={"ArnLike": {"AWS:SourceArn": BUCKET}})),
        None,
        Request("lambda:InvokeFunction", FN, "s3.amazonaws.com", ctx(aws__SourceArn=BUCKET)),
        ALLOW,
    ),
    (
        "SourceArn condition fails for another bucket (the confused deputy)",
        [],
        resource_policy(grant({"Service": "s3.amazonaws.com"}, Condition={"ArnLike": {"AWS:SourceArn": BUCKET}})),
        None,
        Request("lambda:InvokeFunction", FN, "s3.amazonaws.com", ctx(aws__SourceArn="arn:aws:s3:::evil")),
        IMPLICIT_DENY,
    ),
    (
        "SourceAccount missing from the request: the condition is false",
        [],
        resource_policy(
            grant({"Service": "s3.amazonaws.com"}, Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})
        ),
        None,
        Request("lambda:InvokeFunction", FN, "s3.amazonaws.com"),
        IMPLICIT_DENY,
    ),
    # --- condition operators -----------------------------------------------------------------------
    (
        "StringNotEquals with the key absent is true",
        [identity(allow(Condition={"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}))],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE),
        ALLOW,
    ),
    (
        "StringEqualsIgnoreCase",
        [identity(allow(Condition={"StringEqualsIgnoreCase": {"aws:RequestTag/team": "Media"}}))],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE, ctx(**{"aws__RequestTag/team": "media"})),
        ALLOW,
    ),
    (
        "StringLike with a wildcard",
        [identity(allow(Condition={"StringLike": {"s3:prefix": "home/*"}}))],
        None,
        None,
        Request("s3:ListBucket", BUCKET, ALICE, ctx(s3__prefix="home/alice/")),
        ALLOW,
    ),
    (
        "NumericLessThanEquals",
        [identity(allow(Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}}))],
        None,
        None,
        Request("s3:ListBucket", BUCKET, ALICE, ctx(**{"s3__max-keys": "50"})),
        IMPLICIT_DENY,
    ),
    (
        "DateLessThan",
        [identity(allow(Condition={"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}))],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE, ctx(aws__CurrentTime="2026-11-23T12:00:00Z")),
        ALLOW,
    ),
    (
        "Bool SecureTransport false denies",
        [identity(allow(), deny(Condition={"Bool": {"aws:SecureTransport": "false"}}))],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE, ctx(aws__SecureTransport="false")),
        EXPLICIT_DENY,
    ),
    (
        "IpAddress inside the range",
        [identity(allow(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE, ctx(aws__SourceIp="203.0.113.7")),
        ALLOW,
    ),
    (
        "NotIpAddress outside the range denies",
        [identity(allow(), deny(Condition={"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE, ctx(aws__SourceIp="198.51.100.1")),
        EXPLICIT_DENY,
    ),
    (
        "Null true: the key must be absent",
        [identity(allow(Condition={"Null": {"aws:TokenIssueTime": "true"}}))],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE, ctx(aws__TokenIssueTime="2026-01-01T00:00:00Z")),
        IMPLICIT_DENY,
    ),
    (
        "IfExists with the key absent is true",
        [identity(allow(Condition={"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}}))],
        None,
        None,
        Request("ec2:RunInstances", "*", ALICE),
        ALLOW,
    ),
    (
        "different keys are ANDed",
        [
            identity(
                allow(
                    Condition={"StringEquals": {"aws:PrincipalTag/team": "media", "aws:RequestedRegion": "us-east-1"}}
                )
            )
        ],
        None,
        None,
        Request(
            "s3:GetObject",
            BUCKET,
            ALICE,
            ctx(**{"aws__PrincipalTag/team": "media", "aws__RequestedRegion": "eu-west-1"}),
        ),
        IMPLICIT_DENY,
    ),
    (
        "values of one key are ORed",
        [identity(allow(Condition={"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}))],
        None,
        None,
        Request("s3:GetObject", BUCKET, ALICE, ctx(aws__RequestedRegion="us-east-1")),
        ALLOW,
    ),
    (
        "ForAnyValue: one tag key is enough",
        [identity(allow(Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "env"]}}))],
        None,
        None,
        Request("ec2:CreateTags", "*", ALICE, ctx(aws__TagKeys=["owner", "env"])),
        ALLOW,
    ),
    (
        "ForAllValues: every tag key must be listed",
        [identity(allow(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}))],
        None,
        None,
        Request("ec2:CreateTags", "*", ALICE, ctx(aws__TagKeys=["owner", "env"])),
        IMPLICIT_DENY,
    ),
    (
        "ForAllValues with no values is true",
        [identity(allow(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}))],
        None,
        None,
        Request("ec2:CreateTags", "*", ALICE),
        ALLOW,
    ),
    # --- policy variables and boundaries ------------------------------------------------------------
    (
        "${aws:username} in a resource",
        [identity(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"))],
        None,
        None,
        Request("s3:GetObject", "arn:aws:s3:::home/alice/notes.txt", ALICE, ctx(aws__username="alice")),
        ALLOW,
    ),
    (
        "${aws:username} is someone else",
        [identity(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"))],
        None,
        None,
        Request("s3:GetObject", "arn:aws:s3:::home/bob/notes.txt", ALICE, ctx(aws__username="alice")),
        IMPLICIT_DENY,
    ),
    (
        "a variable missing from the request matches nothing",
        [identity(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*"))],
        None,
        None,
        Request("s3:GetObject", "arn:aws:s3:::home/alice/notes.txt", ROLE),
        IMPLICIT_DENY,
    ),
    (
        "a boundary that allows keeps the identity allow",
        [identity(allow("s3:*"))],
        None,
        identity(allow("s3:GetObject")),
        Request("s3:GetObject", BUCKET, ALICE),
        ALLOW,
    ),
    (
        "a boundary that does not allow cuts it",
        [identity(allow("s3:*"))],
        None,
        identity(allow("s3:GetObject")),
        Request("s3:DeleteObject", BUCKET, ALICE),
        IMPLICIT_DENY,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_golden_table(case):
    _, identities, resource, boundary, request, expected = case
    decision = evaluate(
        request,
        [policy_from_data(p, f"identity-{i}", "identity") for i, p in enumerate(identities)],
        policy_from_data(resource, "resource", "resource") if resource else None,
        policy_from_data(boundary, "boundary", "identity") if boundary else None,
    )
    assert decision.decision == expected, decision.explanation
    if expected == EXPLICIT_DENY:
        assert decision.matched and all(m.effect == "Deny" for m in decision.matched)


def test_at_least_forty_cases():
    assert len(CASES) >= 40


def test_the_decision_names_the_statement():
    policy = policy_from_data(
        identity({**allow("s3:GetObject", BUCKET), "Sid": "ReadPhotos"}, deny("s3:Delete*")), "role.json", "identity"
    )
    allowed = evaluate(Request("s3:GetObject", BUCKET, ALICE), [policy])
    assert [(m.policy, m.sid, m.effect) for m in allowed.matched] == [("role.json", "ReadPhotos", "Allow")]
    denied = evaluate(Request("s3:DeleteObject", BUCKET, ALICE), [policy])
    assert [(m.sid, m.effect) for m in denied.matched] == [("statement 2", "Deny")]
    assert "explicitly denies" in denied.explanation


# --- the command ------------------------------------------------------------------------------


def write(tmp_path, name, data) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return str(path)


def test_cli_service_principal_with_source_arn(tmp_path):
    policy = write(
        tmp_path,
        "fn.json",
        resource_policy(
            {
                **grant({"Service": "s3.amazonaws.com"}),
                "Sid": "S3Invoke",
                "Condition": {"ArnLike": {"AWS:SourceArn": BUCKET}},
            }
        ),
    )
    args = [
        "iam",
        "eval",
        "--action",
        "lambda:InvokeFunction",
        "--resource",
        FN,
        "--resource-policy",
        policy,
        "--principal",
        "s3.amazonaws.com",
        "--json",
    ]
    ok = run_cli(*args, "--context", f"aws:SourceArn={BUCKET}")
    assert ok.returncode == 0
    assert json.loads(ok.stdout) == {
        "decision": "Allow",
        "matched": [{"policy": policy, "sid": "S3Invoke", "effect": "Allow"}],
        "explanation": json.loads(ok.stdout)["explanation"],
    }
    no = run_cli(*args, "--context", "aws:SourceArn=arn:aws:s3:::elsewhere")
    assert no.returncode == 1 and json.loads(no.stdout)["decision"] == "ImplicitDeny"


@pytest.mark.parametrize(
    "policy, message",
    [
        ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",}]}', ":1:"),
        (
            json.dumps(identity(allow(Condition={"StringEqual": {"aws:SourceAccount": ACCOUNT}})), indent=2),
            "unknown condition operator 'StringEqual' (did you mean 'StringEquals'?)",
        ),
        (json.dumps(identity({**allow(), "Principal": "*"}), indent=2), "an identity policy has no Principal"),
        (json.dumps(identity({"Effect": "Permit", "Action": "*", "Resource": "*"}), indent=2), "Effect must be"),
        (json.dumps(identity({"Effect": "Allow", "Resource": "*"}), indent=2), "missing required key 'Action'"),
        (
            json.dumps(identity({**allow(), "Actions": "s3:*"}), indent=2),
            "unknown key 'Actions' (did you mean 'Action'?)",
        ),
    ],
)
def test_cli_bad_policies_are_named_with_their_place(tmp_path, policy, message):
    path = write(tmp_path, "role.json", policy)
    result = run_cli("iam", "eval", "--action", "s3:GetObject", "--resource", BUCKET, "--policy", path)
    assert result.returncode == 2 and message in result.stderr and path in result.stderr
    assert "Traceback" not in result.stderr
