"""`lambdalab iam eval`: an offline policy simulator that says which statement decided, service principals included."""

from __future__ import annotations

import argparse
import json

from lambdalab.commands import UsageError
from lambdalab.iam import Request, evaluate, load_policy

NAME = "iam"
HELP = "evaluate IAM policies offline: Allow, explicit deny or implicit deny, and which statement decided"
EXAMPLES = """\
  lambdalab iam eval --action s3:GetObject --resource arn:aws:s3:::photos/cat.jpg --policy role.json
  lambdalab iam eval --action lambda:InvokeFunction \\
      --resource arn:aws:lambda:us-east-1:111122223333:function:thumbnailer \\
      --resource-policy function-policy.json --principal s3.amazonaws.com \\
      --context aws:SourceArn=arn:aws:s3:::photos --context aws:SourceAccount=111122223333
  lambdalab iam eval ... --principal arn:aws:iam::444455556666:role/other --policy theirs.json \
--resource-policy mine.json
  lambdalab iam eval ... --json

--policy: identity policies of the caller (repeatable); --resource-policy: the resource's own policy;
--boundary: the caller's permissions boundary. --context KEY=VALUE may repeat a key for several values.
exit status: 0 allowed, 1 denied (explicitly or implicitly), 2 bad input (a policy's file:line:column and key)"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["eval"], help="eval: decide one request")
    parser.add_argument("--action", required=True, help="the action, e.g. lambda:InvokeFunction")
    parser.add_argument("--resource", required=True, metavar="ARN", help="the resource's ARN")
    parser.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="FILE",
        help="an identity policy of the caller (JSON or YAML; repeatable)",
    )
    parser.add_argument("--resource-policy", metavar="FILE", help="the resource-based policy")
    parser.add_argument("--boundary", metavar="FILE", help="the caller's permissions boundary")
    parser.add_argument(
        "--principal", default="", help="who calls: an IAM ARN, an account id, or a service such as s3.amazonaws.com"
    )
    parser.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a condition key of the request, e.g. aws:SourceAccount=111122223333 (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print the decision as JSON")


def run(args: argparse.Namespace) -> int:
    if not args.policy and not args.resource_policy:
        raise UsageError("give at least one policy: --policy FILE (identity) or --resource-policy FILE")
    context: dict[str, list[str]] = {}
    for item in args.context:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise UsageError(f"--context {item}: write it as KEY=VALUE")
        context.setdefault(key.lower(), []).append(value)
    if args.principal.startswith("arn:"):  # what IAM sets for an IAM caller, unless the user said otherwise
        context.setdefault("aws:principalarn", [args.principal])
    identity = [load_policy(path, "identity") for path in args.policy]
    resource = load_policy(args.resource_policy, "resource") if args.resource_policy else None
    boundary = load_policy(args.boundary, "identity") if args.boundary else None
    decision = evaluate(Request(args.action, args.resource, args.principal, context), identity, resource, boundary)
    if args.json:
        print(
            json.dumps(
                {
                    "decision": decision.decision,
                    "matched": [{"policy": m.policy, "sid": m.sid, "effect": m.effect} for m in decision.matched],
                    "explanation": decision.explanation,
                },
                indent=2,
            )
        )
    else:
        print(f"{decision.decision}: {decision.explanation}")
    return 0 if decision.allowed else 1
