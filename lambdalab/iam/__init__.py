"""An IAM policy evaluator: identity and resource-based policies, as AWS documents the decision. No Textual."""

from lambdalab.iam.evaluate import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Decision, Request, evaluate
from lambdalab.iam.policies import Policy, load_policy, policy_from_data

__all__ = [
    "ALLOW",
    "EXPLICIT_DENY",
    "IMPLICIT_DENY",
    "Decision",
    "Policy",
    "Request",
    "evaluate",
    "load_policy",
    "policy_from_data",
]
