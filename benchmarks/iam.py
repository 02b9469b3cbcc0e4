"""Performance benchmark for lambdalab's IAM evaluator: decisions per second on a realistic policy set.

    python benchmarks/iam.py [--json]

Target (issue: engine breadth): at least 50,000 decisions a second. The policy set is what a Lambda
function's permissions look like: an execution role with a few statements (CloudWatch Logs, DynamoDB
with a leading-key condition, S3 by prefix with a policy variable, an explicit deny), a permissions
boundary, and a resource-based policy granting S3 and another account, with SourceArn/SourceAccount
conditions. Requests mix allowed, explicitly and implicitly denied, same- and cross-account callers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lambdalab.iam import Request, evaluate, policy_from_data  # noqa: E402

TARGET = 50_000
ACCOUNT, OTHER = "111122223333", "444455556666"
FN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders"

ROLE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/orders:*",
        },
        {
            "Sid": "Table",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders",
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:PrincipalTag/tenant}"]}},
        },
        {
            "Sid": "Uploads",
            "Effect": "Allow",
            "Action": "s3:*Object",
            "Resource": "arn:aws:s3:::uploads/${aws:username}/*",
        },
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": ["s3:DeleteObject", "dynamodb:DeleteItem"], "Resource": "*"},
    ],
}
BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["logs:*", "dynamodb:*", "s3:*"], "Resource": "*"}],
}
FUNCTION_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "S3Invoke",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": FN,
            "Condition": {
                "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"},
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
            },
        },
        {
            "Sid": "Partner",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER}:role/partner"},
            "Action": "lambda:InvokeFunction",
            "Resource": FN,
        },
    ],
}


def requests() -> list[Request]:
    alice = f"arn:aws:iam::{ACCOUNT}:user/alice"
    tags = {"aws:principaltag/tenant": ["t-1"], "aws:username": ["alice"]}
    return [
        Request(
            "logs:PutLogEvents", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/orders:log-stream:x", alice
        ),
        Request(
            "dynamodb:Query",
            f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders",
            alice,
            {**tags, "dynamodb:leadingkeys": ["t-1"]},
        ),
        Request(
            "dynamodb:Query",
            f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders",
            alice,
            {**tags, "dynamodb:leadingkeys": ["t-2"]},
        ),
        Request("s3:PutObject", "arn:aws:s3:::uploads/alice/a.jpg", alice, tags),
        Request("s3:DeleteObject", "arn:aws:s3:::uploads/alice/a.jpg", alice, tags),
        Request(
            "lambda:InvokeFunction",
            FN,
            "s3.amazonaws.com",
            {"aws:sourcearn": ["arn:aws:s3:::uploads"], "aws:sourceaccount": [ACCOUNT]},
        ),
        Request(
            "lambda:InvokeFunction",
            FN,
            "s3.amazonaws.com",
            {"aws:sourcearn": ["arn:aws:s3:::other"], "aws:sourceaccount": [ACCOUNT]},
        ),
        Request("lambda:InvokeFunction", FN, f"arn:aws:iam::{OTHER}:role/partner"),
    ]


def measure(rounds: int = 5, per_round: int = 40_000) -> dict:
    role = policy_from_data(ROLE, "role", "identity")
    boundary = policy_from_data(BOUNDARY, "boundary", "identity")
    function_policy = policy_from_data(FUNCTION_POLICY, "function", "resource")
    batch = requests()
    rates, decisions = [], {}
    for _ in range(rounds):
        started = time.perf_counter()
        for n in range(per_round):
            request = batch[n % len(batch)]
            decision = evaluate(request, [role], function_policy, boundary)
            decisions[n % len(batch)] = decision.decision
        rates.append(per_round / (time.perf_counter() - started))
    return {
        "decisions_per_s": round(statistics.median(rates)),
        "rounds": [round(r) for r in rates],
        "requests": len(batch),
        "mix": [decisions[i] for i in range(len(batch))],
        "target": TARGET,
        "met": statistics.median(rates) >= TARGET,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    out = measure()
    if parser.parse_args().json:
        print(json.dumps(out, indent=2))
        return
    print(
        f"IAM decisions per second: {out['decisions_per_s']:,} (median of {len(out['rounds'])} rounds)   "
        f"target {TARGET:,}   met: {'yes' if out['met'] else 'NO'}"
    )
    print(f"   the {out['requests']} requests decide: {', '.join(out['mix'])}")


if __name__ == "__main__":
    main()
