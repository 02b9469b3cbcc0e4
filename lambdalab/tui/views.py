"""The simulator's concept views as lanes of cells over one window of virtual time.

No Textual here: each builder reads the live run (the engine's series sampler, the Recorder's counts, spans
and stories) for the window on screen and returns lanes, a label and a glyph and style name per column.
The LaneView widget colours them; the same window and cursor column are shared by every view.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lambdalab.charts import BLOCKS
from lambdalab.engine.concurrency import TENANT_LIMIT
from lambdalab.engine.managed_instances import CONCURRENCY_THROTTLES, CPU_THROTTLES, MEMORY_THROTTLES
from lambdalab.engine.model import Scenario
from lambdalab.engine.tenants import TenantRuntime
from lambdalab.tui.live_run import LiveRun
from lambdalab.tui.recorder import Spans
from lambdalab.tui.recorder import lane_name as _lane
from lambdalab.tui.window import Window

LABEL_WIDTH = 22  # every view's lane names: the same width, so that a column is the same instant in each
Cell = tuple[str, str]  # glyph, style name (see LaneView's component classes)
BLANK: Cell = (" ", "blank")


@dataclass(frozen=True)
class Lane:
    label: str
    cells: tuple[Cell, ...]
    heading: bool = False  # a name over the lanes that follow, drawn across the whole width


def heading(text: str) -> Lane:
    return Lane(text, (), heading=True)


@dataclass(frozen=True)
class View:
    """One concept's lanes, with a title and a line of key (what the glyphs mean)."""

    name: str
    title: str
    key: str
    lanes: tuple[Lane, ...]


def fit_words(text: str, width: int) -> str:
    """`text` cut at a word boundary to fit `width`, with … when something was left out."""
    if len(text) <= width:
        return text
    cut = text[: max(0, width - 1)].rsplit(" ", 1)[0]
    return cut + "…"


# --- series over a window ---------------------------------------------------------------------------


