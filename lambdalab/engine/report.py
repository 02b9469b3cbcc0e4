"""The report: a run's metrics in CloudWatch's names, as the JSON object the scenario contract fixes.

Integers stay integers, times are milliseconds unless a key ends in `_s`, and
keys come out in a fixed order, so that the same scenario and seed give the same
bytes (shared/spec/scenarios.md, "The report").
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable
from itertools import islice
from typing import Any

from lambdalab.engine.durable_history import DurableState
from lambdalab.engine.edge import CloudFrontFunctionTrigger, EdgeTrigger
from lambdalab.engine.environments import FunctionRuntime
from lambdalab.engine.extensions import ExtensionsAtWork
from lambdalab.engine.managed_instances import ManagedRuntime, ProviderState
from lambdalab.engine.metrics import Gauge, Histogram
from lambdalab.engine.networking import CallsAtWork
from lambdalab.engine.pollers import ProvisionedSqsMapping
from lambdalab.engine.pricing import durable_cost, free_tier, function_cost, pollers_cost
from lambdalab.engine.simulation import Simulation
from lambdalab.engine.streams import StreamMapping
from lambdalab.engine.tenants import Tenancy, TenantRuntime
from lambdalab.engine.windows import window_figures
from lambdalab.limits import CLOUDFRONT_FUNCTION_PRICE_USD, LMI_MANAGEMENT_FEE

BY_TENANT_SHOWN = 100  # the report's by_tenant: the first tenants seen (shared/spec/scenarios.md)
OPERATORS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def build_report(sim: Simulation) -> dict[str, Any]:
    run_s = sim.now
    functions = {name: _function_and_versions(sim, name, run_s) for name in sim.functions}
    if sim.recursion is not None:
        for name, figures in functions.items():
            _add_recursion(figures, [r for r in sim.runtimes.values() if r.config.name == name])
    for name, state in sim.durable.states.items():
        _add_durable(functions[name], state, run_s)
    queues = {name: _queue(q, run_s) for name, q in sim.queues.items()}
    providers = {name: _capacity_provider(state, sim.runtimes.values(), run_s) for name, state in sim.providers.items()}
    # The free tier is for on-demand requests and GB-seconds: not provisioned concurrency (PRICE), and not Managed
    # Instances, which bill neither (lambdalab's reading: the pricing page gives LMI no free tier).
    configs = {name: runtime.config for name, runtime in sim.functions.items()}
    on_demand = [
        f
        for name, f in functions.items()
        if not configs[name].provisioned_concurrency and configs[name].managed_instances is None
    ]
    mappings = _mappings(sim, run_s) if _shows_mappings(sim) else None
    pollers_usd = sum(_pollers_usd(m, run_s) for m in sim.mappings if isinstance(m, ProvisionedSqsMapping))
    report: dict[str, Any] = {
        "scenario": sim.scenario.name,
        "seed": sim.seed,
        "virtual_time_s": round(run_s, 6),
        "functions": functions,
        "queues": queues,
        "topics": {name: {"NumberOfMessagesPublished": t.published} for name, t in sim.topics.items()},
        "buses": {name: {"events_received": b.received} for name, b in sim.buses.items()},
        "streams": {name: _stream(stream, run_s) for name, stream in sim.streams.items()},
        **({"event_source_mappings": mappings} if mappings is not None else {}),
        "account": {
            "ConcurrentExecutions": sim.account.max_busy,
            "UnreservedConcurrentExecutions": sim.account.max_unreserved_busy,
            "concurrency_limit": sim.account.limit,
            "unreserved_capacity": sim.account.unreserved_capacity,
            "CostUSD": _usd(
                sum(f["metrics"]["CostUSD"] for f in functions.values())
                + sum(p["CostUSD"] for p in providers.values())
                + pollers_usd
            ),
            "free_tier": free_tier(
                sum(f["metrics"]["Invocations"] for f in on_demand), sum(f["metrics"]["GBSeconds"] for f in on_demand)
            ),
        },
        "engine": {"events": sim.loop.events_run},
    }
    if providers:
        report["capacity_providers"] = providers
    if sim.edge:
        report["edge"] = {trigger: _edge(t) for trigger, t in sim.edge.items()}
    if sim.deployments:
        report["deployments"] = [
            {
                "function": plan.function,
                "alias": plan.alias,
                "to": plan.to,
                "config": plan.config,
                "status": deployment.status,
                "steps": deployment.history,
            }
            for plan, deployment in zip(sim.scenario.deployments, sim.deployments)
        ]
    if sim.recursion is not None:
        report["recursion"] = {
            "loops_stopped": sim.recursion.loops_stopped,
            "invocations_dropped": sim.recursion.invocations_dropped,
        }
    report["expectations"] = [_expectation(e, report) for e in sim.scenario.expect]
    if sim.series_requested:
        report["series"] = sim.sampler.to_dict()
    return report


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False)


def _function_and_versions(sim: Simulation, name: str, run_s: float) -> dict[str, Any]:
    """A function's figures; for one with published versions, all of them together, with `by_version`
    (CloudWatch's ExecutedVersion dimension)."""
    members = [r for r in sim.runtimes.values() if r.config.name == name]
    if len(members) == 1:
        runtime = members[0]
        return _managed_function(runtime, run_s) if isinstance(runtime, ManagedRuntime) else _function(runtime, run_s)
    parts = [_function(m, run_s) for m in members]
    merged: dict[str, Any] = _sum([{k: v for k, v in p.items() if k not in ("by_version", "calls")} for p in parts])
    metrics = merged["metrics"]
    family = members[0].family
    assert family is not None  # several runtimes: the function's versions (VersionRuntime), which share one
    metrics["ConcurrentExecutions"] = family.max_busy
    metrics["Duration"] = Histogram.merged([m.metrics.durations for m in members]).summary()
    metrics["InitDuration"] = Histogram.merged([m.metrics.init_durations for m in members]).summary()
    metrics["AsyncEventAge"] = max(p["metrics"]["AsyncEventAge"] for p in parts)
    metrics["CostUSD"] = _usd(metrics["CostUSD"])
    merged["cost"].update(architecture=members[0].config.architecture, memory_mb=members[0].config.memory)
    if isinstance(members[0], TenantRuntime):  # shared by the versions: not to be added up
        merged["tenants"] = _tenants(members[0].tenancy)
    if any(m.extensions for m in members):
        _extensions(merged, members)
    calls: dict[str, dict[str, Any]] = {}
    for member in members:  # each version's calls, added up by target
        for to, figures in (member.calls.figures() if isinstance(member.calls, CallsAtWork) else {}).items():
            mine = calls.setdefault(to, {"made": 0, "blocked": 0, "route": figures["route"]})
            mine.update(made=mine["made"] + figures["made"], blocked=mine["blocked"] + figures["blocked"])
    if calls:
        merged["calls"] = calls
    merged["by_version"] = {
        m.version: {"Invocations": m.metrics.invocations, "Errors": m.metrics.errors} for m in members
    }
    return merged


def _sum(parts: list[Any]) -> Any:
    """Numbers added up, key by key; anything else taken from the first part."""
    first = parts[0]
    if isinstance(first, dict):
        return {key: _sum([p[key] for p in parts]) for key in first}
    if (
        isinstance(first, (int, float))
        and not isinstance(first, bool)
        and all(isinstance(p, (int, float)) for p in parts)
    ):
        total = sum(parts)
        return round(total, 6) if isinstance(total, float) else total
    return first


def _function(fn: FunctionRuntime, run_s: float) -> dict[str, Any]:
    metrics, outcomes, async_state = fn.metrics, fn.outcomes, fn.async_state
    cost = function_cost(fn.config, metrics, run_s)
    alive = fn.environments.values()
    alive_s = metrics.alive_seconds + sum(run_s - env.created_at for env in alive)
    busy_s = metrics.busy_seconds + sum(run_s - env.started_at for env in alive if env.state != "idle")
    in_flight = outcomes.sync_in_flight + async_state.alive
    report: dict[str, Any] = {
        "metrics": {
            "Invocations": metrics.invocations,
            "Errors": metrics.errors,
            "Throttles": metrics.throttles,
            "Duration": metrics.durations.summary(),
            "ConcurrentExecutions": metrics.max_busy,
            "ProvisionedConcurrencyInvocations": metrics.provisioned_invocations,
            "ProvisionedConcurrencySpilloverInvocations": metrics.spillover_invocations,
            "AsyncEventsReceived": async_state.received,
            "AsyncEventAge": round(async_state.max_age_ms, 3),
            "AsyncEventsDropped": async_state.dropped,
            "DeadLetterErrors": async_state.dead_letter_errors,
            "DestinationDeliveryFailures": async_state.destination_failures,
            "IteratorAge": None if (age := metrics.iterator_age_ms) is None else round(age, 3),  # streams only
            "ColdStarts": metrics.cold_starts,
            "InitDuration": metrics.init_durations.summary(),
            "BilledDurationMs": metrics.billed_ms + metrics.billed_ms_provisioned,
            "GBSeconds": round(cost.gb_seconds, 6),
            "CostUSD": _usd(cost.total_usd),
        },
        "cost": {
            "requests_usd": _usd(cost.requests_usd),
            "duration_usd": _usd(cost.duration_usd),
            "provisioned_usd": _usd(cost.provisioned_usd),
            "architecture": fn.config.architecture,
            "memory_mb": fn.config.memory,
        },
        "environments": {
            "created": metrics.environments_created,
            "max": metrics.max_environments,
            "time_average": round(alive_s / run_s, 4) if run_s else 0.0,
            "busy_time_average": round(busy_s / run_s, 4) if run_s else 0.0,
        },
        "outcomes": {
            "requests": outcomes.requests,
            "succeeded": outcomes.succeeded,
            "failed": outcomes.failed,
            "throttled": outcomes.throttled,
            "denied": outcomes.denied,
            "dropped": async_state.dropped,
            "in_flight": in_flight,
            "timed_out": metrics.timeouts,
            "retried": async_state.retried,
            "to_dlq": async_state.to_dlq,
            "to_on_failure": async_state.to_on_failure,
            "to_on_success": async_state.to_on_success,
        },
        "by_version": {fn.version: {"Invocations": metrics.invocations, "Errors": metrics.errors}},
    }
    if isinstance(fn, TenantRuntime):
        report["cost"]["tenant_environments_usd"] = _usd(cost.tenant_environments_usd)
        report["tenants"] = _tenants(fn.tenancy)
        report["by_version"] = report.pop("by_version")  # last, as for every function
    if fn.extensions is not None:
        _extensions(report, [fn])
    if isinstance(fn.calls, CallsAtWork):
        report["calls"] = fn.calls.figures()
    return report


def _extensions(report: dict[str, Any], members: list[FunctionRuntime]) -> None:
    """A function with extensions (its versions together): PostRuntimeExtensionsDuration, and the environments
    that ran Shutdown with how long it took them (engine/extensions.py)."""
    posts, shutdowns = [], Histogram()
    shut_down = 0
    for member in members:
        extensions = member.extensions
        if not isinstance(extensions, ExtensionsAtWork):
            continue
        posts.append(extensions.post_durations)
        count = extensions.shut_down(member.metrics.environments_created, len(member.environments))
        shut_down += count
        for _ in range(count):
            shutdowns.add(extensions.shutdown_s * 1000.0)
    report["metrics"]["PostRuntimeExtensionsDuration"] = Histogram.merged(posts).summary()
    summary = shutdowns.summary()
    report["environments"]["shut_down"] = shut_down
    report["environments"]["shutdown_duration"] = {"p50": summary["p50"], "max": summary["max"]}


def _tenants(tenancy: Tenancy) -> dict[str, Any]:
    """A function in tenant isolation mode (all its versions): its tenants, their environments, and the first
    100 tenants' figures."""
    return {
        "seen": len(tenancy.tenants),
        "environments_created": tenancy.created,
        "max_live_environments": tenancy.max_live,
        "live_environments_limit": tenancy.cap,
        "rejected": tenancy.rejected,
        "by_tenant": {
            tenant: {"requests": c.requests, "invocations": c.invocations, "cold_starts": c.cold_starts}
            for tenant, c in islice(tenancy.tenants.items(), BY_TENANT_SHOWN)
        },
    }


def _managed_function(fn: ManagedRuntime, run_s: float) -> dict[str, Any]:
    """A Managed Instances function: the usual figures (no cold starts, no duration billed), its throttles by
    reason, and its environments' slots and CPU (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-monitoring.html)."""
    figures = _function(fn, run_s)
    figures["metrics"].update(fn.throttle_reasons)
    environments = fn.ees_gauge
    figures["environments"]["time_average"] = round(environments.average(run_s), 4)
    managed = fn.managed
    figures["managed_instances"] = {
        "capacity_provider": managed.capacity_provider,
        "vcpus_per_environment": managed.vcpus,
        "environments": _gauge(environments, run_s),
        "slots": {
            "per_environment": managed.slots,
            "max": round(environments.high) * managed.slots,
            "max_in_use": fn.max_slots_in_use,
        },
        "cpu": {"average": round(fn.cpu_average(run_s), 2), "max": round(fn.max_cpu, 2)},
    }
    return figures


def _capacity_provider(state: ProviderState, runtimes: Iterable[FunctionRuntime], run_s: float) -> dict[str, Any]:
    """A capacity provider's instances and their bill: instance time at the on-demand price, plus Lambda's
    management fee of 15 % of it (https://aws.amazon.com/lambda/pricing/)."""
    hours = state.instance_hours(run_s)
    ec2 = hours * state.config.instance.hourly_usd
    fee = ec2 * LMI_MANAGEMENT_FEE
    return {
        "functions": [r.name for r in runtimes if isinstance(r, ManagedRuntime) and r.provider is state],
        "instance_type": state.config.instance.type,
        "instances": _gauge(state.count, run_s),
        "instance_hours": round(hours, 6),
        "vcpus_allocated_max": round(state.vcpus_allocated_max, 3),
        "CPUUtilization": {"average": round(state.cpu_average(run_s), 2), "max": round(state.cpu_max, 2)},
        "cost": {"ec2_usd": _usd(ec2), "management_fee_usd": _usd(fee)},
        "CostUSD": _usd(ec2 + fee),
    }


def _gauge(gauge: Gauge, run_s: float) -> dict[str, Any]:
    return {
        "start": round(gauge.start),
        "max": round(gauge.high),
        "end": round(gauge.value),
        "time_average": round(gauge.average(run_s), 4),
    }


def _add_recursion(figures: dict[str, Any], members: list[FunctionRuntime]) -> None:
    """RecursiveInvocationsDropped and the `rejected` outcome, in a scenario whose code sends (recursion.py).
    The metric is not emitted for a function that allows recursive loops
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html): null there."""
    allowed = members[0].config.recursive_loop == "Allow"
    dropped = sum(m.metrics.recursive_invocations_dropped for m in members)
    figures["metrics"]["RecursiveInvocationsDropped"] = None if allowed else dropped
    outcomes = figures["outcomes"]
    rejected = sum(m.outcomes.rejected for m in members)
    figures["outcomes"] = {
        **{k: v for k, v in outcomes.items() if k in _BEFORE_REJECTED},
        "rejected": rejected,
        **{k: v for k, v in outcomes.items() if k not in _BEFORE_REJECTED},
    }


_BEFORE_REJECTED = ("requests", "succeeded", "failed", "throttled", "denied")


def _add_durable(figures: dict[str, Any], state: DurableState, run_s: float) -> None:
    """A durable function's executions (shared/spec/scenarios.md, "Durable functions"): `durable`, its
    starts in `outcomes`, and its durable charges in CostUSD."""
    retention = state.config.retention
    # Open executions: their data is counted as kept until the run's end plus the retention period.
    retained = state.retained_byte_s + sum(
        e.data_bytes * (run_s - e.start_s + retention) for e in state.names.values() if e.end_s is None
    )
    cost = durable_cost(state.billed, state.data_written, retained)
    figures["outcomes"].update(deduplicated=state.deduplicated, rejected=state.rejected)
    figures["metrics"]["CostUSD"] = _usd(figures["metrics"]["CostUSD"] + cost.total_usd)
    figures["durable"] = {
        "executions": {
            "started": state.started,
            "running": state.running,
            "suspended": state.suspended,
            "succeeded": state.succeeded,
            "failed": state.failed,
            "timed_out": state.timed_out,
        },
        "starts": {
            "new": state.started,
            "deduplicated": state.deduplicated,
            "rejected": state.rejected,
            "throttled": state.throttled,
            "sync_callers_timed_out": state.sync_timed_out,
        },
        "invocations": state.invocations,
        "replays": state.replays,
        "operations": {
            "billed": state.billed,
            "by_type": dict(state.by_type),
            "step_attempts": state.step_attempts,
            "retries": state.retries,
        },
        "callbacks": dict(state.callbacks),
        "data_written_bytes": state.data_written,
        "cost": {
            "operations_usd": _usd(cost.operations_usd),
            "data_written_usd": _usd(cost.data_written_usd),
            "data_retained_usd": _usd(cost.data_retained_usd),
        },
        "history": [e.history() for e in state.history],
    }


def _queue(queue: Any, run_s: float) -> dict[str, Any]:
    oldest = queue.oldest_visible_at()
    return {
        "NumberOfMessagesSent": queue.sent,
        "NumberOfMessagesReceived": queue.received,
        "NumberOfMessagesDeleted": queue.deleted,
        "ApproximateNumberOfMessagesVisible": queue.visible,
        "ApproximateNumberOfMessagesNotVisible": queue.not_visible,
        "ApproximateAgeOfOldestMessage": round((run_s - oldest) * 1000, 3) if oldest is not None else 0,
        "messages": list(queue.messages),
    }


def _stream(stream: Any, run_s: float) -> dict[str, Any]:
    """A stream's records: written (Kinesis's IncomingRecords), and where each one is at the end."""
    mapping = stream.consumer
    out = {
        "type": stream.kind,
        "shards": stream.config.shards,
        "IncomingRecords": stream.written,
        "IteratorAge": round(mapping.fn.metrics.iterator_age_ms, 3) if mapping else None,
        "records": mapping.figures(run_s) if mapping else {"unread": stream.written},
    }
    windows = window_figures(mapping) if mapping else None
    if windows is not None:  # a mapping with a tumbling window
        out["windows"] = windows
    return out


def _shows_mappings(sim: Simulation) -> bool:
    """Whether the report has the top-level event_source_mappings: for provisioned pollers, filters, several mappings
    on one source, or an expectation about a mapping (scenarios without them keep the report they always had)."""
    configs = sim.scenario.event_source_mappings
    sources = [(m.kind, m.source) for m in configs]
    return (
        any(m.provisioned_pollers is not None or m.filters for m in configs)
        or len(set(sources)) < len(sources)
        or any(e.mapping is not None for e in sim.scenario.expect)
    )


def _mappings(sim: Simulation, run_s: float) -> list[dict[str, Any]]:
    """Each mapping of the scenario, in its order (a disabled one read nothing): the events it polled and invoked
    (CloudWatch's PolledEventCount, FilteredOutEventCount, InvokedEventCount), provisioned pollers, its cost."""
    running = {m.config.index: m for m in sim.mappings}
    out = []
    for config in sim.scenario.event_source_mappings:
        mapping = running.get(config.index)
        entry: dict[str, Any] = {
            "source": f"{config.kind}:{config.source}",
            "function": config.function,
            "events": {
                "polled": mapping.polled if mapping else 0,
                "filtered": mapping.filtered if mapping else 0,
                "invoked": mapping.invoked if mapping else 0,
            },
        }
        if isinstance(mapping, StreamMapping):
            entry["records"] = mapping.figures(run_s)
            entry["IteratorAge"] = round(mapping.iterator_age_ms, 3)
        bounds = config.provisioned_pollers
        if bounds is not None:
            fleet = mapping if isinstance(mapping, ProvisionedSqsMapping) else None
            entry["pollers"] = {
                "minimum": bounds.minimum,
                "maximum": bounds.maximum,
                "max_active": fleet.max_active if fleet else 0,
                "poller_hours": round(fleet.poller_seconds(run_s) / 3600.0, 6) if fleet else 0.0,
            }
        entry["cost_usd"] = _usd(_pollers_usd(mapping, run_s))
        out.append(entry)
    return out


def _pollers_usd(mapping: Any, run_s: float) -> float:
    return pollers_cost(mapping.poller_seconds(run_s)) if isinstance(mapping, ProvisionedSqsMapping) else 0.0


def _edge(trigger: EdgeTrigger | CloudFrontFunctionTrigger) -> dict[str, Any]:
    """CloudFront's answers on one trigger; a CloudFront Function's cost is CloudFront's, per invocation."""
    answered = sum(trigger.statuses.values())
    if isinstance(trigger, CloudFrontFunctionTrigger):
        return {
            "function": trigger.name,
            "kind": "cloudfront-function",
            "answered": answered,
            "status": {"200": answered},
            "CostUSD": _usd(answered * CLOUDFRONT_FUNCTION_PRICE_USD),
        }
    return {
        "function": f"{trigger.fn.config.name}:{trigger.fn.version}",
        "kind": "lambda@edge",
        "answered": answered,
        "status": {str(code): count for code, count in trigger.statuses.items()},
    }


def lookup_figure(
    report: dict[str, Any],
    metric: str,
    function: str | None = None,
    queue: str | None = None,
    stream: str | None = None,
    version: str | None = None,
    mapping: int | None = None,
    capacity_provider: str | None = None,
) -> Any:
    """The value an expectation names: "Throttles", "Duration.p99", "dropped", "environments.max",
    "managed_instances.slots.max_in_use"."""
    if capacity_provider is not None:
        return _dotted(report["capacity_providers"][capacity_provider], metric)
    if version is not None:
        return report["functions"][function]["by_version"].get(version, {}).get(metric)
    if mapping is not None:
        head, _, part = metric.partition(".")
        value = report["event_source_mappings"][mapping].get(head)
        return value.get(part) if part and isinstance(value, dict) else value
    if queue is not None:
        return report["queues"][queue].get(metric)
    if stream is not None:
        figures = report["streams"][stream]
        head, _, part = metric.partition(".")
        if part:  # windows.closed, ...
            return figures.get(head, {}).get(part)
        return figures.get(metric, figures["records"].get(metric))
    if function is None:
        head, _, part = metric.partition(".")
        if head == "recursion":
            return report.get("recursion", {}).get(part)
        return report["account"].get(metric)
    fn = report["functions"][function]
    head, _, part = metric.partition(".")
    for section in ("metrics", "outcomes"):
        if head in fn[section]:
            value = fn[section][head]
            return value.get(part) if part else value
    if head in ("environments", "managed_instances", "tenants", "durable"):
        return _dotted(fn.get(head, {}), part)
    return None


def _dotted(figures: dict[str, Any], path: str) -> Any:
    """The figure at a dotted path ("slots.max_in_use"), or None."""
    value: Any = figures
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _expectation(expectation: Any, report: dict[str, Any]) -> dict[str, Any]:
    actual = lookup_figure(
        report,
        expectation.metric,
        expectation.function,
        expectation.queue,
        expectation.stream,
        expectation.version,
        expectation.mapping,
        expectation.capacity_provider,
    )
    passed = isinstance(actual, (int, float)) and OPERATORS[expectation.op](actual, expectation.value)
    out: dict[str, Any] = {"metric": expectation.metric}
    if expectation.function is not None:
        out["function"] = expectation.function
    if expectation.version is not None:
        out["version"] = expectation.version
    if expectation.queue is not None:
        out["queue"] = expectation.queue
    if expectation.stream is not None:
        out["stream"] = expectation.stream
    if expectation.mapping is not None:
        out["mapping"] = expectation.mapping
    if expectation.capacity_provider is not None:
        out["capacity_provider"] = expectation.capacity_provider
    out.update({"op": expectation.op, "value": expectation.value, "actual": actual, "passed": passed})
    if expectation.why:
        out["why"] = expectation.why
    return out


def _usd(value: float) -> float:
    return round(value, 8)
