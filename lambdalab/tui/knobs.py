"""The simulator's knobs: a scenario's YAML data with one function's settings changed, re-validated.

Changes go through the scenario file's own validation (parse_scenario), so a
knob set out of range gets the same message the CLI would give.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import yaml

from lambdalab.engine import parse_scenario
from lambdalab.engine.model import Scenario
from lambdalab.engine.units import parse_rate

# knob -> (where it lives in a function's YAML, label)
KNOBS = {
    "reserved_concurrency": (("reserved_concurrency",), "Reserved concurrency (blank: none)"),
    "provisioned_concurrency": (("provisioned_concurrency",), "Provisioned concurrency"),
    "memory": (("memory",), "Memory (MB)"),
    "timeout": (("timeout",), "Timeout (e.g. 3s)"),
    "maximum_retry_attempts": (("async", "maximum_retry_attempts"), "Async retry attempts (0-2)"),
    "maximum_event_age": (("async", "maximum_event_age"), "Maximum event age (60s-6h)"),
}
RATE = "traffic_rate_multiplier"


@dataclass(frozen=True)
class KnobSettings:
    function: str
    values: dict[str, Any]  # knob -> value as typed (None: remove the key)
    rate_multiplier: float = 1.0


def current_values(data: dict, function: str) -> dict[str, Any]:
    fn = (data.get("functions") or {}).get(function) or {}
    out = {}
    for knob, (path, _) in KNOBS.items():
        value: Any = fn
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        out[knob] = value
    return out


def apply(data: dict, settings: KnobSettings) -> dict:
    """A copy of the scenario data with the settings applied."""
    data = copy.deepcopy(data)
    fn = data["functions"][settings.function]
    for knob, value in settings.values.items():
        path = KNOBS[knob][0]
        holder = fn
        for key in path[:-1]:
            if not isinstance(holder.get(key), dict):
                holder[key] = {}
            holder = holder[key]
        if value is None:
            holder.pop(path[-1], None)
        else:
            holder[path[-1]] = value
    if settings.rate_multiplier != 1.0:
        for item in data.get("traffic") or []:
            if isinstance(item, dict) and item.get("target") == settings.function:
                if "rate" in item:
                    item["rate"] = parse_rate(item["rate"]) * settings.rate_multiplier
                if "burst" in item:
                    item["burst"] = max(1, round(item["burst"] * settings.rate_multiplier))
    return data


def scenario_from(data: dict, name: str) -> Scenario:
    """Validate and build; InputErrors name the knob's key, as for a file."""
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), name=name)
