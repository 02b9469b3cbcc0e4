"""Assertions on what the learner's code did: its responses, error documents, logs, /tmp files and the
simulated services it wrote to. Comparisons are type-strict (1 is not true, "1" is not 1) and only ever
see decoded JSON, so an object with a permissive `__eq__` cannot pass anything.

An `expect` item names one target and one operator:

    {response: $.statusCode, equals: 200}            each invocation (or `invocation: N`)
    {response: $.body.message, matches: "^Hello"}   a path descends into a JSON string (an API body)
    {error: $.errorType, equals: ValueError}
    {logs: true, count: "creating client", equals: 1}   all invocations' logs together
    {tmp: cache.json, exists: true}                 a file the code wrote in /tmp
    {table: orders, length: 1}                      the items the code put in a simulated table
    {cloudfront: $.status, equals: 200}             an edge check: CloudFront's verdict on the result
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema

from lambdalab.engine import behaviour
from lambdalab.engine.behaviour import MISSING
from lambdalab.engine.scenario import json_path

TARGETS = ("response", "error", "logs", "tmp", "table", "cloudfront")
PER_INVOCATION = ("response", "error", "cloudfront")
OPERATORS = (
    "equals",
    "not_equals",
    "matches",
    "contains",
    "not_contains",
    "type",
    "exists",
    "schema",
    "at_least",
    "at_most",
    "less_than",
    "greater_than",
    "length",
)
_JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


@dataclass(frozen=True)
class Observed:
    """What one check saw: per invocation, and for the whole run."""

    responses: list[Any]  # None where the invocation failed
    errors: list[dict[str, Any] | None]
    logs: list[str]
    tmp_files: dict[str, str]  # name -> text, read from the environment's /tmp before it shut down
    tables: dict[str, list[Any]]  # simulated service tables -> items, in write order
    verdicts: list[dict[str, Any] | None]  # edge checks: {"status": 200, "problems": [...]} per invocation


def problems(item: dict[str, Any]) -> list[str]:
    """What is wrong with an `expect` item itself (an authoring error, found by `lambdalab validate`)."""
    targets = [t for t in TARGETS if t in item]
    ops = [o for o in OPERATORS if o in item]
    unknown = set(item) - set(TARGETS) - set(OPERATORS) - {"invocation", "count", "why"}
    out = []
    if len(targets) != 1:
        out.append(f"name exactly one of {', '.join(TARGETS)}")
    if len(ops) != 1:
        out.append(f"name exactly one operator: {', '.join(OPERATORS)}")
    if unknown:
        out.append(f"unknown keys: {', '.join(sorted(unknown))}")
    if "matches" in item or "count" in item:
        try:
            re.compile(str(item.get("matches", item.get("count"))))
        except re.error as exc:
            out.append(f"not a regular expression: {exc}")
    return out


def evaluate(item: dict[str, Any], seen: Observed) -> str | None:
    """None when the assertion holds; otherwise what was expected and what the code did."""
    target = next(t for t in TARGETS if t in item)
    if target in PER_INVOCATION:
        count = len(seen.responses)
        which = item.get("invocation")
        numbers = [which] if isinstance(which, int) else list(range(1, count + 1))
        for number in numbers:
            if not 1 <= number <= count:
                return f"there is no invocation {number} (the check made {count})"
            source = {"response": seen.responses, "error": seen.errors, "cloudfront": seen.verdicts}[target][number - 1]
            failure = _holds(item, target, _path(item[target]), source, seen.errors[number - 1])
            if failure:
                return f"invocation {number}: {failure}" if count > 1 else failure
        return None
    if target == "logs":
        which = item.get("invocation")
        if isinstance(which, int) and 0 < which <= len(seen.logs):
            failure = _holds(item, target, "$", seen.logs[which - 1], None)
            return f"invocation {which}: {failure}" if failure else None
        return _holds(item, target, "$", "".join(seen.logs), None)
    if target == "tmp":
        return _holds(item, f"/tmp/{item['tmp']}", "$", seen.tmp_files.get(str(item["tmp"]), MISSING), None)
    return _holds(item, f"table {item['table']}", "$", seen.tables.get(str(item["table"]), []), None)


def _path(value: Any) -> str:
    """A target's JSON path; `response: true` (or any non-path) means the whole value."""
    return value if isinstance(value, str) and value.startswith("$") else "$"


