"""One run of a scenario, step by step: what the CLI runs to the end and the TUI animates.

The incremental API (advance_to, step, snapshot, subscribe) lets a UI show a
run as it happens while the engine knows nothing about any UI.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

from lambdalab.engine.clock import EventLoop, Listener
from lambdalab.engine.concurrency import AccountConcurrency, Family
from lambdalab.engine.deployments import AliasState, Deployment
from lambdalab.engine.destinations import BusState, Destinations, QueueState, TopicState
from lambdalab.engine.durable import DurableEngine, DurableRuntime, DurableVersionRuntime
from lambdalab.engine.edge import CloudFrontFunctionTrigger, EdgeTrigger
from lambdalab.engine.environments import Environment, FunctionRuntime, VersionRuntime
from lambdalab.engine.extensions import ExtensionsAtWork
from lambdalab.engine.ids import request_id
from lambdalab.engine.invoke_async import AsyncEvent, AsyncInvoker
from lambdalab.engine.invoke_sync import SyncInvoker
from lambdalab.engine.invoke_tenant import TenantInvoker
from lambdalab.engine.keys import key_picker
from lambdalab.engine.managed_instances import ManagedRuntime, ProviderState
from lambdalab.engine.model import Scenario
from lambdalab.engine.networking import CallsAtWork
from lambdalab.engine.permissions import invoke_decision
from lambdalab.engine.pollers import ProvisionedSqsMapping
from lambdalab.engine.real_code import DEFAULT_CAP, RealCode, RealPool
from lambdalab.engine.recursion import ChainedAsyncInvoker, ChainedSqsMapping, Recursion
from lambdalab.engine.series import SeriesSampler
from lambdalab.engine.sources import SqsMapping
from lambdalab.engine.streams import StreamMapping, StreamState
from lambdalab.engine.tenant_ids import tenant_picker
from lambdalab.engine.tenants import Tenancy, TenantRuntime, TenantVersionRuntime
from lambdalab.engine.traffic import Generator
from lambdalab.engine.windows import WindowedStreamMapping
from lambdalab.iam import Decision

CHART_COLUMNS = 60  # the text report's charts, and the default sampling step (duration / 60)


@dataclass(frozen=True)
class EnvironmentView:
    id: int
    state: str  # init, busy or idle
    provisioned: bool
    request_id: str | None  # the request it is serving, if any
    since_s: float  # when it was created, or went idle
    invocations: int
    tenant: str | None = None  # the one tenant it serves, for a function in tenant isolation mode


@dataclass(frozen=True)
class WaitingEventView:
    request_id: str
    attempts: int  # attempts made so far
    reason: str  # "retry" after a function error, "throttle" after a 429
    next_try_s: float


@dataclass(frozen=True)
class FunctionView:
    name: str
    busy: int
    reserved: int | None
    provisioned: int
    environments: tuple[EnvironmentView, ...]
    waiting: tuple[WaitingEventView, ...]  # the next to be tried first (all of them unless a limit was asked for)
    waiting_count: int
    counters: dict[str, int]


@dataclass(frozen=True)
class StreamView:
    name: str
    kind: str  # kinesis or dynamodb
    written: int
    records: dict[str, int]  # where the records are: processed, in_flight, unread, ... (empty with no mapping)
    shards: tuple[dict[str, Any], ...]  # per shard: waiting, busy, attempts, behind_ms
    iterator_age_ms: int  # the highest IteratorAge so far


@dataclass(frozen=True)
class Snapshot:
    time_s: float
    finished: bool
    functions: dict[str, FunctionView]
    queues: dict[str, dict[str, int]]
    account: dict[str, int] = field(default_factory=dict)
    streams: dict[str, StreamView] = field(default_factory=dict)


class Simulation:
    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        series_step: float | None = None,
        until: float | None = None,
        real_environments: int = DEFAULT_CAP,
    ):
        """`until` stops the run early: the report then covers virtual time 0 to `until`.

        Functions with real `code:` run it in worker processes, at most `real_environments` at once;
        close() (or `with Simulation(...)`) stops them.
        """
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.end = scenario.duration if until is None else min(until, scenario.duration)
        loop = self.loop = EventLoop(self.seed)
        claimed = sum(f.claimed_concurrency for f in scenario.functions.values())
        self.account = AccountConcurrency(scenario.account.concurrency, claimed)
        self.functions: dict[str, FunctionRuntime] = {}  # each function's $LATEST, by name
        self.runtimes: dict[str, FunctionRuntime] = {}  # every version of every function, by "name" or "name:version"
        self.providers = {name: ProviderState(cp, loop) for name, cp in scenario.capacity_providers.items()}
        durable = self.durable = DurableEngine(loop, self.account, scenario.account, self.seed, scenario.functions)
        for name, fn in scenario.functions.items():
            members: list[FunctionRuntime]
            if fn.managed_instances is not None:
                managed = ManagedRuntime(fn, loop, self.account, self.providers[fn.managed_instances.capacity_provider])
                managed.counts_toward_account = scenario.account.count_managed_instances
                members = [managed]
            elif fn.versions and fn.tenant_isolation:
                family, tenancy = Family(), Tenancy(fn, self.account)
                members = [
                    TenantVersionRuntime(f, loop, self.account, family, tenancy) for f in (fn, *fn.versions.values())
                ]
            elif fn.versions:
                family = Family()
                members = [
                    VersionRuntime(f, loop, self.account, family)
                    if fn.durable is None
                    else DurableVersionRuntime(f, loop, self.account, family, durable)
                    for f in (fn, *fn.versions.values())
                ]
            elif fn.tenant_isolation:
                members = [TenantRuntime(fn, loop, self.account, Tenancy(fn, self.account))]
            elif fn.durable is not None:
                members = [DurableRuntime(fn, loop, self.account, durable)]
            else:
                members = [FunctionRuntime(fn, loop, self.account)]
            self.functions[name] = members[0]
            self.runtimes.update((m.name, m) for m in members)
        self.real_pool = RealPool(real_environments)
        for runtime in self.runtimes.values():
            if runtime.config.code is not None:
                runtime.real = RealCode(
                    runtime.config, self.real_pool, self.seed, scenario.account.region, scenario.account.account_id
                )
        self.queues = {name: QueueState(q) for name, q in scenario.queues.items()}
        self.topics = {name: TopicState(t) for name, t in scenario.topics.items()}
        self.buses = {name: BusState(b) for name, b in scenario.buses.items()}
        self.destinations = Destinations(
            self.queues, self.topics, self.buses, scenario.account.region, scenario.account.account_id
        )
        self.sync = SyncInvoker(loop, self.account)
        async_args = (
            loop,
            self.account,
            self.destinations,
            self.seed,
            scenario.account.region,
            scenario.account.account_id,
        )
        # Request chains are followed only when some function's code sends (recursion.py) or destinations carry
        # them: the chain-aware invokers are chosen here, so that other scenarios pay nothing for them.
        self.recursion = (
            Recursion(
                loop,
                self.destinations,
                self.functions,
                self._invoke_sync_from,
                scenario.account.recursion_via_destinations,
            )
            if scenario.follows_chains
            else None
        )
        if self.recursion is None:
            self.async_ = AsyncInvoker(*async_args)
        else:
            self.async_ = ChainedAsyncInvoker(self.recursion, *async_args)
            for queue in self.queues.values():
                queue.new_message = self.recursion.message
            for runtime in self.runtimes.values():
                if runtime.config.behaviour.sends:
                    self.recursion.install(runtime, self.async_.may_send)
        for runtime in self.runtimes.values():  # last: their post-invoke work follows whatever else ends an invocation
            if runtime.config.behaviour.calls:
                runtime.calls = CallsAtWork(runtime)
            if runtime.config.extensions:
                runtime.extensions = ExtensionsAtWork(runtime, runtime.config.extensions)
        self.tenant_invoker = TenantInvoker(loop, self.account, self.async_)
        self.destinations.invoke_function = self._invoke_from
        # (function, principal, source ARN, source account) -> IAM decision
        self._decisions: dict[tuple[str, str, str, str], Decision | None] = {}
        region, account_id = scenario.account.region, scenario.account.account_id
        self.streams = {name: StreamState(st, region, account_id) for name, st in scenario.streams.items()}
        self.mappings = [self._mapping(m) for m in scenario.event_source_mappings if m.enabled]
        for stream in self.streams.values():
            stream.write_backlog(key_picker(None))
        self.sampler = SeriesSampler(
            series_step or self.end / CHART_COLUMNS, list(self.runtimes.values()), self.providers, self.durable.states
        )
        self.sampler.fleets = [m for m in self.mappings if isinstance(m, ProvisionedSqsMapping)]
        self.series_requested = series_step is not None
        for runtime in self.runtimes.values():
            if isinstance(runtime, ManagedRuntime):
                runtime.publish()
            else:
                runtime.provision(runtime.config.provisioned_concurrency)
        for provider in self.providers.values():
            provider.published()
        self._rand = loop.rng.random
        self.aliases: dict[tuple[str, str], AliasState] = {}
        for name, fn in scenario.functions.items():
            for alias in fn.aliases.values():
                ((other, weight),) = alias.routing or ((None, 0.0),)
                self.aliases[(name, alias.name)] = AliasState(
                    self._version(name, alias.version), self._version(name, other) if other else None, weight
                )
        self.deployments = [
            Deployment(
                self.aliases[(d.function, d.alias)],
                self._version(d.function, d.to),
                d.config,
                d.start,
                d.errors_over,
                loop,
            )
            for d in scenario.deployments
        ]
        for deployment in self.deployments:
            deployment.schedule()
        self.edge = {
            trigger: CloudFrontFunctionTrigger(trigger, a.function)
            if a.cloudfront_function
            else EdgeTrigger(trigger, self._version(a.function, a.version), loop, self.account)
            for trigger, a in scenario.edge.items()
        }
        self.generators = [Generator(t, loop, self._sender(t)) for t in scenario.traffic]
        for generator in self.generators:
            generator.start()
        self._closed = False  # whether the last series step has been sampled
        if self.sampler.step < self.end:
            loop.at(self.sampler.step, self._sample)

    def _mapping(self, m: Any) -> SqsMapping | StreamMapping:
        region, account_id = self.scenario.account.region, self.scenario.account.account_id
        fn = self.functions[m.function]
        if m.kind == "queue":
            queue = self.queues[m.source]
            args = (m, queue, self.queues.get(queue.config.dead_letter or ""), fn, self.loop, self.account, region)
            if self.recursion is not None:  # (the builder refuses provisioned pollers beside code that sends)
                return ChainedSqsMapping(self.recursion, *args, account_id)
            kind = SqsMapping if m.provisioned_pollers is None else ProvisionedSqsMapping
            return kind(*args, account_id)
        return (WindowedStreamMapping if m.tumbling_window else StreamMapping)(
            m,
            self.streams[m.source],
            fn,
            self.loop,
            self.account,
            self.destinations,
            self.async_.may_send,
            self.seed,
            region,
            account_id,
        )

    def _sender(self, traffic: Any) -> Callable[[Any], object]:
        kind, _, name = traffic.target.partition(":")
        if kind == "queue":
            queue = self.queues[name]
            if traffic.key is not None:  # a FIFO queue: each message has a group
                group = key_picker(traffic.key)
                return lambda body: queue.send(self.loop.now, body, group=group(body))
            return lambda body: queue.send(self.loop.now, body)
        if kind == "edge":
            return self.edge[name].request
        if kind == "stream":
            stream, partition_key = self.streams[name], key_picker(traffic.key)
            return lambda body: stream.put(self.loop.now, body, partition_key(body))
        if kind in ("topic", "bus"):
            return lambda body: self.destinations.publish(traffic.target, self.loop.now, body)
        if kind == "callback":
            return self.durable.completer(traffic)
        fn = self.functions[traffic.target]
        decision = self._decision(fn, traffic.principal, traffic.source_arn, traffic.source_account)
        if decision is not None and not decision.allowed:
            return partial(self._deny, fn, traffic.principal, traffic.invocation, decision)
        invoke: Callable[..., Any] = self.async_.receive if traffic.invocation == "async" else self.sync.request
        if traffic.tenant is not None:  # the builder gives one exactly to traffic to an isolated function
            how = self.tenant_invoker.receive if traffic.invocation == "async" else self.tenant_invoker.request
            invoke = partial(how, tenant_picker(traffic.tenant))
        if fn.config.durable is not None:  # each request starts (or names) a durable execution
            invoke = self.durable.starter(traffic)
        config = fn.config
        if traffic.qualifier in config.aliases:
            return partial(self._routed, invoke, self.aliases[(config.name, traffic.qualifier)])
        return partial(invoke, self._version(config.name, traffic.qualifier))

    def _version(self, function: str, version: str) -> FunctionRuntime:
        return self.runtimes[function if version in ("", "$LATEST") else f"{function}:{version}"]

    def _routed(self, invoke: Callable[[FunctionRuntime, Any], object], alias: AliasState, event: Any) -> None:
        """Through an alias: with weighted routing each request goes to the other version with the alias's
        probability (a simple per-request draw, as AWS does:
        https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html)."""
        invoke(alias.pick(self._rand), event)

    def _decision(self, fn: FunctionRuntime, principal: str, source_arn: str, source_account: str) -> Decision | None:
        """Whether the function's resource-based policy lets this caller invoke it: decided once per caller."""
        key = (fn.name, principal, source_arn, source_account)
        if key not in self._decisions:
            account = self.scenario.account
            self._decisions[key] = invoke_decision(
                fn.config, principal, source_arn, source_account, account.region, account.account_id
            )
        return self._decisions[key]

    def _invoke_from(self, name: str, event: Any, principal: str, source_arn: str) -> None:
        """An asynchronous invoke by a destination, or by a topic or bus of this account (its SourceAccount)."""
        fn = self.functions[name]
        decision = self._decision(fn, principal, source_arn, self.scenario.account.account_id if principal else "")
        if decision is not None and not decision.allowed:
            self._deny(fn, principal, "async", decision, event)
        else:
            self.async_.receive(fn, event)

    def _invoke_sync_from(self, name: str, event: Any) -> Environment | None:
        """A synchronous invoke by a function's code (recursion.py): a caller of this account."""
        fn = self.functions[name]
        decision = self._decision(fn, "", "", "")
        if decision is not None and not decision.allowed:
            self._deny(fn, "", "sync", decision, event)
            return None
        return self.sync.request(fn, event)

    def _deny(self, fn: FunctionRuntime, principal: str, invocation: str, decision: Decision, _event: Any) -> None:
        """A caller the resource-based policy does not allow: refused before Lambda runs (or queues) anything."""
        number = self.loop.next_id()  # a refused request still has its number, traced or not
        fn.outcomes.requests += 1
        fn.outcomes.denied += 1
        if self.loop.listeners:
            self.loop.emit(
                "denied",
                {
                    "function": fn.name,
                    "request_id": number,
                    "principal": principal,
                    "invocation": invocation,
                    "status": 403,
                    "error": "AccessDeniedException",
                    "reason": decision.explanation,
                },
            )

    def _sample(self, _: Any) -> None:
        """Close a step. Steps are [start, end): what happens at a boundary counts in the next step."""
        now = self.loop.now
        self.sampler.sample(now)
        if now + self.sampler.step < self.end:
            self.loop.at(now + self.sampler.step, self._sample)

    def _close_if_finished(self) -> None:
        """The last step also takes what happens at exactly the end, so series add up to the totals."""
        if not self._closed and self.finished:
            self._closed = True
            self.sampler.sample(self.end)

    # --- the incremental API ------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.loop.now

    @property
    def finished(self) -> bool:
        nxt = self.loop.next_time()
        return self.loop.now >= self.end and (nxt is None or nxt > self.end)

    def advance_to(self, time: float) -> int:
        """Run everything due up to `time` (never past the scenario's duration); returns events run."""
        count = self.loop.run_until(min(time, self.end))
        self._close_if_finished()
        return count

    def step(self, events: int = 1) -> int:
        """Run the next `events` engine events, for single-stepping a demo."""
        count = self.loop.run_until(self.end, max_events=events)
        self._close_if_finished()
        return count

    def run(self) -> Simulation:
        self.advance_to(self.end)
        return self

    def close(self) -> None:
        """Stop every worker process running real code (a run without real code has none)."""
        self.real_pool.close()

    def __enter__(self) -> Simulation:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(time, kind, data)` for every engine event from now on; returns an unsubscribe function."""
        self.loop.listeners.append(listener)
        return lambda: self.loop.listeners.remove(listener)

    def request_id(self, number: int) -> str:
        return request_id(self.seed, number)

    def snapshot(self, environments: bool = True, waiting_limit: int | None = None) -> Snapshot:
        """The state of every function and queue now: cheap enough to read ten times a second.

        A UI that draws environments its own way can leave them out, and one that shows only the
        next few waiting events can ask for those alone: with thousands of either, that is most of the cost.
        """
        functions = {}
        for name, fn in self.runtimes.items():
            envs = (
                tuple(
                    EnvironmentView(
                        env.id,
                        env.state,
                        env.provisioned,
                        self.request_id(env.request) if env.state != "idle" else None,
                        env.idle_since if env.state == "idle" else env.started_at,
                        env.invocations,
                        getattr(env, "tenant", None),
                    )
                    for env in fn.environments.values()
                )
                if environments
                else ()
            )
            queued = cast("Collection[AsyncEvent]", fn.async_state.waiting.values())  # the async invoker's events
            next_events = (
                sorted(queued, key=_next_try)
                if waiting_limit is None
                else heapq.nsmallest(waiting_limit, queued, key=_next_try)
            )
            waiting = tuple(
                WaitingEventView(self.request_id(e.number), e.attempts, e.waiting_for, e.next_try) for e in next_events
            )
            functions[name] = FunctionView(
                name=name,
                busy=fn.busy,
                reserved=fn.reserved,
                provisioned=fn.config.provisioned_concurrency,
                environments=envs,
                waiting=waiting,
                waiting_count=len(fn.async_state.waiting),
                counters={
                    "invocations": fn.metrics.invocations,
                    "errors": fn.metrics.errors,
                    "throttles": fn.metrics.throttles,
                    "denied": fn.outcomes.denied,
                    "cold_starts": fn.metrics.cold_starts,
                    "retried": fn.async_state.retried,
                    "dropped": fn.async_state.dropped,
                    "succeeded": fn.outcomes.succeeded,
                    "to_dlq": fn.async_state.to_dlq,
                    "to_on_failure": fn.async_state.to_on_failure,
                    "to_on_success": fn.async_state.to_on_success,
                },
            )
        queues = {
            name: {"visible": q.visible, "sent": q.sent, "in_flight": q.not_visible, "deleted": q.deleted}
            for name, q in self.queues.items()
        }
        now = self.loop.now
        streams = {}
        for name, stream in self.streams.items():
            mapping = stream.consumer
            age_ms = mapping.fn.metrics.iterator_age_ms if mapping else 0
            assert age_ms is not None  # a stream mapping sets its function's IteratorAge to 0 when it is made
            streams[name] = StreamView(
                name,
                stream.kind,
                stream.written,
                mapping.figures(now) if mapping else {},
                tuple(mapping.shard_views(now)) if mapping else (),
                round(age_ms),
            )
        account = {
            "busy": self.account.busy,
            "limit": self.account.limit,
            "unreserved_busy": self.account.unreserved_busy,
            "unreserved_capacity": self.account.unreserved_capacity,
        }
        return Snapshot(self.loop.now, self.finished, functions, queues, account, streams)


def _next_try(event: Any) -> tuple[float, int]:
    return event.next_try, event.number
