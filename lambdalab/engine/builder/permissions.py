"""A scenario's IAM: a function's resource-based policy, its execution role (identity policies and a
trust policy), and whether that role may read a mapping's source.

Policies written inside a scenario are parsed by `lambdalab.iam` as a document of their own; their
errors are moved back onto the scenario's lines and key paths here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lambdalab import limits
from lambdalab.engine.builder.context import Context, KeyPath
from lambdalab.engine.model import Account, Function, Queue, Stream
from lambdalab.iam import Policy, Request, evaluate
from lambdalab.iam.policies import parse_policy
from lambdalab.inputs import InputErrors
from lambdalab.inputs.yaml_source import dotted

# What a mapping's role needs to read its source: the actions of AWS's managed policies
# AWSLambdaSQSQueueExecutionRole, AWSLambdaKinesisExecutionRole and AWSLambdaDynamoDBExecutionRole.
READ_ACTIONS = {
    "SQS": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
    "Kinesis": ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards"),
    "DynamoDB": ("dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"),
}


def resource_policy(ctx: Context, path: KeyPath, statements: list[Any] | None) -> Policy | None:
    """The function's resource-based policy: its statements, checked as IAM checks a policy."""
    if statements is None:
        return None
    return policy(ctx, path, {"Version": "2012-10-17", "Statement": statements}, "resource", as_list=True)


def role(ctx: Context, path: KeyPath, data: dict[str, Any] | None) -> tuple[tuple[Policy, ...] | None, Policy | None]:
    """The execution role: its identity policies, and a trust policy that must let Lambda assume it."""
    if data is None:
        return None, None
    trust = data.get("trust")
    trust_policy = None
    if trust is not None:
        trust_policy = policy(ctx, (*path, "trust"), trust, "resource")
        if trust_policy is not None and not trusts(trust_policy, "lambda.amazonaws.com"):
            ctx.fail(
                (*path, "trust"),
                "the trust policy does not let lambda.amazonaws.com assume the role "
                "(sts:AssumeRole), so Lambda could not run the function with it "
                f"({limits.ROLE})",
            )
    policies = [policy(ctx, (*path, "policies", i), p, "identity") for i, p in enumerate(data.get("policies") or [])]
    return tuple(p for p in policies if p is not None), trust_policy


def policy(ctx: Context, path: KeyPath, data: Any, kind: str, as_list: bool = False) -> Policy | None:
    """A policy inside the scenario; its errors name the scenario's lines. `as_list`: `data` wraps
    the statements found at `path`."""
    doc = ctx.doc.sub(path, data, ("Statement",) if as_list else ())
    try:
        return parse_policy(doc, kind)
    except InputErrors as exc:
        for error in exc.errors:
            key = error.path.removeprefix("Statement") if as_list else ("." + error.path if error.path else "")
            ctx.errors.append(replace(error, path=dotted(path) + key))
        return None


def trusts(trust: Policy, service: str) -> bool:
    """Whether a role's trust policy lets `service` assume the role."""
    return evaluate(Request("sts:AssumeRole", "*", service), resource=trust).allowed


def check_role_reads(ctx: Context, path: KeyPath, fn: Function, source: Queue | Stream, account: Account) -> None:
    """Lambda reads the source with the function's execution role: without the permissions, the mapping
    cannot be created (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, with-kinesis.html,
    with-ddb.html)."""
    if fn.role_policies is None:
        return
    region, account_id = account.region, account.account_id
    if isinstance(source, Queue):  # kind "queue" (a source is found among the things of its kind)
        service, arn = "SQS", f"arn:aws:sqs:{region}:{account_id}:{source.name}"
    elif source.kind == "kinesis":
        service, arn = "Kinesis", f"arn:aws:kinesis:{region}:{account_id}:stream/{source.name}"
    else:
        service, arn = "DynamoDB", f"arn:aws:dynamodb:{region}:{account_id}:table/{source.name}/stream/*"
    for action in READ_ACTIONS[service]:
        if not evaluate(Request(action, arn), list(fn.role_policies)).allowed:
            ctx.fail(
                (*path, "source"),
                f"The provided execution role does not have permissions to call "
                f"{action.split(':')[1]} on {service} (CreateEventSourceMapping refuses the "
                f"mapping; the role of {fn.name} needs {', '.join(READ_ACTIONS[service])})",
            )
            return