def levels(series: Sequence[float | None], step: float, window: Window) -> list[float]:
    """A level series (one value per step) as the highest value in each column's time."""
    out = []
    edges = window.edges
    for c in range(window.columns):
        i0 = int(edges[c] / step)
        values = [v for v in series[max(0, i0) : max(i0 + 1, -int(-edges[c + 1] // step))] if v is not None]
        out.append(max(values) if values else 0.0)
    return out


def counts(series: Sequence[int], step: float, window: Window) -> list[int]:
    """A count series (per step) summed into columns: each step counts in the column where it starts."""
    starts = [max(0, -int(-edge // step)) for edge in window.edges]
    return [sum(series[a:b]) for a, b in zip(starts, starts[1:])]


def level_cells(values: Sequence[float], style: str, top: float | None = None) -> tuple[Cell, ...]:
    peak = top or max(values, default=0) or 1
    return tuple(BLANK if v <= 0 else (BLOCKS[max(1, min(8, round(v / peak * 8)))], style) for v in values)


def count_lane(label: str, values: Sequence[int], style: str) -> Lane:
    """Counts per column as eighth-blocks scaled to the lane's own peak, the window's total in the label."""
    return Lane(f"{label} {sum(values):,}", level_cells(values, style))


def span_cells(
    spans: Spans, window: Window, now: float, glyphs: dict[str, Cell], wins: str | None = None
) -> tuple[Cell, ...]:
    """A lane's spans as cells; a column shared by two states shows the later one, or the state that `wins`
    (a short invocation between idle stretches is what the eye looks for)."""
    cells = [BLANK] * window.columns
    winner = glyphs.get(wins) if wins is not None else None
    items = [*spans.spans] + ([(spans.since, now, spans.state)] if spans.state is not None else [])
    for begin, end, state in items:
        if end < window.start or begin > window.end:
            continue
        first = max(0, int((begin - window.start) / window.per_column))
        last = min(window.columns - 1, int((max(end, begin) - window.start) / window.per_column))
        for c in range(first, last + 1):
            if cells[c] is not winner or state == wins:
                cells[c] = glyphs[state]
    return tuple(cells)


def mark(cells: list[Cell], window: Window, times: Iterable[float], cell: Cell) -> None:
    for t in times:
        column = window.column_of(t)
        if column is not None:
            cells[column] = cell


# --- which views a scenario has ---------------------------------------------------------------------


def features(scenario: Scenario) -> list[str]:
    """The concept views this scenario has something to show in, in the order they are offered."""
    found = ["environments", "concurrency"]
    traffic = scenario.traffic
    if (
        any(t.invocation == "async" for t in traffic)
        or scenario.topics
        or scenario.buses
        or any(
            f.dead_letter_queue or f.async_config.on_failure or f.async_config.on_success
            for f in scenario.functions.values()
        )
    ):
        found.append("async")
    kinds = {m.kind for m in scenario.event_source_mappings}
    if "queue" in kinds:
        found.append("sqs")
    if kinds - {"queue"}:
        found.append("streams")
    if scenario.deployments or any(f.versions or f.aliases for f in scenario.functions.values()):
        found.append("versions")
    if scenario.edge or any(t.principal for t in traffic):
        found.append("access")
    functions = scenario.functions.values()
    if any(f.managed_instances for f in functions):
        found.append("managed")
    if any(f.durable for f in functions):
        found.append("durable")
    if any(f.tenant_isolation for f in functions):
        found.append("tenants")
    return found


# --- the builders -----------------------------------------------------------------------------------


def async_view(run: LiveRun, window: Window) -> View:
    sim, rec = run.sim, run.recorder
    step = rec.step
    lanes: list[Lane] = []
    for name in sim.functions:
        waiting = sim.sampler.waiting.get(name, [])
        if not any(waiting) and not rec.keys(f"retry {name} "):
            continue
        lanes.append(heading(f"{name}: events invoked asynchronously"))
        lanes.append(Lane(" waiting", level_cells(levels(waiting, step, window), "warn")))
        for key in rec.keys(f"retry {name} "):
            lanes.append(count_lane(f" try {key.rsplit(' ', 1)[1]}", counts(rec.counts[key], step, window), "warn"))
        if f"dropped {name}" in rec.counts:
            lanes.append(count_lane(" dropped", counts(rec.counts[f"dropped {name}"], step, window), "bad"))
    for key in rec.keys("to ") + rec.keys("undelivered "):
        style = "bad" if key.startswith("undelivered") else "good"
        target = key.split(" ", 1)[1].split(":", 1)[-1]
        lanes.append(
            count_lane(("→" if style == "good" else "✗") + target, counts(rec.counts[key], step, window), style)
        )
    shown = [s for s in reversed(rec.stories.values()) if s.steps and s.steps[-1][0] >= window.start][:8]
    for story in reversed(shown):
        lanes.append(Lane(f"req {story.request_id}", story_cells(story, window, run.now)))
    key = "▁▇ waiting · tries by attempt · →arrivals   req: ✗ failed ─ waits ✓ ok D DLQ F/S destination ⊘ dropped"
    return View("async", "Async: Lambda's internal queue, retries, DLQ and destinations", key, tuple(lanes))


_STORY_END = {
    "ok": ("✓", "good"),
    "fail": ("✗", "bad"),
    "on_failure": ("F", "warn"),
    "on_success": ("S", "good"),
    "dlq": ("D", "bad"),
    "dropped": ("⊘", "bad"),
}


def story_cells(story, window: Window, now: float) -> tuple[Cell, ...]:
    """One async event: each wait drawn from the failure to its next try, each outcome marked where it happened."""
    cells = [BLANK] * window.columns
    for time, what, value in story.steps:
        if what == "wait":
            first = window.column_of(max(time, window.start))
            last = window.column_of(min(value, now, window.end))
            if first is not None:
                for c in range(first, (last if last is not None else window.columns - 1) + 1):
                    cells[c] = ("─", "muted")
                cells[first] = ("✗", "bad")
        else:
            mark(cells, window, [time], _STORY_END.get(what, ("•", "muted")))
    return tuple(cells)


def sqs_view(run: LiveRun, window: Window) -> View:
    rec, step = run.recorder, run.recorder.step
    lanes: list[Lane] = []
    for name in run.sim.queues:
        if f"visible {name}" not in rec.levels:
            continue
        top = max([*rec.levels[f"visible {name}"], *rec.levels[f"in flight {name}"], 1])
        fifo = " (FIFO: one lane per message group)" if run.sim.queues[name].config.fifo else ""
        lanes.append(heading(f"queue {name}, peak {top:,} messages{fifo}"))
        lanes.append(Lane(" visible", level_cells(levels(rec.levels[f"visible {name}"], step, window), "busy", top)))
        lanes.append(
            Lane(" in flight", level_cells(levels(rec.levels[f"in flight {name}"], step, window), "warn", top))
        )
        lanes.append(Lane(" pollers", level_cells(levels(rec.levels[f"pollers {name}"], step, window), "init")))
        for label, key, style in (
            (" received", f"received {name}", "muted"),
            (" failed", f"failed batches {name}", "bad"),
            (" redriven", f"redriven {name}", "bad"),
        ):
            if key in rec.counts or label == " received":
                lanes.append(count_lane(label, counts(rec.counts.get(key, []), step, window), style))
        lanes += group_lanes(run, f"groups {name}", window)
    key = "levels scaled to the queue's peak · counts per column · FIFO group: █ in a batch ▒ blocked by a failure"
    return View("sqs", "SQS: messages, pollers, redrives and FIFO groups", key, tuple(lanes))


def group_lanes(run: LiveRun, family: str, window: Window) -> list[Lane]:
    rec = run.recorder
    glyphs = {"batch": ("█", "busy"), "blocked": ("▒", "bad")}
    lanes = [
        Lane(f" group {name}", span_cells(spans, window, run.now, glyphs))
        for name, spans in rec.lanes.get(family, {}).items()
    ]
    if rec.lane_overflow.get(family):
        lanes.append(Lane(f" +{rec.lane_overflow[family]:,} groups", (BLANK,) * window.columns))
    return lanes


def streams_view(run: LiveRun, window: Window) -> View:
    rec, step = run.recorder, run.recorder.step
    lanes: list[Lane] = []
    glyphs = {"batch": ("█", "busy"), "stuck": ("▒", "bad"), "bisect": ("▒", "warn")}
    for name, stream in run.sim.streams.items():
        family = f"stream {name}"
        done = [
            (t, d)
            for t, _, d in rec.between(("batch_done",), window.start, window.end + 1e-9)
            if d.get("stream") == name
        ]
        given_up = [
            (t, d)
            for t, _, d in rec.between(("batch_discarded",), window.start, window.end + 1e-9)
            if d.get("stream") == name
        ]
        lanes.append(
            heading(
                f"stream {name} ({stream.kind}), read by {stream.consumer.fn.name}"
                if stream.consumer
                else f"stream {name} ({stream.kind}), read by no mapping"
            )
        )
        for lane_name, spans in rec.lanes.get(family, {}).items():
            cells = list(span_cells(spans, window, run.now, glyphs))
            mark(
                cells,
                window,
                [t for t, d in done if d["outcome"] == "bisected" and _lane(d) == lane_name],
                ("÷", "warn"),
            )
            mark(cells, window, [t for t, d in given_up if _lane(d) == lane_name], ("✗", "bad"))
            checkpoint = rec.checkpoints.get((name, lane_name))
            label = f" {lane_name}" + (f" @{checkpoint}" if checkpoint is not None else "")
            lanes.append(Lane(label, tuple(cells)))
        fn = stream.consumer.fn.name if stream.consumer else None
        if fn in run.sim.sampler.iterator_age:
            ages = levels(run.sim.sampler.iterator_age[fn], step, window)
            lanes.append(Lane(f" IteratorAge {max(ages, default=0) / 1000:,.0f}s", level_cells(ages, "warn")))
        if f"given up {name}" in rec.counts:
            lanes.append(count_lane(" given up", counts(rec.counts[f"given up {name}"], step, window), "bad"))
    key = "█ batch in flight ▒ failing batch holds the shard ÷ bisect ✗ records given up · @ last record processed"
    return View("streams", "Streams: shards, checkpoints, bisects and IteratorAge", key, tuple(lanes))


def versions_view(run: LiveRun, window: Window) -> View:
    sim, rec, step = run.sim, run.recorder, run.recorder.step
    lanes: list[Lane] = []
    styles = ("busy", "warn", "good", "init")
    for name in sim.functions:
        members = sim.sampler.members.get(name, [])
        if len(members) < 2:
            continue
        per_member = [counts(sim.sampler.counts[m.name]["invocations"], step, window) for m in members]
        totals = [sum(column) for column in zip(*per_member)]
        for i, (member, values) in enumerate(zip(members, per_member)):
            if not any(sim.sampler.counts[member.name]["invocations"]):
                continue
            shares = [v / t if t else 0.0 for v, t in zip(values, totals)]
            served = sum(values) / max(1, sum(totals))
            lanes.append(Lane(f"{name}:{member.version} {served:.0%}", level_cells(shares, styles[i % 4], 1.0)))
    if rec.deployments:
        cells = [BLANK] * window.columns
        mark(cells, window, [t for t, d in rec.deployments if "alarm" not in d], ("│", "mark"))
        mark(cells, window, [t for t, d in rec.deployments if "alarm" in d], ("✗", "bad"))
        lanes.append(Lane("CodeDeploy", tuple(cells)))
    key = "each version's share of the requests per column (█ = all) · │ deployment step ✗ rollback"
    return View("versions", "Versions and aliases: traffic share over time", key, tuple(lanes))


def access_view(run: LiveRun, window: Window) -> View:
    rec, step = run.recorder, run.recorder.step
    lanes = [
        count_lane(f"denied {key.split(' ', 2)[2][:18]}", counts(rec.counts[key], step, window), "bad")
        for key in rec.keys("denied ")
    ]
    for key in rec.keys("edge "):
        _, trigger, status = key.split(" ")
        lanes.append(
            count_lane(
                f"{trigger[:12]} {status}",
                counts(rec.counts[key], step, window),
                "good" if status.startswith("2") else "bad",
            )
        )
    key = "requests per column: denied by the resource-based policy, CloudFront's answers by status"
    return View("access", "Permissions and edge: who was denied, what CloudFront answered", key, tuple(lanes))


def titled(name: str, title: str, key: str, groups: list[tuple[str, list[Lane]]]) -> View:
    """A view of groups of lanes under headings; a lone group's heading goes into the title, a row saved."""
    if len(groups) == 1:
        return View(name, f"{title}: {groups[0][0]}", key, tuple(groups[0][1]))
    return View(name, title, key, tuple(lane for text, lanes in groups for lane in (heading(text), *lanes)))


# Managed Instances: a 429 by the reason CloudWatch counts it under (engine/managed_instances.py)
MANAGED_THROTTLES = {CONCURRENCY_THROTTLES: "slots", CPU_THROTTLES: "CPU", MEMORY_THROTTLES: "memory"}


def managed_view(run: LiveRun, window: Window) -> View:
    """Per function: environments (with the scaler's decisions), slots in use against the slots there are,
    CPU, and 429s by reason; then each capacity provider's instances (with each launch)."""
    sim, rec, step = run.sim, run.recorder, run.recorder.step
    sampler = sim.sampler
    groups: list[tuple[str, list[Lane]]] = []
    for name, fn in sampler.managed.items():
        slots = fn.managed.slots
        environments = levels(sampler.environments[name], step, window)
        in_use = levels(sampler.slots_in_use[name], step, window)
        cells = list(level_cells(environments, "init", max([*environments, fn.managed.min_environments, 1])))
        decisions = [(t, d) for t, d in rec.scaling if d["function"] == name]
        mark(cells, window, [t for t, d in decisions if d["to"] > d["from"]], ("▲", "mark"))
        mark(cells, window, [t for t, d in decisions if d["to"] < d["from"]], ("▼", "mark"))
        shares = [u / (e * slots) if e else 0.0 for u, e in zip(in_use, environments)]
        cpu = levels(sampler.cpu[name], step, window)
        lanes = [Lane(f" slots {fn.slots_in_use:,}/{len(fn.ees) * slots:,}", level_cells(shares, "busy", 1.0))]
        for reason, short in MANAGED_THROTTLES.items():  # the most telling first, for a short screen
            key = f"throttled {name} {reason}"
            if key in rec.counts:
                lanes.append(count_lane(f" 429 {short}", counts(rec.counts[key], step, window), "bad"))
        lanes.append(Lane(f" environments {len(fn.ees)}", tuple(cells)))
        lanes.append(Lane(f" CPU {fn.cpu_percent():.0f}%", level_cells(cpu, "warn", 100.0)))
        provider = fn.provider
        groups.append((f"{name} on {provider.config.name}, {slots} slots and {fn.managed.vcpus:g} vCPU each", lanes))
    for name, provider in sim.providers.items():
        instances = levels(sampler.instances[name], step, window)
        cells = list(level_cells(instances, "idle", max([*instances, 1])))
        mark(cells, window, [t for t, d in rec.instances if d["capacity_provider"] == name], ("+", "mark"))
        lane = Lane(f" instances {len(provider.instances)}/{provider.max_instances}", tuple(cells))
        users = [text for text, lanes in groups if text.split(" on ", 1)[1].startswith(f"{name},")]
        if len(users) == 1:  # the provider of one function: its instances go with it
            next(lanes for text, lanes in groups if text == users[0]).append(lane)
        else:
            groups.append((f"capacity provider {name}, {provider.config.instance.type}", [lane]))
    key = "█ all slots busy · ▲▼ scaler decision · + instance launched · 429s by reason"
    return titled("managed", "Managed Instances", key, groups)


_DURABLE_END = {"SUCCEEDED": ("✓", "good"), "FAILED": ("✗", "bad"), "TIMED_OUT": ("⌛", "bad")}


def durable_view(run: LiveRun, window: Window) -> View:
    """Per durable function: executions open and suspended, then the first executions' lives, one lane each."""
    rec, step, now = run.recorder, run.recorder.step, run.now
    groups: list[tuple[str, list[Lane]]] = []
    glyphs = {"running": ("█", "busy"), "suspended": ("─", "muted")}
    for name, state in run.sim.durable.states.items():
        running, suspended = run.sim.sampler.executions[name]
        lanes = [
            Lane(f" open {state.running:,}", level_cells(levels(running, step, window), "busy")),
            Lane(f" suspended {state.suspended:,}", level_cells(levels(suspended, step, window), "muted")),
        ]
        for execution in rec.executions.get(name, {}).values():
            cells = list(span_cells(execution.spans, window, now, glyphs, wins="running"))
            mark(cells, window, execution.resumed, ("↻", "warn"))
            mark(cells, window, [t for t, ok in execution.callbacks if ok], ("C", "good"))
            mark(cells, window, [t for t, ok in execution.callbacks if not ok], ("C", "bad"))
            if execution.ended is not None:
                mark(cells, window, [execution.ended[0]], _DURABLE_END.get(execution.ended[1], ("■", "bad")))
            ended = f" {execution.invocations}x" if execution.ended is not None else ""
            lanes.append(Lane(f" {execution.name}{ended}", tuple(cells)))
        if rec.execution_overflow.get(name):
            lanes.append(Lane(f" +{rec.execution_overflow[name]:,} executions", (BLANK,) * window.columns))
        groups.append((f"{name}, {state.started:,} started, {state.replays:,} replays", lanes))
    key = "█ running ─ suspended ↻ replay · C callback · ✓ ✗ ⌛ end · Nx: invocations"
    return titled("durable", "Durable executions", key, groups)


def tenants_view(run: LiveRun, window: Window) -> View:
    """Per function in tenant isolation mode: its live tenant environments against the cap, the 429s at the cap,
    the requests refused for want of a tenant id, and each tenant's environments, one lane per tenant."""
    rec, step, now = run.recorder, run.recorder.step, run.now
    groups: list[tuple[str, list[Lane]]] = []
    glyphs = {"init": ("▒", "init"), "busy": ("█", "busy"), "idle": ("·", "idle")}
    for name, fn in run.sim.functions.items():
        if not isinstance(fn, TenantRuntime):
            continue
        tenancy = fn.tenancy
        tenants = rec.tenants.get(name, {})
        live = levels(rec.tenant_live[name].until(now) if name in rec.tenant_live else [], step, window)
        lanes = [Lane(f" live envs {tenancy.live:,}/{tenancy.cap:,}", level_cells(live, "init", tenancy.cap))]
        for reason in sorted(k.split(" ", 2)[2] for k in rec.keys(f"throttled {name} ")):
            label = " 429 at the cap" if reason == TENANT_LIMIT else f" 429 {reason[:12]}"
            lanes.append(count_lane(label, counts(rec.counts[f"throttled {name} {reason}"], step, window), "bad"))
        if f"rejected {name}" in rec.counts:
            lanes.append(count_lane(" no tenant id", counts(rec.counts[f"rejected {name}"], step, window), "bad"))
        for tenant_name, tenant in tenants.items():
            cells = list(span_cells(tenant.spans, window, now, glyphs, wins="busy"))
            mark(cells, window, tenant.cold, ("❄", "init"))
            lanes.append(Lane(f" {tenant_name}", tuple(cells)))
        if len(tenancy.tenants) > len(tenants):
            lanes.append(Lane(f" +{len(tenancy.tenants) - len(tenants):,} more tenants", (BLANK,) * window.columns))
        groups.append((f"{name}, {len(tenancy.tenants):,} tenants seen", lanes))
    key = "per tenant: ▒ init █ busy · idle ❄ cold start · 429s at the cap on live envs"
    return titled("tenants", "Tenant isolation", key, groups)


BUILDERS = {
    "async": async_view,
    "sqs": sqs_view,
    "streams": streams_view,
    "versions": versions_view,
    "access": access_view,
    "managed": managed_view,
    "durable": durable_view,
    "tenants": tenants_view,
}