def _holds(item: dict[str, Any], target: str, path: str, source: Any, error: dict[str, Any] | None) -> str | None:
    if source is None and target in ("response", "error"):
        other = f"it failed: {error_line(error)}" if target == "response" else "it succeeded"
        return f"expected {'a response' if target == 'response' else 'an error'}, but {other}"
    value = lookup(source, path)
    label = target if path == "$" else f"{target} {path}"
    if "count" in item:
        if value is MISSING:
            return f"{label} is missing"
        value = len(re.findall(str(item["count"]), value if isinstance(value, str) else json.dumps(value)))
        label = f"matches of /{item['count']}/ in {label}"
    op = next(o for o in OPERATORS if o in item)
    expected = item[op]
    if op == "exists":
        return (
            None
            if (value is not MISSING) == bool(expected)
            else (f"{label} is missing" if expected else f"{label} should not be there, but is {show(value)}")
        )
    if value is MISSING:
        whole = f" (the {target} is {show(source)})" if path != "$" and target in PER_INVOCATION else ""
        return f"{label} is missing{whole}; expected {_wanted(op, expected)}"
    if _passes(op, value, expected):
        return None
    if op == "schema":
        first = next(iter(jsonschema.Draft202012Validator(expected).iter_errors(value)))
        where = "".join(f"[{p!r}]" for p in first.absolute_path)
        return (
            f"{label} is {show(value)}; not valid for the expected schema: "
            f"{where + ': ' if where else ''}{first.message}"
        )
    return f"{label} is {show(value)}; expected {_wanted(op, expected)}"


def _passes(op: str, value: Any, expected: Any) -> bool:
    if op == "equals":
        return same(value, expected)
    if op == "not_equals":
        return not same(value, expected)
    if op == "matches":
        return isinstance(value, str) and re.search(str(expected), value) is not None
    if op in ("contains", "not_contains"):
        found = (
            (isinstance(value, str) and isinstance(expected, str) and expected in value)
            or (isinstance(value, list) and any(same(v, expected) for v in value))
            or (isinstance(value, dict) and isinstance(expected, str) and expected in value)
        )
        return found == (op == "contains")
    if op == "type":
        return bool(json_type(value) == expected)
    if op == "schema":
        return not list(jsonschema.Draft202012Validator(expected).iter_errors(value))
    if op == "length":
        return isinstance(value, (str, list, dict)) and len(value) == expected
    if not _number(value) or not _number(expected):
        return False
    compared: dict[str, bool] = {
        "at_least": value >= expected,
        "at_most": value <= expected,
        "less_than": value < expected,
        "greater_than": value > expected,
    }
    return compared[op]


def lookup(value: Any, path: str) -> Any:
    """The value at a JSON path (as text); a JSON text met on the way is decoded (an API response's body)."""
    return behaviour.lookup(value, json_path(path), decode_text=True)


def same(a: Any, b: Any) -> bool:
    """Equality that keeps JSON types apart: 1 is not true, "1" is not 1, 1 is 1.0; containers compared deeply."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if _number(a) and _number(b):
        return bool(a == b)
    return type(a) is type(b) and a == b


def json_type(value: Any) -> str:
    if _number(value):
        return "integer" if isinstance(value, int) else "number"
    return next((name for name, kind in _JSON_TYPES.items() if type(value) is kind), type(value).__name__)


def show(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else json.dumps(value)
    text = text if len(text) <= limit else text[:limit] + "..."
    return f"{text} ({json_type(value)})"


def _wanted(op: str, expected: Any) -> str:
    words = {
        "equals": "",
        "not_equals": "anything but ",
        "matches": "text matching ",
        "contains": "something containing ",
        "not_contains": "nothing containing ",
        "type": "a value of type ",
        "schema": "",
        "length": "length ",
        "at_least": "at least ",
        "at_most": "at most ",
        "less_than": "less than ",
        "greater_than": "more than ",
    }
    return words[op] + (str(expected) if op in ("type", "length") else show(expected) if op != "schema" else "")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def error_line(error: dict[str, Any] | None) -> str:
    """`ValueError: no name`, as Lambda's error document says it."""
    if not error:
        return "no error"
    return f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}".rstrip(": ")
