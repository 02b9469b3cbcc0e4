"""IAM policy documents -> checked statements, with every mistake named at `file:line:column` and key.

JSON is YAML, so policies go through the same loader as scenarios (positions
included) and may also be written in YAML. The grammar follows
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdalab.iam.conditions import QUALIFIERS, known_operator
from lambdalab.inputs import Document, InputError, InputErrors, load_yaml
from lambdalab.inputs.errors import did_you_mean

KeyPath = tuple[str | int, ...]  # where in the document: ("Statement", 0, "Action")
VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_KEYS = [
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
]
PRINCIPAL_KINDS = ["AWS", "Service", "Federated", "CanonicalUser"]
OPERATORS = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
]

Principal = tuple[str, str]  # ("AWS", "arn:aws:iam::111122223333:root"), ("Service", "s3.amazonaws.com"), ("*", "*")


@dataclass(frozen=True)
class Condition:
    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str  # Allow or Deny
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...] | None  # None: the statement has no Resource (a trust policy)
    not_resource: bool
    principals: tuple[Principal, ...] | None  # None in identity policies
    not_principal: bool
    conditions: tuple[Condition, ...]
    index: int  # its place in the policy, for "the 2nd statement" when it has no Sid

    @property
    def name(self) -> str:
        return self.sid or f"statement {self.index + 1}"


@dataclass(frozen=True)
class Policy:
    name: str  # the file, or a name given by the caller
    kind: str  # "identity" or "resource"
    statements: tuple[Statement, ...]


def load_policy(path: str | Path, kind: str) -> Policy:
    """A policy file: JSON as IAM takes it (checked strictly first, so a trailing comma is an error here
    as on AWS), or YAML."""
    doc = load_yaml(path)
    if str(path).endswith(".json"):
        try:
            json.loads(Path(path).read_text("utf-8"))
        except json.JSONDecodeError as exc:
            raise InputErrors([InputError(str(path), exc.lineno, exc.colno, "", f"invalid JSON: {exc.msg}")]) from None
    return parse_policy(doc, kind)


def policy_from_data(data: Any, name: str, kind: str) -> Policy:
    """A policy already in memory (a scenario's `resource_policy`, a test)."""
    return parse_policy(Document(name, data), kind)


def parse_policy(doc: Document, kind: str) -> Policy:
    errors: list[InputError] = []
    data = doc.data
    if not isinstance(data, dict):
        raise InputErrors([doc.error((), 'a policy is a JSON object with "Version" and "Statement"')])
    for key in data:
        if key not in ("Version", "Id", "Statement"):
            errors.append(doc.error((key,), f"unknown key {key!r}{did_you_mean(key, ['Version', 'Id', 'Statement'])}"))
    if "Version" in data and data["Version"] not in VERSIONS:
        errors.append(doc.error(("Version",), f"{data['Version']!r} is not a policy version ({', '.join(VERSIONS)})"))
    raw = data.get("Statement")
    if raw is None:
        errors.append(doc.error((), "missing required key 'Statement'"))
        raise InputErrors(errors)
    items = raw if isinstance(raw, list) else [raw]
    base = ("Statement",)
    statements = []
    for i, item in enumerate(items):
        path = (*base, i) if isinstance(raw, list) else base
        statement = _statement(doc, path, item, kind, i, errors)
        if statement is not None:
            statements.append(statement)
    if errors:
        raise InputErrors(errors)
    return Policy(doc.name, kind, tuple(statements))


def _strings(doc: Document, path: KeyPath, value: Any, errors: list[InputError]) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            errors.append(doc.error((*path, i) if isinstance(value, list) else path, "expected text or a list of text"))
        else:
            out.append(str(v))
    return tuple(out)


def _statement(
    doc: Document, path: KeyPath, data: Any, kind: str, index: int, errors: list[InputError]
) -> Statement | None:
    if not isinstance(data, dict):
        errors.append(doc.error(path, "a statement is a JSON object (Effect, Action, Resource, ...)"))
        return None
    for key in data:
        if key not in STATEMENT_KEYS:
            errors.append(doc.error((*path, key), f"unknown key {key!r}{did_you_mean(key, STATEMENT_KEYS)}"))
    effect = data.get("Effect")
    if effect not in ("Allow", "Deny"):
        errors.append(
            doc.error(
                (*path, "Effect") if "Effect" in data else path,
                'Effect must be "Allow" or "Deny"' if "Effect" in data else "missing required key 'Effect'",
            )
        )
    actions, not_action = _exactly_one(doc, path, data, "Action", "NotAction", errors, required=True)
    resources, not_resource = _exactly_one(
        doc, path, data, "Resource", "NotResource", errors, required=kind == "identity"
    )
    principal_key = "Principal" if "Principal" in data else "NotPrincipal" if "NotPrincipal" in data else None
    principals = None
    if kind == "identity" and principal_key:
        errors.append(
            doc.error(
                (*path, principal_key),
                f"an identity policy has no {principal_key}: the identity it is "
                "attached to is the principal (a resource-based policy names one)",
            )
        )
    elif kind == "resource":
        if principal_key is None:
            errors.append(
                doc.error(path, "missing required key 'Principal': a resource-based policy says who it allows")
            )
        else:
            principals = _principals(doc, (*path, principal_key), data[principal_key], errors)
    conditions = _conditions(doc, (*path, "Condition"), data.get("Condition"), errors)
    return Statement(
        sid=str(data.get("Sid", "")),
        effect=str(effect),
        actions=actions or (),
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        principals=principals,
        not_principal=principal_key == "NotPrincipal",
        conditions=conditions,
        index=index,
    )


def _exactly_one(
    doc: Document, path: KeyPath, data: dict[str, Any], key: str, negated: str, errors: list[InputError], required: bool
) -> tuple[tuple[str, ...] | None, bool]:
    if key in data and negated in data:
        errors.append(doc.error((*path, negated), f"a statement has {key} or {negated}, not both"))
    if key in data:
        return _strings(doc, (*path, key), data[key], errors), False
    if negated in data:
        return _strings(doc, (*path, negated), data[negated], errors), True
    if required:
        errors.append(doc.error(path, f"missing required key {key!r} (or {negated!r})"))
    return None, False


def _principals(doc: Document, path: KeyPath, value: Any, errors: list[InputError]) -> tuple[Principal, ...]:
    if value == "*":
        return (("*", "*"),)
    if not isinstance(value, dict):
        errors.append(
            doc.error(
                path, 'a Principal is "*" or an object such as {"AWS": "arn:..."} or {"Service": "s3.amazonaws.com"}'
            )
        )
        return ()
    out = []
    for kind, names in value.items():
        if kind not in PRINCIPAL_KINDS:
            errors.append(
                doc.error((*path, kind), f"unknown principal type {kind!r}{did_you_mean(kind, PRINCIPAL_KINDS)}")
            )
            continue
        out += [(kind, name) for name in _strings(doc, (*path, kind), names, errors)]
    return tuple(out)


def _conditions(doc: Document, path: KeyPath, value: Any, errors: list[InputError]) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        errors.append(doc.error(path, 'a Condition is an object: {"StringEquals": {"aws:SourceAccount": "..."}}'))
        return ()
    out = []
    for operator, keys in value.items():
        if not known_operator(operator):
            bare = next((operator[len(q) :] for q in QUALIFIERS if operator.startswith(q)), operator)
            errors.append(
                doc.error(
                    (*path, operator),
                    f"unknown condition operator {operator!r}{did_you_mean(bare.removesuffix('IfExists'), OPERATORS)}",
                )
            )
            continue
        if not isinstance(keys, dict):
            errors.append(doc.error((*path, operator), "expected an object of condition keys and their values"))
            continue
        for key, values in keys.items():
            out.append(Condition(operator, key, _strings(doc, (*path, operator, key), values, errors)))
    return tuple(out)
