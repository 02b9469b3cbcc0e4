"""A hidden check's `vary:`, drawn afresh for each class from its answer key's secret.

The hidden checks shipped with the course are examples every learner can read. An answer key replaces
each with a draw of its own: other payloads, ids, amounts, seeds, each written into the check's setup
and expectations at the paths `vary` names, so that a submission fitted to the shipped example fails the
class's checks, while a real solution passes them (`classroom init` proves it against the reference).

    vary:
      - {between: [1000, 9999], format: "u-{}", at: [[handler, events, 3, event, user_id], [expect, 2, equals]]}
      - {one_of: [{amount: 10000, usd: 67}, {amount: 3000, usd: 20}],
         at: {amount: [[handler, events, 3, event, amount]], usd: [[expect, 3, equals]]}}
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import hmac
import random
from typing import Any

from lambdalab.grading.exercises import Check


def item_of(check: Check) -> dict[str, Any]:
    """The part of a check `vary` paths start from: its setup under its kind, and its expectations."""
    return {check.kind: check.setup, "expect": list(check.expect)}


def problems(check: Check) -> list[tuple[tuple[str | int, ...], str]]:
    """(where in the check, what is wrong) for each `vary` item that cannot be drawn."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    item = item_of(check)
    if check.vary and not check.hidden:
        found.append((("vary",), "only a hidden check varies: a visible one must stay what the learner reads"))
    for index, rule in enumerate(check.vary):
        where = ("vary", index)
        paths = rule["at"]
        if isinstance(paths, dict):
            options = rule.get("one_of", [])
            if not options or any(not isinstance(o, dict) or set(o) != set(paths) for o in options):
                found.append(
                    (
                        where + ("one_of",),
                        f"with `at` naming fields, every one_of value is a mapping of "
                        f"exactly those fields ({', '.join(paths)})",
                    )
                )
            paths = [p for field_paths in paths.values() for p in field_paths]
        if "format" in rule and "between" not in rule:
            found.append((where + ("format",), "format places an integer drawn by `between`"))
        if "between" in rule and rule["between"][0] > rule["between"][1]:
            found.append((where + ("between",), "the first number is the smallest, the second the largest"))
        for path in paths:
            if _parent(item, path) is None:
                found.append(
                    (
                        where + ("at",),
                        f"{'.'.join(map(str, path))} is not in the check: a path names "
                        f"keys and list positions under {check.kind} or expect",
                    )
                )
    return found


def drawn(check: Check, rng: random.Random) -> Check:
    """The check with each `vary` item drawn from `rng`, and no `vary` left."""
    item = copy.deepcopy(item_of(check))
    for rule in check.vary:
        if "one_of" in rule:
            value = copy.deepcopy(rng.choice(rule["one_of"]))
        else:
            number = rng.randint(*rule["between"])
            value = rule["format"].replace("{}", str(number)) if "format" in rule else number
        targets = rule["at"].items() if isinstance(rule["at"], dict) else [(None, rule["at"])]
        for field, paths in targets:
            for path in paths:
                parent = _parent(item, path)
                parent[path[-1]] = copy.deepcopy(value[field] if field is not None else value)
    return dataclasses.replace(check, setup=item[check.kind], expect=tuple(item["expect"]), vary=())


def class_random(secret: bytes, exercise_id: str, check_id: str, attempt: int = 0) -> random.Random:
    """The same draws for the same key, and unrelated ones for another key or another check."""
    seed = hmac.new(secret, f"{exercise_id}/{check_id}/{attempt}".encode(), hashlib.sha256).digest()
    return random.Random(int.from_bytes(seed, "big"))


def _parent(item: Any, path: list[Any]) -> Any:
    """The mapping or list holding the value at `path`, or None when the path does not lead to a value."""
    node = item
    for step in path[:-1]:
        node = _step(node, step)
        if node is None:
            return None
    return node if _step(node, path[-1], exists=True) is not None else None


def _step(node: Any, step: Any, exists: bool = False) -> Any:
    if isinstance(node, dict) and step in node:
        return node if exists else node[step]
    if isinstance(node, list) and isinstance(step, int) and -len(node) <= step < len(node):
        return node if exists else node[step]
    return None
