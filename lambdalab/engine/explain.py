"""One trace event in words: what happened to which request, when, and why.

The graded checks explain a figure that came out wrong with the first event behind it, and the
simulator's inspector tells the story of the events under its cursor: both say it in these words, so a
learner reads the same sentence in a check's feedback and on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdalab import limits
from lambdalab.engine.concurrency import ACCOUNT_LIMIT, RESERVED_LIMIT, TENANT_LIMIT
from lambdalab.engine.managed_instances import CONCURRENCY_THROTTLES, CPU_THROTTLES, MEMORY_THROTTLES

# The kinds of trace event that have a sentence (the rest, such as env_start, are bookkeeping).
EXPLAINED = (
    "throttle",
    "async_wait",
    "async_drop",
    "denied",
    "failure",
    "delivery",
    "batch_discarded",
    "cold_start",
    "batch_done",
    "window_final_done",
    "redrive",
    "deployment",
    "edge_answer",
    "rejected",
    "recursion_stop",
    "pollers",
    "durable_start",
    "durable_suspend",
    "durable_resume",
    "durable_end",
    "durable_callback",
    "scale",
    "instance_start",
)


def sentence(kind: str, time: float, data: dict[str, Any], scenario: Any, name: Callable[[Any], str] = str) -> str:
    """The event as one sentence, starting with what happened (a caller may put "First: " before it).

    `name` turns a request's number into what the reader knows it by (the simulator adds its RequestId,
    which its log lines show)."""
    request = f"request {name(data.get('request_id'))} to {data.get('function')}"
    at = f"at t={time:.2f} s"
    if kind == "throttle":
        return f"{request} ({data.get('invocation')}) was throttled {at} because {_why_throttled(data, scenario)}."
    if kind == "async_wait":
        cause = "it failed" if data.get("reason") == "retry" else "it was throttled"
        return (
            f"{request} waits in Lambda's queue {at} because {cause} ({data.get('attempts')} attempt(s) so far); "
            f"next try at t={data.get('next_try_s', 0.0):.2f} s."
        )
    if kind == "async_drop":
        return f"{request} was given up {at} after {data.get('attempts')} attempt(s): {data.get('condition')}."
    if kind == "denied":
        return f"{request} from {data.get('principal')} was denied {at}: {data.get('reason')}"
    if kind == "rejected":
        return f"{request} ({data.get('invocation')}) was refused {at} with {data.get('error')}: {data.get('reason')}."
    if kind == "failure":
        return f"{request} failed {at} with {data.get('error')}."
    if kind == "delivery":
        verdict = "was delivered to" if data.get("delivered") else "could not be delivered to"
        return f"{request}'s {data.get('route', 'invocation')} record {verdict} {data.get('target')} {at}."
    if kind == "cold_start":
        idle = (
            f"no idle environment of tenant {data['tenant']} was free"
            if "tenant" in data
            else "no idle environment was free"
        )
        return (
            f"{request} started a cold environment #{data.get('env')} {at}: {idle}, so Lambda ran the Init phase first."
        )
    if kind == "batch_discarded":
        records = ", ".join(map(str, data.get("records", [])))
        return (
            f"records {records} of stream {data.get('stream')} (shard {data.get('shard')}) were given up by "
            f"{data.get('function')} {at}: {data.get('condition')}."
        )
    if kind == "batch_done":
        return _batch_done(data, at)
    if kind == "window_final_done":
        return _window_final_done(data, at)
    if kind == "redrive":
        return (
            f"message {data.get('message')} of queue {data.get('queue')} went to its dead-letter queue "
            f"{data.get('dlq')} {at}, after {data.get('receive_count')} receives (maxReceiveCount)."
        )
    if kind == "deployment":
        if "alarm" in data:
            return (
                f"the deployment of {data.get('function')} version {data.get('version')} rolled back {at}: "
                f"{data['alarm']}."
            )
        share = round(100 * data.get("weight", 0.0))
        return (
            f"{data.get('config')} sent {share} % of the alias's traffic to {data.get('function')} version "
            f"{data.get('version')} {at}."
        )
    if kind == "edge_answer":
        problems = "; ".join(data.get("problems") or ())
        return f"CloudFront answered {request} ({data.get('trigger')}) with {data.get('status')} {at}" + (
            f": {problems}." if problems else "."
        )
    if kind == "recursion_stop":
        return (
            f"{request} ({data.get('invocation')}) was stopped {at} by recursive loop detection: "
            f"{data.get('function')} had already run {data.get('invocations')} times in this request chain "
            f"({data.get('error')})."
        )
    if kind == "pollers":
        why = (
            "messages waited while every poller was busy"
            if data.get("reason") == "waiting"
            else "the last minute needed no more"
        )
        return (
            f"the provisioned pollers reading {data.get('queue')} for {data.get('function')} became "
            f"{data.get('pollers')} {at}: {why}."
        )
    if kind.startswith("durable_"):
        return _durable(kind, data, at)
    if kind == "scale":
        grow = data.get("to", 0) > data.get("from", 0)
        return (
            f"the Managed Instances scaler of {data.get('function')} went from {data.get('from')} to {data.get('to')} "
            f"execution environments {at}: the highest utilisation since its last decision was "
            f"{data.get('peak_utilization')} % (a throttle counts as 100 %)"
            + (", and new environments serve after the scaling delay." if grow else ".")
        )
    if kind == "instance_start":
        return (
            f"capacity provider {data.get('capacity_provider')} launched instance {data.get('instance')} {at}: a new "
            "execution environment had no room on the running instances."
        )
    raise ValueError(f"no sentence for trace events of kind {kind!r}")


def _durable(kind: str, data: dict[str, Any], at: str) -> str:
    """A durable execution's life: started (or its name already taken), suspended, resumed, ended."""
    execution = f"durable execution {data.get('execution')} of {data.get('function')}"
    if kind == "durable_start":
        start = data.get("start")
        if start == "new":
            return f"{execution} started {at}."
        if start == "deduplicated":
            return f"{execution} was started again {at} with the same event: Lambda answers with the one running."
        return (
            f"{execution} was started again {at} with another event: refused with {data.get('error')} "
            "(the name is taken while it runs and until its retention ends)."
        )
    if kind == "durable_suspend":
        until = data.get("until_s")
        why = (
            "it was throttled and is retried"
            if data.get("reason") == "throttled"
            else "it reached a wait, a pending callback or a step's retry delay"
        )
        wake = f"Lambda invokes it again at t={until:.2f} s" if until is not None else "a callback will wake it"
        return f"{execution} suspended {at} because {why}: the invocation ended, no compute is billed, and {wake}."
    if kind == "durable_resume":
        cause = "its timer fired" if data.get("reason") == "timer" else "a callback completed or timed out"
        return f"{execution} resumed {at} because {cause}: a new invocation replays the workflow from the top."
    if kind == "durable_end":
        error = f" ({data['error']})" if data.get("error") else ""
        return f"{execution} ended {at}: {data.get('status')}{error}, after {data.get('invocations')} invocation(s)."
    verdict = (
        "was accepted"
        if data.get("accepted")
        else "was refused with CallbackTimeoutException (the callback is not pending)"
    )
    return f"callback {data.get('callback')} of {execution} got {data.get('outcome')} {at} and {verdict}."


