"""Each function's figures per step of virtual time, for charts, `sim --series` and the simulator's views.

Apart from metrics.py (CloudWatch's names and the latency histogram, which the runtimes themselves use):
the sampler reads the runtimes, so it sits above them and metrics.py below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdalab.engine.managed_instances import ManagedRuntime, ProviderState

if TYPE_CHECKING:
    from lambdalab.engine.durable_history import DurableState
    from lambdalab.engine.environments import FunctionRuntime
    from lambdalab.engine.pollers import ProvisionedSqsMapping


class SeriesSampler:
    """Samples every function at a fixed step of virtual time, for charts and `--series`.

    Concurrency is the maximum within each step (CloudWatch's advice for
    concurrency metrics is the Maximum statistic); counts are per step. A
    function with versions is sampled per version and as a whole, as the
    report shows it: its concurrency is the function's own peak in each step
    (the versions share it), not the sum of their peaks.
    """

    COUNTERS = ("invocations", "errors", "throttles", "cold_starts")  # FunctionMetrics attributes

    def __init__(
        self,
        step: float,
        functions: list[FunctionRuntime],
        providers: dict[str, ProviderState],
        durable: dict[str, DurableState] | None = None,
    ):
        self.step = step
        self.functions = functions
        # Managed Instances: environments of many slots, and the instances under them
        self.managed = {f.name: f for f in functions if isinstance(f, ManagedRuntime)}
        self.slots_in_use: dict[str, list[int]] = {name: [] for name in self.managed}
        self.cpu: dict[str, list[float]] = {name: [] for name in self.managed}
        self.providers = providers
        self.instances: dict[str, list[int]] = {name: [] for name in providers}
        self.members: dict[str, list[FunctionRuntime]] = {}  # function name -> its runtimes ($LATEST first)
        for f in functions:
            self.members.setdefault(f.config.name, []).append(f)
        self.times: list[float] = []
        self.concurrency: dict[str, list[int]] = {f.name: [] for f in functions}
        self.environments: dict[str, list[int]] = {f.name: [] for f in functions}
        self.waiting: dict[str, list[int]] = {f.name: [] for f in functions}
        self.counts: dict[str, dict[str, list[int]]] = {f.name: {c: [] for c in self.COUNTERS} for f in functions}
        self._last: dict[str, tuple[int, ...]] = {f.name: (0,) * len(self.COUNTERS) for f in functions}
        self.iterator_age: dict[str, list[int | None]] = {}  # functions a stream mapping reads for
        self.family_concurrency: dict[str, list[int]] = {name: [] for name, m in self.members.items() if len(m) > 1}
        self.fleets: list[ProvisionedSqsMapping] = []  # provisioned mappings: their pollers, the most in each step
        self.pollers: dict[int, list[int]] = {}
        # Durable functions: their executions running (suspended ones included) and suspended, at each step's end.
        self.durable = durable or {}
        self.executions: dict[str, tuple[list[int], list[int]]] = {name: ([], []) for name in self.durable}

    def sample(self, end_of_step: float) -> None:
        """Close the step that ends now."""
        self.times.append(end_of_step)
        for f in self.functions:
            self.concurrency[f.name].append(f.metrics.step_max_busy)
            f.metrics.step_max_busy = f.busy
            managed = self.managed.get(f.name)
            if managed is None:
                self.environments[f.name].append(len(f.environments))
            else:
                self.environments[f.name].append(len(managed.ees))
                self.slots_in_use[f.name].append(managed.slots_in_use)
                self.cpu[f.name].append(round(managed.cpu_percent(), 2))
            self.waiting[f.name].append(len(f.async_state.waiting))
            now = tuple(getattr(f.metrics, c) for c in self.COUNTERS)
            for counter, value, before in zip(self.COUNTERS, now, self._last[f.name]):
                self.counts[f.name][counter].append(value - before)
            self._last[f.name] = now
            if f.metrics.iterator_age_ms is not None:
                age = f.metrics.step_iterator_age_ms
                self.iterator_age.setdefault(f.name, []).append(round(age) if age >= 0 else None)
                f.metrics.step_iterator_age_ms = -1.0
        for name, provider in self.providers.items():
            self.instances[name].append(len(provider.instances))
        for fleet in self.fleets:
            self.pollers.setdefault(fleet.config.index, []).append(fleet.step_max_pollers)
            fleet.step_max_pollers = fleet.pollers
        for name, peaks in self.family_concurrency.items():
            family = self.members[name][0].family
            assert family is not None  # family_concurrency has only functions with versions (VersionRuntime)
            peaks.append(family.step_max_busy)
            family.step_max_busy = family.busy
        for name, state in self.durable.items():
            running, suspended = self.executions[name]
            running.append(state.running)
            suspended.append(state.suspended)

    def function_series(self, name: str) -> dict[str, Any]:
        """One function's series, as the report's `functions.NAME`: all its versions together, and `by_version`."""
        whole = self._whole_series(name)
        if name in self.executions:
            whole["durable_executions_running"], whole["durable_executions_suspended"] = self.executions[name]
        return whole

    def _whole_series(self, name: str) -> dict[str, Any]:
        members = self.members[name]
        if len(members) == 1:
            return self._runtime_series(members[0].name)
        parts = [self._runtime_series(m.name) for m in members]
        whole: dict[str, Any] = {
            key: [sum(step) for step in zip(*(p[key] for p in parts))] for key in parts[0] if key != "IteratorAge"
        }
        whole["ConcurrentExecutions"] = self.family_concurrency[name]
        if "IteratorAge" in parts[0]:  # a mapping reads for the function's $LATEST
            whole["IteratorAge"] = parts[0]["IteratorAge"]
        whole["by_version"] = {m.version: part for m, part in zip(members, parts)}
        return whole

    def _runtime_series(self, name: str) -> dict[str, Any]:
        return {
            "ConcurrentExecutions": self.concurrency[name],
            "environments": self.environments[name],
            "async_waiting": self.waiting[name],
            "Invocations": self.counts[name]["invocations"],
            "Errors": self.counts[name]["errors"],
            "Throttles": self.counts[name]["throttles"],
            "ColdStarts": self.counts[name]["cold_starts"],
            **({"IteratorAge": self.iterator_age[name]} if name in self.iterator_age else {}),
            **(
                {"slots_in_use": self.slots_in_use[name], "CPUUtilization": self.cpu[name]}
                if name in self.managed
                else {}
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step_s": self.step,
            "t_s": [round(t, 6) for t in self.times],
            "functions": {name: self.function_series(name) for name in self.members},
            **(
                {"capacity_providers": {name: {"instances": counts} for name, counts in self.instances.items()}}
                if self.providers
                else {}
            ),
        }
        if self.fleets:  # by the mapping's place in the scenario
            out["event_source_mappings"] = {str(i): {"pollers": peaks} for i, peaks in self.pollers.items()}
        return out
