"""Policy checks: a table of requests the learner's policy must allow and requests it must deny (least
privilege), each decided by the IAM evaluator, which says which statement decided."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambdalab.grading.handler_check import CheckCannotRun
from lambdalab.iam import Request, evaluate, load_policy, policy_from_data
from lambdalab.inputs import InputErrors


def decide_requests(setup: dict[str, Any], expect: tuple[dict[str, Any], ...], folder: Path) -> list[str]:
    """The requests decided the wrong way, each in words."""
    path = folder / setup["file"]
    if not path.is_file():
        raise CheckCannotRun(f"{folder.name}/{setup['file']} is missing")
    try:
        learner = load_policy(path, setup["kind"])
    except InputErrors as exc:
        raise CheckCannotRun(str(exc)) from None
    fixed = [
        policy_from_data(p, f"the course's identity policy {i + 1}", "identity")
        for i, p in enumerate(setup.get("identity", []))
    ]
    identity, resource = ([learner], None) if setup["kind"] == "identity" else (fixed, learner)
    wrong = []
    for item in expect:
        wanted = "allow" if "allow" in item else "deny"
        asked = item[wanted]
        context = {k.lower(): v if isinstance(v, list) else [str(v)] for k, v in asked.get("context", {}).items()}
        principal = asked.get("principal", "")
        if principal.startswith("arn:"):
            context.setdefault("aws:principalarn", [principal])
        request = Request(asked["action"], asked.get("resource", setup.get("resource", "")), principal, context)
        decision = evaluate(request, identity, resource)
        if decision.allowed != (wanted == "allow"):
            who = f" from {principal}" if principal else ""
            keys = asked.get("context", {})
            who += f" (with {', '.join(f'{k}={v}' for k, v in keys.items())})" if keys else ""
            wrong.append(
                f"{request.action} on {request.resource}{who} must be {'allowed' if wanted == 'allow' else 'denied'}, "
                f"but it is {decision.decision}: {decision.explanation}"
            )
    return wrong
