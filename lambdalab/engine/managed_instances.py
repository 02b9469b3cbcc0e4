"""Lambda Managed Instances: functions on EC2 capacity that Lambda manages, where one execution environment
serves many requests at once and capacity grows on a scaler's schedule rather than on each request.

Facts (shared/reference/lambda-2026.md §1; sources in lambdalab/limits.py): a published version starts with
its environments initialised, so no request waits for an Init (no cold starts); a request goes to an
environment with a free slot, and with none it is throttled at once (429), counted in `Throttles` and in one
of ConcurrencyThrottles, CPUThrottles, MemoryThrottles, DiskThrottles
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-monitoring.html). The scaler
works in the background on utilisation; "if your traffic more than doubles within 5 minutes, you may see
throttles" (LMI_SCALE). A request past its timeout is reported failed, but "Lambda does not stop the code":
it keeps its slot until it ends (LMI_EE). Billing is instance time plus a 15 % fee plus requests, no GB-s.

lambdalab's model of what AWS leaves open (the contract's settings, UNCONFIRMED): each slot is a worker, an
`Environment` of environments.py that serves one request at a time (Python's model: one process per
request); the scaler decides every `scaling.interval` from the peak utilisation since its last decision (the
larger of slots in use / slots and CPU / vCPUs; a throttle counts as full), wants ceil(EEs x peak / target)
within [min, max], grows at most x2^(interval/5 min) a step (at least one) and shrinks as gradually; new
environments serve `scaling.delay` after the decision. A request uses `behaviour.cpu_bound` of a vCPU; when
an environment's requests want more vCPUs than it has, the CPU-bound share of a new request runs slower by
that ratio (fixed when it starts).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from heapq import heappush
from typing import TYPE_CHECKING, Any

from lambdalab import limits
from lambdalab.engine.concurrency import ACCOUNT_LIMIT
from lambdalab.engine.environments import BUSY, IDLE, Environment, FunctionRuntime
from lambdalab.engine.metrics import Gauge
from lambdalab.engine.model import CapacityProvider, Function

if TYPE_CHECKING:
    from lambdalab.engine.clock import EventLoop
    from lambdalab.engine.concurrency import AccountConcurrency

# The throttle metrics of a Managed Instances function, each beside `Throttles`.
CONCURRENCY_THROTTLES, CPU_THROTTLES, MEMORY_THROTTLES, DISK_THROTTLES = (
    "ConcurrencyThrottles",
    "CPUThrottles",
    "MemoryThrottles",
    "DiskThrottles",
)
THROTTLE_METRICS = (CONCURRENCY_THROTTLES, CPU_THROTTLES, MEMORY_THROTTLES, DISK_THROTTLES)


class ManagedEnvironment:
    """One execution environment on a capacity provider's instance: its slots (idle workers) and its load."""

    __slots__ = ("id", "instance", "vcpus", "memory_mb", "idle", "in_use", "cpu", "memory_in_use", "last_used")

    def __init__(self, env_id: int, instance: Instance, vcpus: float, memory_mb: int):
        self.id = env_id
        self.instance = instance
        self.vcpus = vcpus
        self.memory_mb = memory_mb
        self.idle: list[Environment] = []  # free slots, each a worker
        self.in_use = 0
        self.cpu = 0.0  # vCPUs its requests want
        self.memory_in_use = 0  # MB its requests use
        self.last_used = -1.0


class Instance:
    """One EC2 instance of a capacity provider, and the room its environments leave."""

    __slots__ = ("id", "launched_at", "vcpus_free", "memory_free", "environments")

    def __init__(self, instance_id: int, now: float, vcpus: float, memory_mb: int):
        self.id = instance_id
        self.launched_at = now
        self.vcpus_free = vcpus
        self.memory_free = memory_mb
        self.environments = 0