# Managed Instances refuse a request at once when no environment can take it (engine/managed_instances.py).
MANAGED_THROTTLES = {
    CONCURRENCY_THROTTLES: "every slot of every execution environment was busy, and Managed Instances do not "
    "start an environment for a request",
    CPU_THROTTLES: "the execution environments with a free slot had no CPU to spare",
    MEMORY_THROTTLES: "the execution environments with a free slot had no memory for one more request",
}


def _why_throttled(data: dict[str, Any], scenario: Any) -> str:
    reason = data.get("reason")
    fn = scenario.functions.get(str(data.get("function", "")).partition(":")[0])
    if reason == RESERVED_LIMIT and fn is not None:
        why = (
            f"reserved concurrency {fn.reserved_concurrency} was reached while {fn.reserved_concurrency} "
            f"environments were busy"
        )
    elif reason == TENANT_LIMIT and fn is not None:
        limit = scenario.account.concurrency if fn.reserved_concurrency is None else fn.reserved_concurrency
        why = (
            f"its tenant had no idle environment and the function already had "
            f"{limit * limits.TENANT_ENVIRONMENTS_PER_1000 // 1000:,} tenant environments live, its most "
            f"({limits.TENANT_ENVIRONMENTS_PER_1000:,} per 1,000 of its concurrency limit of {limit:,})"
        )
    elif reason == ACCOUNT_LIMIT:
        why = "the account's unreserved concurrency was all in use"
    elif reason in MANAGED_THROTTLES:
        why = MANAGED_THROTTLES[reason]
    else:
        why = "the function was adding environments faster than Lambda's scaling rate allows"
    return f"{why} ({reason})"


def _window_final_done(data: dict[str, Any], at: str) -> str:
    start, end = data.get("window") or (0.0, 0.0)
    where = f"shard {data.get('shard')}" + (f" part {data.get('part')}" if data.get("part") else "")
    what = f"the final invocation {data.get('request_id')} of the tumbling window t={start:g}-{end:g} s on {where}" + (
        " (ended early: its state passed 1 MB)" if data.get("early") else ""
    )
    if data.get("outcome") == "closed":
        return f"{what} succeeded {at}: the window closes with {data.get('records')} record(s) and a fresh state."
    return (
        f"{what} failed {at} (attempt {data.get('attempts')}): the shard tries it again and reads nothing newer "
        "meanwhile."
    )


def _batch_done(data: dict[str, Any], at: str) -> str:
    if "queue" in data:
        failed, total = len(data.get("failed", ())), len(data.get("messages", ()))
        if not failed:
            return (
                f"batch {data.get('request_id')} of {total} message(s) from {data.get('queue')} succeeded {at}; "
                "all deleted."
            )
        groups = sorted({g for g in data.get("groups", ()) if g})
        held = f"; message group(s) {', '.join(groups)} wait for them" if groups else ""
        return (
            f"batch {data.get('request_id')} from {data.get('queue')} ended {at} with {failed} of {total} "
            f"message(s) failed: they become visible again after the visibility timeout{held}."
        )
    records = data.get("records", [])
    where = f"shard {data.get('shard')}" + (f" part {data.get('part')}" if data.get("part") else "")
    outcome = data.get("outcome")
    if outcome == "processed":
        return (
            f"batch {data.get('request_id')} of {len(records)} record(s) on {where} succeeded {at}: "
            "the checkpoint moves past it."
        )
    failing = records[data.get("failed_from") or 0]
    if outcome == "bisected":
        return (
            f"batch {data.get('request_id')} on {where} failed {at} from record {failing}: Lambda splits the "
            f"rest in two and tries each half (bisect), and the shard waits behind it."
        )
    if outcome == "given_up":
        return (
            f"batch {data.get('request_id')} on {where} failed {at} from record {failing}, its last retry: "
            "it is given up."
        )
    return (
        f"batch {data.get('request_id')} on {where} failed {at} from record {failing} (attempt "
        f"{data.get('attempts')}): the shard retries it and reads nothing newer meanwhile."
    )
