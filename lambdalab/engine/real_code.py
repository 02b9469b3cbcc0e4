"""Real handler code inside a simulation: each simulated environment of a `code:` function is one worker process.

The engine keeps its virtual clock; the code runs on the wall clock, one
invocation at a time, when the engine reaches it. Its Init and Duration become
the virtual ones (unless the scenario's behaviour model gives them), and its
response or error drives what follows: retries, destinations, resets.
Real processes are expensive, so a run may hold only so many at once.
The code's simulated services (lambdalab.services: tables) are one folder per run, shared by every
environment of the run, as a handler check's are: so a table shows each write the code made, whichever
environment made it (a durable execution's invocations, say, days apart in different environments).
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING

from lambdalab.engine.ids import request_id
from lambdalab.engine.model import Function
from lambdalab.paths import environments_dir

if TYPE_CHECKING:
    from lambdalab.runtime import ExecutionEnvironment, Invocation
    from lambdalab.runtime.durable import DurableExecution, DurableInvocation

DEFAULT_CAP = 16  # real environments alive at once, across all functions of a run


class RealEnvironmentsExceeded(Exception):
    """The scenario needs more real execution environments at once than the run allows."""


class RealPool:
    """Every worker process of one run, so that the run can count them and stop them all."""

    def __init__(self, cap: int = DEFAULT_CAP):
        self.cap = cap
        self.workers: dict[tuple[str, int], ExecutionEnvironment] = {}
        self._services: tempfile.TemporaryDirectory[str] | None = None

    def services(self) -> str:
        """The run's folder of simulated services (LAMBDALAB_SERVICES), made when first needed; removed by close(),
        or when the pool is collected for a run nobody closed."""
        if self._services is None:  # not under /tmp: each environment sees its own private /tmp
            environments_dir().mkdir(parents=True, exist_ok=True)
            self._services = tempfile.TemporaryDirectory(prefix="scenario-services-", dir=environments_dir())
        return self._services.name

    def close(self) -> None:
        for worker in self.workers.values():
            worker.shutdown()
        self.workers.clear()
        if self._services is not None:
            self._services.cleanup()
            self._services = None


class RealCode:
    """One function's real code, one worker per simulated environment."""

    def __init__(self, fn: Function, pool: RealPool, seed: int, region: str, account_id: str):
        # Imported here, not at the top: the runtime uses the engine's limits, and a run without real
        # code never needs it.
        from lambdalab.runtime import FunctionCode
        from lambdalab.runtime.durable import SDK_MODULES

        self.fn = fn
        self.pool = pool
        self.seed = seed
        self.region, self.account_id = region, account_id
        assert fn.code is not None  # the simulation makes a RealCode only for a function with `code`
        self.code = FunctionCode(
            name=fn.name,
            code_dir=fn.code.folder,
            handler=fn.code.handler,
            memory_mb=fn.memory,
            timeout_s=fn.timeout,
            ephemeral_mb=fn.ephemeral_storage,
            environment={"LAMBDALAB_SERVICES": pool.services(), **fn.environment},
            region=region,
            account_id=account_id,
            preload=SDK_MODULES if fn.durable else (),
        )

    def _worker(self, env_id: int) -> ExecutionEnvironment:
        key = (self.fn.name, env_id)
        worker = self.pool.workers.get(key)
        if worker is None:
            if len(self.pool.workers) >= self.pool.cap:
                raise RealEnvironmentsExceeded(
                    f"function {self.fn.name!r} needs more than {self.pool.cap} real execution environments at once; "
                    f"each is a process running your code. Give the function a behaviour model "
                    f"(behaviour: {{init: ..., duration: ...}}) to simulate it at this scale, lower the traffic, "
                    f"or allow more with --real-environments N"
                )
            from lambdalab.runtime import ExecutionEnvironment

            worker = self.pool.workers[key] = ExecutionEnvironment(self.code, number=env_id)
        return worker

    def init(self, env_id: int, request: int, at_ms: int) -> Invocation:
        """Init alone, its log records stamped with the virtual time `at_ms` (epoch ms)."""
        return self._worker(env_id).init(request_id(self.seed, request), log_time_ms=at_ms)

    def invoke(self, env_id: int, event: object, request: int, at_ms: int) -> Invocation:
        """One invocation, its log records stamped with the virtual time `at_ms` (epoch ms)."""
        return self._worker(env_id).invoke(event, request_id(self.seed, request), log_time_ms=at_ms)

    def start_durable(self, name: str, execution_id: str, payload: object, at_ms: int) -> DurableExecution:
        """A durable execution of this code (the checkpoint service's record of it), started at `at_ms`."""
        from lambdalab.runtime.durable import start_execution

        fn = self.fn
        return start_execution(self.region, self.account_id, fn.name, fn.version, name, execution_id, payload, at_ms)

    def invoke_durable(
        self, env_id: int, execution: DurableExecution, request: int, at_ms: int, clock_runs: bool
    ) -> DurableInvocation:
        """One invocation of a durable execution in the environment's worker: the handler replays against the
        service, from virtual time `at_ms` (see lambdalab.runtime.durable.run_durable_invocation)."""
        from lambdalab.runtime.durable import run_durable_invocation

        worker = self._worker(env_id)
        return run_durable_invocation(worker, execution, request_id(self.seed, request), at_ms, clock_runs)

    def shutdown(self, env_id: int) -> None:
        worker = self.pool.workers.pop((self.fn.name, env_id), None)
        if worker is not None:
            worker.shutdown()
