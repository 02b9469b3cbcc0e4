"""Lambda extensions at work: what they add to Init, to each invocation and to Shutdown.

As the lifecycle and the Extensions API describe it (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html,
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html, shared/reference/lambda-facts.md
"Init", "Invoke", "Shutdown"): extensions start before the runtime, so Init Duration is their Init and the
function's together (billed, within Init's 10 s); after the handler returns they may keep working, and the
environment stays busy until the last one is done: that time counts toward the timeout and is billed, and
CloudWatch reports it as PostRuntimeExtensionsDuration while Duration stays the handler's; at Shutdown
(an idle environment removed, or a reset) they get up to 2,000 ms with an external extension, 500 ms with
internal ones only (unbilled).

lambdalab's model: extensions' Init times add up (one after another); their post-invoke work runs side by side
(the environment is free when the longest ends); the caller's answer comes once they are done; a post-invoke
cut by the timeout resets the environment, the handler's result standing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdalab import limits
from lambdalab.engine.metrics import Histogram
from lambdalab.engine.model import Extension

if TYPE_CHECKING:
    from lambdalab.engine.environments import Environment, FunctionRuntime


class ExtensionsAtWork:
    """One function's extensions in a run. Made at build time, for a function that has some: it wraps the
    function's Init sampler and the end of each invocation, so that other functions pay nothing."""

    def __init__(self, runtime: FunctionRuntime, config: tuple[Extension, ...]):
        self.init_s = sum(e.init for e in config)
        self.post_s = max(e.post_invoke for e in config)
        cap = limits.SHUTDOWN_EXTERNAL_S if any(e.type == "external" for e in config) else limits.SHUTDOWN_INTERNAL_S
        self.shutdown_s = min(max(e.shutdown for e in config), cap)
        self.post_durations = Histogram()  # PostRuntimeExtensionsDuration, one per invocation
        self.resets = 0  # environments reset after an invocation: each runs Shutdown
        self.loop, self.timeout = runtime.loop, runtime.timeout
        behaviour = runtime.behaviour
        if self.init_s:
            function_init = behaviour.sample_init
            init_s = self.init_s
            behaviour.sample_init = lambda: init_s + function_init()
        self.then = runtime._on_invoke_done
        runtime._on_invoke_done = self.handler_returned

    def handler_returned(self, env: Environment) -> None:
        """The handler has returned (or failed): the extensions work on, the environment still busy."""
        resets = env.timed_out or env.error is not None and env.error.startswith("Runtime.")
        post = 0.0 if env.timed_out else min(self.post_s, self.timeout - (self.loop.now - env.invoke_started_at))
        if post < self.post_s and not env.timed_out:
            env.needs_init = resets = True  # cut by the timeout: Lambda resets the environment
        self.resets += resets
        self.post_durations.add(post * 1000.0)
        if post <= 0.0:
            self.then(env)
            return
        # Duration stays the handler's; the extensions' time is billed, as Init is, outside it.
        env.invoke_started_at += post
        env.init_phase_s += post
        self.loop.at(self.loop.now + post, self.then, env)

    def shut_down(self, created: int, alive: int) -> int:
        """Environments that ran Shutdown: those gone, and each reset (which shuts an environment's processes down)."""
        return created - alive + self.resets
