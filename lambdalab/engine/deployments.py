"""Aliases over time: weighted routing that a deployment shifts step by step, and rolls back when its alarm fires.

CodeDeploy's predefined Lambda configurations (shared/reference/lambda-facts.md §6;
https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html): Canary10PercentNMinutes
sends 10 % to the new version, then the rest after N minutes; Linear10PercentEveryNMinute(s) adds 10 %
every N minutes; AllAtOnce moves everything at once. An alarm on the new version's Errors, checked every
minute, rolls the alias back to the old version at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdalab.engine.clock import EventLoop
    from lambdalab.engine.environments import FunctionRuntime

CONFIGS = (
    "Canary10Percent5Minutes",
    "Canary10Percent10Minutes",
    "Canary10Percent15Minutes",
    "Canary10Percent30Minutes",
    "Linear10PercentEvery1Minute",
    "Linear10PercentEvery2Minutes",
    "Linear10PercentEvery3Minutes",
    "Linear10PercentEvery10Minutes",
    "AllAtOnce",
)
ALARM_PERIOD_S = 60.0  # the alarm looks at one-minute periods, as a CloudWatch alarm on Errors typically does


def steps(config: str) -> list[tuple[float, float]]:
    """(seconds after the start, weight of the new version) for a configuration name."""
    if config == "AllAtOnce":
        return [(0.0, 1.0)]
    canary = re.fullmatch(r"Canary10Percent(\d+)Minutes", config)
    if canary:
        return [(0.0, 0.1), (int(canary.group(1)) * 60.0, 1.0)]
    linear = re.fullmatch(r"Linear10PercentEvery(\d+)Minutes?", config)
    assert linear is not None  # the scenario accepts only the names in CONFIGS
    every = int(linear.group(1)) * 60.0
    return [(i * every, round(0.1 * (i + 1), 1)) for i in range(10)]


@dataclass
class AliasState:
    """Where an alias sends requests now: its version, and maybe a share to another."""

    primary: FunctionRuntime
    other: FunctionRuntime | None = None
    weight: float = 0.0

    def pick(self, rand: Callable[[], float]) -> FunctionRuntime:
        return self.other if self.other is not None and rand() < self.weight else self.primary


@dataclass
class Deployment:
    """One traffic shift of an alias to a new version, as CodeDeploy runs it."""

    alias: AliasState
    new: FunctionRuntime
    config: str
    start: float
    errors_over: int | None  # the alarm: more errors than this in a minute, on the new version
    loop: EventLoop
    status: str = "scheduled"  # scheduled, in progress, succeeded, rolled back
    history: list[dict[str, Any]] = field(default_factory=list)
    _old: FunctionRuntime | None = None
    _errors_seen: int = 0

    def schedule(self) -> None:
        for offset, weight in steps(self.config):
            self.loop.at(self.start + offset, self._shift, weight)
        if self.errors_over is not None:
            self.loop.at(self.start + ALARM_PERIOD_S, self._check_alarm)

    def _shift(self, weight: float) -> None:
        if self.status in ("succeeded", "rolled back"):
            return
        if self.status == "scheduled":
            self.status, self._old, self._errors_seen = "in progress", self.alias.primary, self.new.metrics.errors
        if weight >= 1.0:
            self.alias.primary, self.alias.other, self.alias.weight = self.new, None, 0.0
            self.status = "succeeded"
        else:
            self.alias.other, self.alias.weight = self.new, weight
        self._record({"t_s": round(self.loop.now, 6), "weight": weight})

    def _check_alarm(self, _: Any) -> None:
        if self.status != "in progress":
            if self.status == "scheduled":
                self.loop.at(self.loop.now + ALARM_PERIOD_S, self._check_alarm)
            return
        # Checked only when the plan has an alarm (schedule), and only in progress, once _shift has set _old.
        assert self.errors_over is not None and self._old is not None
        errors = self.new.metrics.errors - self._errors_seen
        self._errors_seen = self.new.metrics.errors
        if errors > self.errors_over:
            self.alias.primary, self.alias.other, self.alias.weight = self._old, None, 0.0
            self.status = "rolled back"
            self._record(
                {
                    "t_s": round(self.loop.now, 6),
                    "weight": 0.0,
                    "alarm": f"{errors} errors on version {self.new.version} in the last minute "
                    f"(more than {self.errors_over})",
                }
            )
            return
        self.loop.at(self.loop.now + ALARM_PERIOD_S, self._check_alarm)

    def _record(self, step: dict[str, Any]) -> None:
        """A shift (or the rollback) in the deployment's history, and in the trace for whoever follows it."""
        self.history.append(step)
        if self.loop.listeners:
            self.loop.emit(
                "deployment",
                {
                    "function": self.new.config.name,
                    "version": self.new.version,
                    "from_version": (self._old or self.alias.primary).version,
                    "config": self.config,
                    "status": self.status,
                    **step,
                },
            )
