"""Scenario checks: the learner's scenario file (or the scenario their AWS SAM template describes), with the
check's `override` merged over it (so the traffic and the code model under test stay the course's), run on the
engine with the check's seed; the check's `expect` items are the scenario's own expectations. A failed one is
explained from the run's trace: which request, when, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lambdalab.engine import Simulation, parse_scenario
from lambdalab.engine.explain import sentence
from lambdalab.engine.report import build_report
from lambdalab.engine.scenario import build_scenario
from lambdalab.grading.handler_check import CheckCannotRun
from lambdalab.inputs import InputErrors, load_yaml
from lambdalab.inputs.sam import as_scenario

# Which trace events explain a figure that came out wrong.
_EXPLAINED_BY = {
    "Throttles": "throttle",
    "throttled": "throttle",
    "AsyncEventsDropped": "async_drop",
    "dropped": "async_drop",
    "to_dlq": "async_drop",
    "to_on_failure": "async_drop",
    "denied": "denied",
    "Errors": "failure",
    "failed": "failure",
    "DestinationDeliveryFailures": "delivery",
    "DeadLetterErrors": "delivery",
    "discarded": "batch_discarded",
    "RecursiveInvocationsDropped": "recursion_stop",
    "rejected": "recursion_stop",
}
_KEPT_PER_KIND = 3


def merged(base: Any, override: Any) -> Any:
    """`override` over `base`: mappings merge key by key, anything else (lists too) is replaced, and a key
    set to null is removed (so a check can take out what a learner added, such as `code:`)."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = merged(base.get(key), value)
        return out
    return override


def run_scenario(
    setup: dict[str, Any], expect: tuple[dict[str, Any], ...] | None, folder: Path, seed: int
) -> tuple[list[str], Simulation, dict[str, Any]]:
    """The failed expectations, each explained; the run and its report. `expect` None keeps the learner's own."""
    path = folder / setup["file"]
    if not path.is_file():
        raise CheckCannotRun(f"{folder.name}/{setup['file']} is missing")
    try:
        doc = load_yaml(path)
        build_scenario(doc)  # the learner's file must stand on its own: its errors name its own lines
        doc = as_scenario(doc)  # a SAM template: the override goes over the scenario it describes
    except InputErrors as exc:
        raise CheckCannotRun(str(exc)) from None
    combined = merged(doc.data, setup.get("override", {}))
    if expect is not None:
        combined["expect"] = list(expect)
    try:  # named as the learner's file, which `code:` paths are relative to
        scenario = parse_scenario(yaml.safe_dump(combined, sort_keys=False), name=str(path))
    except InputErrors as exc:  # the course's changes broke a valid file: their lines are not the learner's
        raise CheckCannotRun(
            f"{path.name}, with this check's changes: " + "; ".join(f"{e.path}: {e.message}" for e in exc.errors)
        ) from None
    trace = _Trace()
    with Simulation(scenario, seed=setup.get("seed", seed)) as sim:  # real code's workers stop with the run
        sim.subscribe(trace)
        sim.run()
        report = build_report(sim)
    failures = []
    for item in report["expectations"]:
        if not item["passed"]:
            failures.append(_said(item) + trace.explain(item, scenario))
    return failures, sim, report


def _said(item: dict[str, Any]) -> str:
    owner = item.get("function") or item.get("queue") or item.get("stream")
    if owner is None and "capacity_provider" in item:
        owner = f"capacity provider {item['capacity_provider']}"
    elif owner is None and "mapping" in item:
        owner = f"event source mapping {item['mapping']}"
    owner = owner or "the account"
    if "version" in item:
        owner += f" version {item['version']}"
    return f"{item['metric']} of {owner} was {item['actual']}; expected {item['op']} {item['value']}."


class _Trace:
    """The first few trace events of each kind that can explain a figure (a run may have millions)."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], list[tuple[float, dict[str, Any]]]] = {}

    def __call__(self, time: float, kind: str, data: dict[str, Any]) -> None:
        if kind == "invoke_end":
            if not data.get("error"):
                return
            kind = "failure"
        elif kind == "delivery" and data.get("delivered"):
            return
        elif kind not in ("throttle", "async_drop", "denied", "batch_discarded", "delivery"):
            return
        events = self.kept.setdefault((kind, data.get("function", "")), [])
        if len(events) < _KEPT_PER_KIND:
            events.append((time, dict(data)))

    def explain(self, item: dict[str, Any], scenario: Any) -> str:
        stream = item.get("stream")
        kind = (
            "batch_discarded"
            if stream and item["metric"] in ("to_on_failure", "discarded")
            else _EXPLAINED_BY.get(item["metric"])
        )
        if kind is None:
            return ""
        function, version = item.get("function"), item.get("version")
        events = [
            e
            for (k, f), found in self.kept.items()
            if k == kind and _names(function, version, f)
            for e in found
            if stream in (None, e[1].get("stream"))
        ]
        if not events:
            return ""
        time, data = min(events, key=lambda e: e[0])
        return " First: " + sentence(kind, time, data, scenario)


def _names(function: str | None, version: str | None, traced: str) -> bool:
    """Whether an expectation about `function` (any function when None) covers a traced name: every version
    of it, or the one `version` named."""
    if version is not None:
        return traced == (function if version == "$LATEST" else f"{function}:{version}")
    return function is None or traced == function or traced.startswith(f"{function}:")
