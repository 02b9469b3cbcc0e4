"""Shared helpers for the engine behaviour tests (tests/test_engine_*.py).

`simulate(yaml)` runs a scenario to its end with a listener attached and returns
the report plus every engine event, so a test can check both the CloudWatch-style
figures and *when* things happened (env ids, request ids, times).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

from lambdalab.engine import Simulation, parse_scenario
from lambdalab.engine.report import build_report


@dataclass
class Run:
    sim: Simulation
    report: dict
    events: list[tuple[float, str, dict]] = field(default_factory=list)

    def fn(self, name: str = "f") -> dict:
        return self.report["functions"][name]

    def metrics(self, name: str = "f") -> dict:
        return self.report["functions"][name]["metrics"]

    def outcomes(self, name: str = "f") -> dict:
        return self.report["functions"][name]["outcomes"]

    def envs(self, name: str = "f") -> dict:
        return self.report["functions"][name]["environments"]

    def queue(self, name: str) -> dict:
        return self.report["queues"][name]

    def of(self, kind: str, **match: Any) -> list[tuple[float, dict]]:
        """(time, data) of every event of `kind` whose data has all of `match`."""
        return [(t, d) for t, k, d in self.events if k == kind and all(d.get(key) == v for key, v in match.items())]

    def times(self, kind: str, **match: Any) -> list[float]:
        return [t for t, _ in self.of(kind, **match)]


def scenario(text: str, name: str = "t.yaml"):
    return parse_scenario(textwrap.dedent(text), name=name)


def simulate(text: str, *, seed: int | None = None, series_step: float | None = None, listen: bool = True) -> Run:
    sim = Simulation(scenario(text), seed=seed, series_step=series_step)
    events: list[tuple[float, str, dict]] = []
    if listen:
        sim.subscribe(lambda t, kind, data: events.append((t, kind, dict(data))))
    sim.run()
    return Run(sim, build_report(sim), events)


def report_json(text: str, *, seed: int | None = None, series_step: float | None = None) -> str:
    """The report as `lambdalab sim --json` would serialise it (keys in the engine's order)."""
    run = simulate(text, seed=seed, series_step=series_step, listen=False)
    return json.dumps(run.report, sort_keys=False)


def conservation_holds(outcomes: dict) -> bool:
    o = outcomes
    ended = o["succeeded"] + o["failed"] + o["throttled"] + o["denied"] + o["dropped"] + o["in_flight"]
    return o["requests"] == ended + o.get("rejected", 0)  # rejected: only where request chains are followed
