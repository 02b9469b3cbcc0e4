"""Tenant ids, as a traffic generator gives them to a function in tenant isolation mode.

Every invoke of such a function carries one (Invoke's X-Amz-Tenant-Id header): 1-256 characters of
letters, digits, space and `._:/=+-@` (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html,
https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation-invoke.html). A generator takes it from
each event by a JSON path, gives one fixed id, or goes round tenant-1 ... tenant-N; an event without a
usable id at the path gets no id, and Lambda refuses that request (tenants.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from lambdalab import limits
from lambdalab.engine.behaviour import MISSING, lookup
from lambdalab.engine.model import KeyRule

_VALID = re.compile(rf"[a-zA-Z0-9._:/=+\-@ ]{{1,{limits.TENANT_ID_MAX_CHARS}}}")


def tenant_id_problem(value: str) -> str | None:
    """What is wrong with a tenant id, in words; None when Lambda would take it."""
    if _VALID.fullmatch(value):
        return None
    if not value or len(value) > limits.TENANT_ID_MAX_CHARS:
        return f"a tenant id has 1 to {limits.TENANT_ID_MAX_CHARS} characters, not {len(value)}"
    bad = sorted({ch for ch in value if not _VALID.fullmatch(ch)})
    return f"a tenant id has only the characters {limits.TENANT_ID_CHARACTERS}, not {' '.join(map(repr, bad))}"


def tenant_picker(rule: KeyRule) -> Callable[[Any], str | None]:
    """A function from each event sent to its tenant id, or None when the event gives no valid one."""
    if rule.path is not None:
        path = rule.path
        return lambda event: _id_at(event, path)
    if rule.fixed:
        fixed = rule.fixed
        return lambda _event: fixed
    count, turn = rule.count, iter(range(1 << 62))
    return lambda _event: f"tenant-{next(turn) % count + 1}"


def _id_at(event: Any, path: tuple[str | int, ...]) -> str | None:
    found = lookup(event, path)
    if found is MISSING or found is None or isinstance(found, (dict, list)):
        return None
    text = found if isinstance(found, str) else json.dumps(found)
    return text if tenant_id_problem(text) is None else None
