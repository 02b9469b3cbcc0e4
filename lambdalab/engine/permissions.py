"""Who may invoke a function, and what its execution role lets it send: IAM decisions inside a run.

Decided once per traffic generator and per destination (same inputs, same answer), with lambdalab.iam,
as AWS decides them: a caller other than the function's own account needs the function's resource-based
policy (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html); a function
sends to its DLQ and destinations with its execution role's permissions
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
"""

from __future__ import annotations

from lambdalab.engine.ids import function_arn
from lambdalab.engine.model import Function
from lambdalab.iam import IMPLICIT_DENY, Decision, Request, evaluate
from lambdalab.iam.policies import Policy, Statement

# The other account's own identity policy is not part of a scenario: assume it lets its principal call
# (the scenario is about this function's side of the permission).
_CALLER_ALLOWS = Policy(
    "the caller's identity policy (assumed)",
    "identity",
    (
        Statement(
            sid="assumed",
            effect="Allow",
            actions=("*",),
            not_action=False,
            resources=("*",),
            not_resource=False,
            principals=None,
            not_principal=False,
            conditions=(),
            index=0,
        ),
    ),
)

# What a function needs to send to each kind of destination, and the target's ARN.
_SEND = {
    "queue": ("sqs:SendMessage", "arn:aws:sqs:{region}:{account}:{name}"),
    "topic": ("sns:Publish", "arn:aws:sns:{region}:{account}:{name}"),
    "bus": ("events:PutEvents", "arn:aws:events:{region}:{account}:event-bus/{name}"),
    "function": ("lambda:InvokeFunction", "arn:aws:lambda:{region}:{account}:function:{name}"),
}


def invoke_decision(
    fn: Function, principal: str, source_arn: str, source_account: str, region: str, account_id: str
) -> Decision | None:
    """The decision on a call from another principal; None when it comes from the function's own account."""
    if not principal:
        return None
    if fn.resource_policy is None:
        return Decision(
            IMPLICIT_DENY,
            (),
            f"{fn.name} has no resource-based policy, so only its own account's "
            f"principals may invoke it; {principal} may not.",
        )
    context = {}
    if source_arn:
        context["aws:sourcearn"] = [source_arn]
    if source_account:
        context["aws:sourceaccount"] = [source_account]
    request = Request("lambda:InvokeFunction", function_arn(region, account_id, fn.name), principal, context)
    return evaluate(request, [_CALLER_ALLOWS], fn.resource_policy)


def may_send(fn: Function, target: str, region: str, account_id: str) -> bool:
    """Whether the execution role lets the function send to `target` ("queue:NAME", ...); True without a role."""
    if fn.role_policies is None:
        return True
    kind, _, name = target.partition(":")
    action, arn = _SEND[kind]
    request = Request(action, arn.format(region=region, account=account_id, name=name))
    return evaluate(request, list(fn.role_policies)).allowed