class ProviderState:
    """A capacity provider's instances over a run: where environments go, and the instance time billed."""

    def __init__(self, config: CapacityProvider, loop: EventLoop):
        self.config = config
        self.loop = loop
        self.instances: list[Instance] = []
        self.launched = 0
        self.billed_seconds = 0.0  # of instances already stopped
        self.count = Gauge(0.0)
        self.vcpus_allocated = 0.0
        self.vcpus_allocated_max = 0.0
        self.cpu_in_use = 0.0  # vCPUs its environments' requests use
        self.cpu_seconds = 0.0  # the integral of cpu_in_use, up to cpu_since
        self.cpu_since = 0.0
        self.cpu_max = 0.0  # percent of the instances' vCPUs
        for _ in range(limits.LMI_INSTANCES_MIN):  # one per Availability Zone, kept (LMI_SCALE)
            self._launch()

    def published(self) -> None:
        """Its functions' versions are published: the instances they hold are what the run starts with."""
        self.count = Gauge(len(self.instances))

    @property
    def max_instances(self) -> int:
        return self.config.max_vcpus // self.config.instance.vcpus

    def place(self, vcpus: float, memory_mb: int) -> Instance | None:
        """The instance a new environment goes on (launching one when none has room), or None at max_vcpus."""
        for instance in self.instances:
            if instance.vcpus_free >= vcpus and instance.memory_free >= memory_mb:
                break
        else:
            if len(self.instances) >= self.max_instances:
                return None
            instance = self._launch()
        instance.vcpus_free -= vcpus
        instance.memory_free -= memory_mb
        instance.environments += 1
        self.vcpus_allocated += vcpus
        self.vcpus_allocated_max = max(self.vcpus_allocated_max, self.vcpus_allocated)
        return instance

    def release(self, instance: Instance, vcpus: float, memory_mb: int) -> None:
        """An environment gone: an instance left empty stops, while more than the minimum run."""
        instance.vcpus_free += vcpus
        instance.memory_free += memory_mb
        instance.environments -= 1
        now = self.loop.now
        self.vcpus_allocated -= vcpus
        if instance.environments == 0 and len(self.instances) > limits.LMI_INSTANCES_MIN:
            self.instances.remove(instance)
            self.billed_seconds += _billed(now - instance.launched_at)
            self.count.set(len(self.instances), now)

    def use_cpu(self, delta: float, now: float) -> None:
        """Its requests use `delta` vCPUs more (or fewer): counted per second for CPUUtilization."""
        self.cpu_seconds += self.cpu_in_use * (now - self.cpu_since)
        self.cpu_since = now
        self.cpu_in_use += delta
        if delta > 0:
            percent = 100.0 * self.cpu_in_use / (len(self.instances) * self.config.instance.vcpus)
            if percent > self.cpu_max:
                self.cpu_max = percent

    def cpu_average(self, now: float) -> float:
        """CPUUtilization over the run: vCPU-seconds used over vCPU-seconds the instances had, in percent."""
        available = self.count.area(now) * self.config.instance.vcpus
        used = self.cpu_seconds + self.cpu_in_use * (now - self.cpu_since)
        return 100.0 * used / available if available else 0.0

    def _launch(self) -> Instance:
        spec, now = self.config.instance, self.loop.now
        self.launched += 1
        instance = Instance(
            self.launched,
            now,
            spec.vcpus - self.config.reserved_vcpus,
            spec.memory_mb - self.config.reserved_memory_mb,
        )
        self.instances.append(instance)
        self.count.set(len(self.instances), now)
        if self.loop.listeners:
            self.loop.emit("instance_start", {"capacity_provider": self.config.name, "instance": instance.id})
        return instance

    def instance_hours(self, now: float) -> float:
        running = sum(_billed(now - i.launched_at) for i in self.instances)
        return (self.billed_seconds + running) / 3600.0


def _billed(seconds: float) -> float:
    """EC2 bills per second with a minimum of 60 s for each launch (EC2_MINIMUM_BILLED_S)."""
    return max(seconds, limits.EC2_MINIMUM_BILLED_S)


