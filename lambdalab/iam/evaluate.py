"""How IAM decides one request, as https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
documents it: an explicit Deny anywhere wins; otherwise an applicable Allow is needed (in the same account
the identity and resource policies' allows are a union; across accounts both must allow); with a
permissions boundary, identity-based allows must also be within it; otherwise the request is implicitly
denied. The decision says which statements made it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lambdalab.iam.conditions import Context, holds
from lambdalab.iam.matching import matches
from lambdalab.iam.policies import Policy, Statement

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "Allow", "ExplicitDeny", "ImplicitDeny"
_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Request:
    """Who asks to do what to which resource, and the request's condition keys."""

    action: str  # lambda:InvokeFunction
    resource: str  # an ARN
    principal: str = ""  # an IAM ARN, an account id, a service (s3.amazonaws.com) or "" for the identity's own
    context: Context = field(default_factory=dict)  # condition key (lower-case) -> values

    @property
    def is_service(self) -> bool:
        return self.principal.endswith(".amazonaws.com") and not self.principal.startswith("arn:")

    @property
    def principal_account(self) -> str | None:
        if _ACCOUNT.match(self.principal):
            return self.principal
        parts = self.principal.split(":")
        return parts[4] if self.principal.startswith("arn:") and len(parts) > 4 and parts[4] else None

    @property
    def resource_account(self) -> str | None:
        parts = self.resource.split(":")
        return parts[4] if len(parts) > 4 and parts[4] else None


@dataclass(frozen=True)
class Match:
    policy: str
    sid: str
    effect: str


@dataclass(frozen=True)
class Decision:
    decision: str  # Allow, ExplicitDeny or ImplicitDeny
    matched: tuple[Match, ...]
    explanation: str

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOW


def evaluate(
    request: Request, identity: Sequence[Policy] = (), resource: Policy | None = None, boundary: Policy | None = None
) -> Decision:
    from_identity = [] if request.is_service else _applicable(request, identity)  # a service has no identity policy
    from_resource = _applicable(request, [resource] if resource else [])
    from_boundary = _applicable(request, [boundary]) if boundary else []
    denies = [m for m in (*from_identity, *from_resource, *from_boundary) if m.effect == "Deny"]
    if denies:
        return Decision(
            EXPLICIT_DENY,
            tuple(denies),
            f"{_names(denies)} explicitly denies {request.action}; an explicit Deny overrides every Allow.",
        )
    identity_allows = [m for m in from_identity if m.effect == "Allow"]
    resource_allows = [m for m in from_resource if m.effect == "Allow"]
    outside_boundary: list[Match] = []
    if boundary is not None and not from_boundary:  # the boundary allows nothing here: identity allows do not count
        outside_boundary, identity_allows = identity_allows, []
    cross_account = (
        not request.is_service
        and request.principal_account is not None
        and request.resource_account is not None
        and request.principal_account != request.resource_account
    )
    if cross_account:
        if identity_allows and resource_allows:
            return Decision(
                ALLOW,
                tuple(identity_allows + resource_allows),
                f"Across accounts both must allow, and both do: {_names(identity_allows)} in the caller's "
                f"account and {_names(resource_allows)} in the resource's.",
            )
        missing = "the resource-based policy" if identity_allows else "an identity policy in the caller's account"
        return Decision(
            IMPLICIT_DENY,
            tuple(identity_allows + resource_allows),
            f"Across accounts both the caller's identity policy and the resource-based policy must allow; "
            f"{missing} does not, so the request is implicitly denied.",
        )
    allows = identity_allows + resource_allows
    if allows:
        where = (
            "the resource-based policy"
            if not identity_allows
            else "an identity policy"
            if not resource_allows
            else "identity and resource-based policies"
        )
        return Decision(ALLOW, tuple(allows), f"{_names(allows)} in {where} allows it, and no statement denies it.")
    if outside_boundary:
        return Decision(
            IMPLICIT_DENY,
            tuple(outside_boundary),
            f"{_names(outside_boundary)} allows it, but the permissions boundary does not, and "
            "effective permissions are the intersection: implicitly denied.",
        )
    return Decision(
        IMPLICIT_DENY, (), "No statement allows it, so it is implicitly denied (the default for every request)."
    )


def _names(matches_: list[Match]) -> str:
    return ", ".join(f"{m.sid} ({m.policy})" for m in matches_)


def _applicable(request: Request, policies: Sequence[Policy]) -> list[Match]:
    return [
        Match(policy.name, statement.name, statement.effect)
        for policy in policies
        for statement in policy.statements
        if _applies(statement, request)
    ]


def _applies(statement: Statement, request: Request) -> bool:
    hit = any(matches(pattern, request.action, ignore_case=True) for pattern in statement.actions)
    if hit == statement.not_action:
        return False
    if statement.resources is not None:
        resources = [_substitute(r, request.context) for r in statement.resources]
        hit = any(r is not None and matches(r, request.resource) for r in resources)
        if hit == statement.not_resource:
            return False
    if statement.principals is not None:
        hit = any(_principal_matches(kind, name, request) for kind, name in statement.principals)
        if hit == statement.not_principal:
            return False
    for condition in statement.conditions:
        values = [_substitute(v, request.context) for v in condition.values]
        if not holds(condition.operator, condition.key, [v for v in values if v is not None], request.context):
            return False
    return True


def _principal_matches(kind: str, name: str, request: Request) -> bool:
    principal = request.principal
    if kind == "*" or (kind == "AWS" and name == "*"):
        return True
    if kind == "Service":
        return request.is_service and principal == name
    if kind != "AWS" or request.is_service:
        return False
    if _ACCOUNT.match(name) or (name.startswith("arn:") and name.endswith(":root")):
        account = name if _ACCOUNT.match(name) else name.split(":")[4]
        return request.principal_account == account  # an account: any principal in it
    if principal == name:
        return True
    # A role also matches its sessions: arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
    if ":role/" in name and ":assumed-role/" in principal:
        account, role = name.split(":")[4], name.rsplit("/", 1)[-1]
        return principal.split(":")[4] == account and principal.split("/")[1] == role
    return False


def _substitute(text: str, context: Context) -> str | None:
    """Policy variables (${aws:username}): None when one is not in the request, so the value matches nothing."""
    if "${" not in text:
        return text
    missing = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ("*", "?", "$"):
            return name
        found = context.get(name.lower())
        if not found:
            missing.append(name)
            return ""
        return found[0]

    out = _VARIABLE.sub(value, text)
    return None if missing else out
