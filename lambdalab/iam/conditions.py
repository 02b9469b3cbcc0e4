"""Condition operators, as https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
documents them, and the rules for several keys and values
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html):
different operators and keys are ANDed, the values of one key ORed; a key absent from the request makes the
condition false, except for negated operators, `...IfExists` and `Null`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import datetime, timezone

from lambdalab.iam.matching import arn_matches, matches

Context = dict[str, list[str]]  # condition key (lower-case) -> its values in the request


def _number(text: str) -> float:
    return float(text)


def _date(text: str) -> datetime:
    """ISO 8601 dates and times, or epoch seconds, as IAM accepts both."""
    text = str(text).strip()
    if text.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), tz=timezone.utc)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _ip(request: str, policy: str) -> bool:
    return ipaddress.ip_address(request) in ipaddress.ip_network(policy, strict=False)


def _bool(request: str, policy: str) -> bool:
    return str(request).lower() == str(policy).lower()


# operator -> (compare one request value with one policy value, negated?)
_BASE: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda r, p: r == p, False),
    "StringNotEquals": (lambda r, p: r == p, True),
    "StringEqualsIgnoreCase": (lambda r, p: r.lower() == p.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda r, p: r.lower() == p.lower(), True),
    "StringLike": (lambda r, p: matches(p, r), False),
    "StringNotLike": (lambda r, p: matches(p, r), True),
    "NumericEquals": (lambda r, p: _number(r) == _number(p), False),
    "NumericNotEquals": (lambda r, p: _number(r) == _number(p), True),
    "NumericLessThan": (lambda r, p: _number(r) < _number(p), False),
    "NumericLessThanEquals": (lambda r, p: _number(r) <= _number(p), False),
    "NumericGreaterThan": (lambda r, p: _number(r) > _number(p), False),
    "NumericGreaterThanEquals": (lambda r, p: _number(r) >= _number(p), False),
    "DateEquals": (lambda r, p: _date(r) == _date(p), False),
    "DateNotEquals": (lambda r, p: _date(r) == _date(p), True),
    "DateLessThan": (lambda r, p: _date(r) < _date(p), False),
    "DateLessThanEquals": (lambda r, p: _date(r) <= _date(p), False),
    "DateGreaterThan": (lambda r, p: _date(r) > _date(p), False),
    "DateGreaterThanEquals": (lambda r, p: _date(r) >= _date(p), False),
    "Bool": (_bool, False),
    "BinaryEquals": (lambda r, p: r == p, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (lambda r, p: arn_matches(p, r), False),
    "ArnLike": (lambda r, p: arn_matches(p, r), False),
    "ArnNotEquals": (lambda r, p: arn_matches(p, r), True),
    "ArnNotLike": (lambda r, p: arn_matches(p, r), True),
}
QUALIFIERS = ("ForAnyValue:", "ForAllValues:")


def known_operator(name: str) -> bool:
    return _split(name) is not None


def _split(name: str) -> tuple[str, str, bool] | None:
    """ "ForAnyValue:StringLikeIfExists" -> ("ForAnyValue:", "StringLike", True); None when unknown."""
    qualifier = next((q for q in QUALIFIERS if name.startswith(q)), "")
    base = name[len(qualifier) :]
    if base == "Null":
        return (qualifier, base, False) if not qualifier else None
    if_exists = base.endswith("IfExists")
    base = base[: -len("IfExists")] if if_exists else base
    return (qualifier, base, if_exists) if base in _BASE else None


def holds(operator: str, key: str, policy_values: list[str], context: Context) -> bool:
    """Whether one operator-key pair of a Condition block holds for the request."""
    split = _split(operator)
    if split is None:  # reading a policy refuses unknown operators; a Condition built by hand may still have one
        raise ValueError(f"unknown condition operator {operator!r}")
    qualifier, base, if_exists = split
    present = key.lower() in context
    values = context.get(key.lower(), [])
    if base == "Null":
        wanted_absent = any(str(v).lower() == "true" for v in policy_values)
        return (not present) == wanted_absent
    compare, negated = _BASE[base]
    if not present:
        if if_exists:
            return True
        # Absent key: a positive operator cannot match; a negated one is true; ForAllValues over nothing is true.
        return negated or qualifier == "ForAllValues:"

    def one(value: str) -> bool:
        try:
            hit = any(compare(str(value), str(p)) for p in policy_values)
        except ValueError:  # a value that is not a number, date or address does not match
            hit = False
        return not hit if negated else hit

    if qualifier == "ForAllValues:":
        return all(one(v) for v in values)
    if negated and not qualifier:  # a negated single-valued operator: none of the values may match
        return all(one(v) for v in values)
    return any(one(v) for v in values)