class ManagedRuntime(FunctionRuntime):
    """A function version on a capacity provider: environments of many slots, routed to without cold starts,
    grown by the provider's scaler. Its own lifecycle, so on-demand functions pay nothing for it."""

    __slots__ = (
        "managed",
        "provider",
        "ees",
        "ee_of",
        "pending",
        "peak",
        "slots_in_use",
        "cpu_in_use",
        "counts_toward_account",
        "cpu_per_request",
        "memory_per_request",
        "ees_gauge",
        "load_since",
        "slot_seconds",
        "cpu_seconds",
        "max_slots_in_use",
        "max_cpu",
        "total_slots",
        "total_vcpus",
        "throttle_reasons",
        "ees_created",
        "_next_worker",
        "_on_release",
    )

    def __init__(self, fn: Function, loop: EventLoop, account: AccountConcurrency, provider: ProviderState):
        super().__init__(fn, loop, account)
        assert fn.managed_instances is not None  # built only for functions on a capacity provider
        self.managed = fn.managed_instances
        self.provider = provider
        self.ees: list[ManagedEnvironment] = []  # serving
        self.ee_of: dict[int, ManagedEnvironment] = {}  # by worker id
        self.pending = 0  # decided, not serving yet
        self.peak = 0.0  # the highest utilisation since the scaler's last decision
        self.slots_in_use = 0
        self.cpu_in_use = 0.0  # vCPUs busy, each environment's counted up to its size
        self.counts_toward_account = False  # set by the simulation from account.count_managed_instances
        self.cpu_per_request = fn.behaviour.cpu_bound
        self.memory_per_request = min(fn.behaviour.memory_used, fn.memory)
        self.ees_gauge = Gauge(0.0)
        # Levels over time, kept by hand on the hot path: their integrals up to load_since, and their highs.
        self.load_since = 0.0
        self.slot_seconds = 0.0
        self.cpu_seconds = 0.0
        self.max_slots_in_use = 0
        self.max_cpu = 0.0  # percent of the environments' vCPUs
        self.total_slots = 0  # of the environments serving
        self.total_vcpus = 0.0
        self.throttle_reasons = dict.fromkeys(THROTTLE_METRICS, 0)
        self.ees_created = 0
        self._next_worker = 0
        self._on_release = self._release
        self.router = self.route

    # --- environments -------------------------------------------------------------------------

    def publish(self) -> None:
        """Before traffic: the version's minimum environments, initialised (ACTIVE), and the scaler's clock."""
        for _ in range(self.managed.min_environments):
            self._add_environment(scaled=False)
        self.ees_gauge = Gauge(len(self.ees))  # what the run starts with
        provider = self.provider.config
        self.loop.at(provider.scaling_interval, self._scale)

    def _add_environment(self, scaled: bool) -> None:
        now = self.loop.now
        if scaled:  # a scale-out decided `delay` ago
            self.pending -= 1
        managed = self.managed
        instance = self.provider.place(managed.vcpus, self.config.memory)
        if instance is None:
            return  # the provider is at max_vcpus: the scaler cannot grow it
        self.ees_created += 1
        ee = ManagedEnvironment(self.ees_created, instance, managed.vcpus, self.config.memory)
        for _slot in range(managed.slots):
            self._next_worker += 1
            worker = Environment(self._next_worker, self, now, provisioned=True)  # initialised: never cold
            ee.idle.append(worker)
            self.ee_of[worker.id] = ee
        self.ees.append(ee)
        self._count_environments(now)
        if self.loop.listeners:
            self.loop.emit(
                "env_start",
                {"function": self.name, "env": ee.id, "provisioned": True, "slots": managed.slots},
            )

    def _remove_environment(self, ee: ManagedEnvironment) -> None:
        now = self.loop.now
        self.ees.remove(ee)
        for worker in ee.idle:
            del self.ee_of[worker.id]
        self.provider.release(ee.instance, ee.vcpus, ee.memory_mb)
        self._count_environments(now)
        if self.loop.listeners:
            self.loop.emit("env_shutdown", {"function": self.name, "env": ee.id, "reason": "SCALE_IN"})

    def _count_environments(self, now: float) -> None:
        count = len(self.ees)
        self.ees_gauge.set(count, now)
        self.total_slots = count * self.managed.slots
        self.total_vcpus = count * self.managed.vcpus
        metrics = self.metrics
        metrics.environments_created = self.ees_created
        if count > metrics.max_environments:
            metrics.max_environments = count

    def provision(self, count: int) -> None:
        """Managed Instances have no provisioned concurrency (the builder refuses it): nothing to do."""

    # --- routing ------------------------------------------------------------------------------

    def route(self, now: float) -> Environment | str:
        """A free slot on the most recently used environment that can take one more request, or the reason
        for a 429: every slot busy, else CPU, else memory (a model never fills a disk)."""
        if self.counts_toward_account:
            account = self.account
            if account.unreserved_busy >= account.unreserved_capacity:
                return ACCOUNT_LIMIT
        best: ManagedEnvironment | None = None
        reason = CONCURRENCY_THROTTLES
        cpu, memory = self.cpu_per_request, self.memory_per_request
        for ee in self.ees:
            if not ee.idle:
                continue
            if cpu and ee.cpu >= ee.vcpus:
                reason = CPU_THROTTLES
                continue
            if ee.memory_in_use + memory > ee.memory_mb:
                if reason == CONCURRENCY_THROTTLES:
                    reason = MEMORY_THROTTLES
                continue
            if best is None or ee.last_used > best.last_used:
                best = ee
        if best is None:
            self.throttle_reasons[reason] += 1
            self.peak = 1.0  # a throttle is demand beyond what is there
            return reason
        best.last_used = now
        return best.idle.pop()

    # --- one request --------------------------------------------------------------------------

    def begin(
        self,
        env: Environment,
        request: int,
        event: Any,
        on_done: Callable[[Environment], None] | None = None,
        async_event: object | None = None,
    ) -> None:
        now = self.loop.now
        metrics = self.metrics
        env.ordinal = metrics.invocations = metrics.invocations + 1
        busy = self.busy = self.busy + 1
        if busy > metrics.step_max_busy:
            metrics.step_max_busy = busy
            if busy > metrics.max_busy:
                metrics.max_busy = busy
        if self.counts_toward_account:
            account = self.account
            account.busy += 1
            account.max_busy = max(account.max_busy, account.busy)
            account.unreserved_busy += 1
            account.max_unreserved_busy = max(account.max_unreserved_busy, account.unreserved_busy)
        ee = self.ee_of[env.id]
        self._load(ee, 1, now)
        env.request, env.event, env.on_done, env.async_event = request, event, on_done, async_event
        env.started_at = env.invoke_started_at = now
        env.init_phase_s = env.init_s = 0.0
        env.cold = False
        env.state = BUSY
        run = self.behaviour.sample_duration()
        share = self.cpu_per_request
        if share and ee.cpu > ee.vcpus:  # the environment's vCPUs shared: the CPU-bound part runs slower
            run *= (1.0 - share) + share * ee.cpu / ee.vcpus
        # Synchronous invokes stop at 900 s; asynchronous and mapping ones may run to the timeout (90 min).
        limit = self.timeout if on_done is not None else min(self.timeout, limits.LMI_SYNC_TIMEOUT_MAX_S)
        answer = run
        if run > limit:
            answer = self._time_out(env, limit)  # the caller gets the error; the code runs on (LMI_EE)
        else:
            self._draw_error(env, self.behaviour)
        if self._listeners:
            self.loop.emit("invoke_start", {**self.invoke_start_data(env), "env": ee.id})
        heappush(self._heap, (now + answer, next(self._seq), self._on_invoke_done, env))
        if answer < run:  # timed out: the slot stays busy until the code ends
            heappush(self._heap, (now + run, next(self._seq), self._on_release, env))

    def _invoke_done(self, env: Environment) -> None:
        """The answer: the request is no longer in flight, and unless it timed out its slot is free."""
        now = self.loop.now
        metrics = self.metrics
        duration_ms = (now - env.invoke_started_at) * 1000.0
        metrics.add_duration(duration_ms)
        if env.error is not None:
            metrics.errors += 1
            if env.timed_out:
                metrics.timeouts += 1
        self.busy -= 1
        if self.counts_toward_account:
            self.account.busy -= 1
            self.account.unreserved_busy -= 1
        metrics.busy_seconds += now - env.started_at
        env.invocations += 1
        if self._listeners:
            ee = self.ee_of[env.id]  # no duration is billed on Managed Instances:
            self.loop.emit("invoke_end", {**self.invoke_end_data(env, duration_ms, 0), "env": ee.id})
        if env.error is None or not env.timed_out:
            self._release(env)
        on_done = env.on_done
        if on_done is None:
            outcomes = self.outcomes
            outcomes.sync_in_flight -= 1
            if env.error is None:
                outcomes.succeeded += 1
            else:
                outcomes.failed += 1
        else:
            on_done(env)

    def _release(self, env: Environment) -> None:
        """The code finished (at the answer, or after a timeout when it ends): the slot is free again."""
        now = self.loop.now
        ee = self.ee_of[env.id]
        self._load(ee, -1, now)
        env.state = IDLE
        env.idle_since = now
        ee.idle.append(env)

    def _load(self, ee: ManagedEnvironment, requests: int, now: float) -> None:
        """One request more (1) or less (-1) on `ee`: its slots, CPU and memory, and the function's and the
        provider's levels, for the report, `--series` and the scaler's peak. Once or twice per request, so
        the levels are kept inline rather than as Gauges."""
        vcpus = ee.vcpus
        cpu_before = ee.cpu if ee.cpu < vcpus else vcpus
        ee.in_use += requests
        ee.cpu += requests * self.cpu_per_request
        ee.memory_in_use += requests * self.memory_per_request
        cpu_change = (ee.cpu if ee.cpu < vcpus else vcpus) - cpu_before
        elapsed = now - self.load_since
        self.slot_seconds += self.slots_in_use * elapsed
        self.cpu_seconds += self.cpu_in_use * elapsed
        self.load_since = now
        slots = self.slots_in_use = self.slots_in_use + requests
        cpu = self.cpu_in_use = self.cpu_in_use + cpu_change
        if cpu_change:
            self.provider.use_cpu(cpu_change, now)
        if requests > 0:
            if slots > self.max_slots_in_use:
                self.max_slots_in_use = slots
            self._note_peak(slots, cpu)

    def _note_peak(self, slots: int, cpu: float) -> None:
        """The scaler's input: the higher of slots in use / slots and CPU / vCPUs, the most since its decision."""
        if not self.total_slots:
            return
        utilisation = max(slots / self.total_slots, cpu / self.total_vcpus)
        if utilisation > self.peak:
            self.peak = utilisation
        if 100.0 * cpu / self.total_vcpus > self.max_cpu:
            self.max_cpu = 100.0 * cpu / self.total_vcpus

    def cpu_percent(self) -> float:
        """CPU in use now, in percent of the serving environments' vCPUs."""
        return 100.0 * self.cpu_in_use / self.total_vcpus if self.total_vcpus else 0.0

    def cpu_average(self, now: float) -> float:
        """CPU over the run: vCPU-seconds used over vCPU-seconds the environments had, in percent."""
        available = self.ees_gauge.area(now) * self.managed.vcpus
        used = self.cpu_seconds + self.cpu_in_use * (now - self.load_since)
        return 100.0 * used / available if available else 0.0

    # --- the scaler ---------------------------------------------------------------------------

    def _scale(self, _: Any) -> None:
        """One decision of the background scaler: toward the target utilisation, at most doubling (or
        halving) per five minutes, within [min_environments, max_environments]."""
        provider = self.provider.config
        managed = self.managed
        now_count = len(self.ees) + self.pending
        wanted = math.ceil(now_count * self.peak * 100.0 / provider.target_utilization)
        factor = 2.0 ** (provider.scaling_interval / limits.LMI_DOUBLING_PERIOD_S)
        grow_to = max(now_count + 1, math.floor(now_count * factor))
        shrink_to = min(now_count - 1, math.ceil(now_count / factor))
        wanted = max(min(wanted, grow_to), shrink_to, managed.min_environments)
        wanted = min(wanted, managed.max_environments)
        if wanted > now_count:
            for _ in range(wanted - now_count):
                self.pending += 1
                self.loop.at(self.loop.now + provider.scaling_delay, self._add_environment, True)  # scaled
        elif wanted < now_count:
            # Idle ones, from the emptiest instances first, so that instances empty and stop.
            idle = sorted(
                (ee for ee in self.ees if ee.in_use == 0),
                key=lambda ee: (ee.instance.environments, ee.last_used, ee.id),
            )
            for ee in idle[: now_count - wanted]:
                self._remove_environment(ee)
        if self.loop.listeners and wanted != now_count:
            self.loop.emit(
                "scale",
                {"function": self.name, "from": now_count, "to": wanted, "peak_utilization": round(self.peak * 100, 1)},
            )
        self.peak = 0.0
        self._note_peak(self.slots_in_use, self.cpu_in_use)  # the peak starts again from the load now
        self.loop.at(self.loop.now + provider.scaling_interval, self._scale)
