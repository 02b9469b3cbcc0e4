"""The human report of a run: tables, then charts of concurrency against its limits and of throttles over time."""

from __future__ import annotations

from typing import Any

from lambdalab.charts import column_chart, resample, strip
from lambdalab.engine.simulation import CHART_COLUMNS, Simulation
from lambdalab.engine.units import format_duration
from lambdalab.tables import table

CHART_HEIGHT = 6
# The outcomes table: where each request ended, then what happened on the way (column, key).
_OUTCOMES_ENDED = [
    ("succeeded", "succeeded"),
    ("failed", "failed"),
    ("throttled", "throttled"),
    ("dropped", "dropped"),
    ("in flight", "in_flight"),
    ("denied", "denied"),
]
_OUTCOMES_AFTER = [
    ("timed out", "timed_out"),
    ("retried", "retried"),
    ("to DLQ", "to_dlq"),
    ("on failure", "to_on_failure"),
    ("on success", "to_on_success"),
]
THROTTLE_LABEL = "429s"
WINDOWS_SHOWN = 12  # closed windows whose record counts the text report lists
TENANTS_SHOWN = 10  # rows of a function's tenants in the text report (the JSON has 100)


def _durable(durable: dict[str, Any]) -> list[str]:
    """Durable functions: what became of the executions, what their invocations and operations cost."""
    lines = [
        "Durable executions (each runs over several invocations; a suspended one costs no compute)",
        *table(
            [
                "function",
                "started",
                "succeeded",
                "failed",
                "timed out",
                "running",
                "dedup.",
                "rejected",
                "invocations",
                "replays",
                "operations",
                "retries",
                "durable USD",
            ],
            [
                [
                    name,
                    d["executions"]["started"],
                    d["executions"]["succeeded"],
                    d["executions"]["failed"],
                    d["executions"]["timed_out"],
                    d["executions"]["running"],
                    d["starts"]["deduplicated"],
                    d["starts"]["rejected"],
                    d["invocations"],
                    d["replays"],
                    d["operations"]["billed"],
                    d["operations"]["retries"],
                    f"{sum(d['cost'].values()):.6f}",
                ]
                for name, d in durable.items()
            ],
        ),
    ]
    for name, d in durable.items():
        c = d["callbacks"]
        if any(c.values()):
            lines.append(
                f"  {name}'s callbacks: {c['completed']} completed, {c['failed']} failed, "
                f"{c['timed_out']} timed out, {c['rejected']} refused (CallbackTimeoutException)"
            )
        errors: dict[str, int] = {}
        for execution in d["history"]:
            if execution["error"]:
                errors[execution["error"]] = errors.get(execution["error"], 0) + 1
        if errors:
            listed = ", ".join(f"{count} x {error}" for error, count in sorted(errors.items()))
            lines.append(f"  {name}'s failed executions among the first {len(d['history'])}: {listed}")
    return lines


def render(sim: Simulation, report: dict[str, Any]) -> str:
    scenario = sim.scenario
    out = [
        f"{scenario.name}  (seed {report['seed']}, {format_duration(report['virtual_time_s'])} of virtual time, "
        f"{report['engine']['events']:,} engine events)"
    ]
    if scenario.description:  # its first paragraph: what to watch
        out += ["", *("  " + line for line in scenario.description.split("\n\n")[0].splitlines())]
    functions = report["functions"]
    out += [
        "",
        "Functions",
        *table(
            [
                "function",
                "requests",
                "invocations",
                "errors",
                "throttles",
                "cold starts",
                "p50 ms",
                "p99 ms",
                "max ms",
                "peak conc.",
                "cost USD",
            ],
            [
                [
                    name,
                    f["outcomes"]["requests"],
                    f["metrics"]["Invocations"],
                    f["metrics"]["Errors"],
                    f["metrics"]["Throttles"],
                    f["metrics"]["ColdStarts"],
                    f["metrics"]["Duration"]["p50"],
                    f["metrics"]["Duration"]["p99"],
                    f["metrics"]["Duration"]["max"],
                    f["metrics"]["ConcurrentExecutions"],
                    f"{f['metrics']['CostUSD']:.6f}",
                ]
                for name, f in functions.items()
            ],
        ),
    ]
    # A request stopped by recursive loop detection is `rejected`: a scenario whose code sends has the column.
    ended = _OUTCOMES_ENDED + ([("rejected", "rejected")] if "recursion" in report else [])
    outcomes = [(n, f["outcomes"]) for n, f in functions.items()]
    out += [
        "",
        f"Outcomes (every request ends in exactly one of the first {'seven' if len(ended) == 7 else 'six'})",
        *table(
            ["function", *(header for header, _ in ended + _OUTCOMES_AFTER)],
            [[name, *(o[key] for _, key in ended + _OUTCOMES_AFTER)] for name, o in outcomes],
        ),
    ]
    if any(f["metrics"]["AsyncEventsReceived"] for f in functions.values()):
        out += [
            "",
            "Asynchronous invocation",
            *table(
                ["function", "received", "max age ms", "dropped", "DLQ errors", "dest. failures"],
                [
                    [
                        name,
                        f["metrics"]["AsyncEventsReceived"],
                        f["metrics"]["AsyncEventAge"],
                        f["metrics"]["AsyncEventsDropped"],
                        f["metrics"]["DeadLetterErrors"],
                        f["metrics"]["DestinationDeliveryFailures"],
                    ]
                    for name, f in functions.items()
                    if f["metrics"]["AsyncEventsReceived"]
                ],
            ),
        ]
    if "recursion" in report:
        out += ["", *_recursion(sim, report)]
    durable = {name: f["durable"] for name, f in functions.items() if "durable" in f}
    if durable:
        out += ["", *_durable(durable)]
    out += [
        "",
        "Environments",
        *table(
            ["function", "created", "most alive", "avg alive", "avg busy"],
            [
                [name, e["created"], e["max"], e["time_average"], e["busy_time_average"]]
                for name, e in ((n, f["environments"]) for n, f in functions.items())
            ],
        ),
    ]
    out += _managed_instances(report)
    out += _extensions(functions)
    out += _calls(functions)
    isolated = {name: f["tenants"] for name, f in functions.items() if "tenants" in f}
    if isolated:
        out += ["", "Tenant isolation (each environment serves one tenant)"]
        out += table(
            ["function", "tenants", "envs created", "most live", "live limit", "no tenant id", "env fee USD"],
            [
                [
                    name,
                    t["seen"],
                    t["environments_created"],
                    t["max_live_environments"],
                    t["live_environments_limit"],
                    t["rejected"],
                    f"{functions[name]['cost']['tenant_environments_usd']:.6f}",
                ]
                for name, t in isolated.items()
            ],
        )
        for name, t in isolated.items():
            shown = list(t["by_tenant"].items())[:TENANTS_SHOWN]
            rows = [[tenant, c["requests"], c["invocations"], c["cold_starts"]] for tenant, c in shown]
            more = t["seen"] - len(shown)
            out += ["", f"Tenants of {name}" + (f" (the first {len(shown)} seen; {more:,} more)" if more else "")]
            out += table(["tenant", "requests", "invocations", "cold starts"], rows)
    if report["queues"]:
        out += [
            "",
            "Queues",
            *table(
                ["queue", "sent", "visible", "oldest age ms"],
                [
                    [
                        name,
                        q["NumberOfMessagesSent"],
                        q["ApproximateNumberOfMessagesVisible"],
                        q["ApproximateAgeOfOldestMessage"],
                    ]
                    for name, q in report["queues"].items()
                ],
            ),
        ]
    if report["streams"]:
        out += [
            "",
            "Streams (where each record is at the end)",
            *table(
                [
                    "stream",
                    "shards",
                    "records",
                    "processed",
                    "on failure",
                    "discarded",
                    "expired",
                    "in flight",
                    "unread",
                    "max IteratorAge ms",
                ],
                [
                    [
                        name,
                        st["shards"],
                        st["IncomingRecords"],
                        *(
                            st["records"].get(k, 0)
                            for k in ("processed", "to_on_failure", "discarded", "expired", "in_flight", "unread")
                        ),
                        st["IteratorAge"] or 0,
                    ]
                    for name, st in report["streams"].items()
                ],
            ),
        ]
        out += [_windows(name, st["windows"]) for name, st in report["streams"].items() if "windows" in st]
    if "event_source_mappings" in report:
        out += ["", *_mappings(report["event_source_mappings"])]
    for name in functions:
        out += ["", *_charts(sim, name, report)]
    account = report["account"]
    tier = account["free_tier"]
    out += [
        "",
        f"Account: peak concurrency {account['ConcurrentExecutions']:,} of {account['concurrency_limit']:,}; "
        f"unreserved peak {account['UnreservedConcurrentExecutions']:,} of {account['unreserved_capacity']:,}",
        f"Cost of this run: ${account['CostUSD']:.6f} before the free tier "
        f"(this run uses {tier['requests_share']:.4%} of a month's free requests and "
        f"{tier['gb_seconds_share']:.4%} of its free GB-seconds; the free tier is not subtracted)",
    ]
    for trigger, answers in report.get("edge", {}).items():
        counts = ", ".join(f"{count:,} x {code}" for code, count in answers["status"].items() if count)
        out += ["", f"CloudFront's answers on {trigger} ({answers['function']}): {counts or 'none yet'}"]
    for deployment in report.get("deployments", []):
        moves = ", ".join(f"{step['weight']:.0%} at {format_duration(step['t_s'])}" for step in deployment["steps"])
        out += [
            "",
            f"Deployment of {deployment['function']}:{deployment['alias']} to version {deployment['to']} "
            f"({deployment['config']}): {deployment['status']}"
            + (f"; shares to the new version: {moves}" if moves else ""),
        ]
        out += [f"  alarm: {step['alarm']}, so the alias went back" for step in deployment["steps"] if "alarm" in step]
    if report["expectations"]:
        out += ["", "Expectations"]
        for e in report["expectations"]:
            subject = next(
                (
                    f" of {key if key != 'function' else ''} {e[key]}".replace("  ", " ")
                    for key in ("function", "queue", "stream", "mapping")
                    if key in e
                ),
                "",
            )
            subject += f" version {e['version']}" if "version" in e else ""
            line = (
                f"  {'PASS' if e['passed'] else 'FAIL'}  {e['metric']}{subject} {e['op']} {e['value']:g}  "
                f"(actual {e['actual']})"
            )
            out.append(line + (f"  {e['why']}" if e.get("why") and not e["passed"] else ""))
    return "\n".join(out) + "\n"


def _extensions(functions: dict[str, Any]) -> list[str]:
    """Functions with extensions: the Init they share, their work after each handler (billed, the environment
    still busy) and their Shutdown."""
    rows = [
        [
            name,
            _ms(f["metrics"]["InitDuration"]["p50"]),
            _ms(f["metrics"]["PostRuntimeExtensionsDuration"]["p50"]),
            _ms(f["metrics"]["PostRuntimeExtensionsDuration"]["max"]),
            f["environments"]["shut_down"],
            _ms(f["environments"]["shutdown_duration"]["max"]),
        ]
        for name, f in functions.items()
        if "PostRuntimeExtensionsDuration" in f["metrics"]
    ]
    if not rows:
        return []
    return [
        "",
        "Extensions (Init Duration includes theirs; post-invoke time is billed, the environment busy; "
        "Shutdown unbilled)",
        *table(
            ["function", "init p50 ms", "post-invoke p50 ms", "post-invoke max ms", "shut down", "shutdown ms"],
            rows,
        ),
    ]


def _calls(functions: dict[str, Any]) -> list[str]:
    """Functions whose model calls out over the network: each target, and the calls that found no route."""
    rows = [
        [name, to, c["made"], c["blocked"], "yes" if c["route"] else "NO: waits until the timeout"]
        for name, f in functions.items()
        for to, c in f.get("calls", {}).items()
    ]
    if not rows:
        return []
    return [
        "",
        "Network calls (from a VPC: the internet through a NAT gateway, AWS services through it or a VPC endpoint)",
        *table(["function", "to", "made", "no route", "route"], rows),
    ]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _managed_instances(report: dict[str, Any]) -> list[str]:
    """Managed Instances: each function's environments, slots and CPU, why it was throttled, and what its
    capacity provider's instances cost."""
    managed = {name: f for name, f in report["functions"].items() if "managed_instances" in f}
    if not managed:
        return []
    out = [
        "",
        "Managed Instances (environments serve many requests; no cold starts: a request without a free slot gets 429)",
        *table(
            ["function", "envs start", "max", "end", "slots/env", "most slots busy", "CPU avg %", "CPU max %"],
            [
                [
                    name,
                    m["environments"]["start"],
                    m["environments"]["max"],
                    m["environments"]["end"],
                    m["slots"]["per_environment"],
                    m["slots"]["max_in_use"],
                    m["cpu"]["average"],
                    m["cpu"]["max"],
                ]
                for name, m in ((n, f["managed_instances"]) for n, f in managed.items())
            ],
        ),
        "",
        *table(
            ["function", "throttles", "slots full", "CPU", "memory", "disk"],
            [
                [
                    name,
                    f["metrics"]["Throttles"],
                    f["metrics"]["ConcurrencyThrottles"],
                    f["metrics"]["CPUThrottles"],
                    f["metrics"]["MemoryThrottles"],
                    f["metrics"]["DiskThrottles"],
                ]
                for name, f in managed.items()
            ],
        ),
        "",
        "Capacity providers (billed per instance-second, 60 s minimum, plus a 15 % management fee; no GB-seconds)",
        *table(
            ["provider", "instance", "start", "max", "end", "instance-hours", "CPU avg %", "EC2 USD", "fee USD"],
            [
                [
                    name,
                    p["instance_type"],
                    p["instances"]["start"],
                    p["instances"]["max"],
                    p["instances"]["end"],
                    p["instance_hours"],
                    p["CPUUtilization"]["average"],
                    f"{p['cost']['ec2_usd']:.6f}",
                    f"{p['cost']['management_fee_usd']:.6f}",
                ]
                for name, p in report["capacity_providers"].items()
            ],
        ),
    ]
    return out


def _windows(stream: str, windows: dict[str, Any]) -> str:
    """One line on a stream mapping's tumbling windows."""
    counts = windows["records"]
    shown = ", ".join(f"{n:,}" for n in counts[:WINDOWS_SHOWN]) + (", ..." if len(counts) > WINDOWS_SHOWN else "")
    return (
        f"Tumbling windows on {stream}: {windows['closed']:,} closed over its shards "
        f"({windows['terminated_early']:,} ended early by a state over 1 MB) "
        f"by {windows['final_invocations']:,} final invocation(s)"
        + (f"; records per closed window: {shown}" if counts else "")
    )


def _recursion(sim: Simulation, report: dict[str, Any]) -> list[str]:
    """Recursive loop detection: what Lambda stopped, for a scenario whose code sends (engine/recursion.py)."""
    recursion = report["recursion"]
    functions = report["functions"]
    return [
        f"Recursive loop detection: {recursion['loops_stopped']:,} request chain(s) stopped, "
        f"{recursion['invocations_dropped']:,} invocation(s) dropped (a function's 17th in one chain)",
        *table(
            ["function", "recursive loop", "RecursiveInvocationsDropped", "rejected"],
            [
                [
                    name,
                    sim.functions[name].config.recursive_loop,
                    "not emitted" if (dropped := f["metrics"]["RecursiveInvocationsDropped"]) is None else dropped,
                    f["outcomes"]["rejected"],
                ]
                for name, f in functions.items()
            ],
        ),
    ]


def _mappings(mappings: list[dict[str, Any]]) -> list[str]:
    """Each mapping's events (with what its filters turned away, when they did) and, in provisioned mode, its
    pollers and what they cost."""
    filtering = any(m["events"]["filtered"] for m in mappings)
    rows = []
    for i, m in enumerate(mappings):
        pollers = m.get("pollers")
        events = m["events"]
        rows.append(
            [
                i,
                m["source"],
                m["function"],
                events["polled"],
                *([events["filtered"]] if filtering else []),
                events["invoked"],
                f"{pollers['minimum']}-{pollers['maximum']}" if pollers else "standard",
                pollers["max_active"] if pollers else "",
                f"{pollers['poller_hours']:.4f}" if pollers else "",
                f"{m['cost_usd']:.6f}",
            ]
        )
    return [
        "Event source mappings (filtered: matched none of the mapping's filters, so never invoked; provisioned "
        "pollers are billed per poller-hour, the minimum always)"
        if filtering
        else "Event source mappings (provisioned pollers are billed per poller-hour, the minimum always)",
        *table(
            [
                "#",
                "source",
                "function",
                "polled",
                *(["filtered"] if filtering else []),
                "invoked",
                "pollers",
                "most pollers",
                "poller-hours",
                "cost USD",
            ],
            rows,
        ),
    ]


def _charts(sim: Simulation, name: str, report: dict[str, Any]) -> list[str]:
    series = sim.sampler.function_series(name)  # a function with versions: all of them
    fn = sim.functions[name]
    concurrency = resample(series["ConcurrentExecutions"], CHART_COLUMNS)
    all_throttles = series["Throttles"]
    throttles = resample(all_throttles, CHART_COLUMNS, sum)
    limits: dict[str, float] = {}
    if fn.config.managed_instances is not None:
        managed = report["functions"][name]["managed_instances"]
        limits[f"slots at most {managed['slots']['max']}"] = managed["slots"]["max"]
    elif fn.reserved is not None:
        limits[f"reserved {fn.reserved}"] = fn.reserved
    else:
        limits[f"unreserved pool {sim.account.unreserved_capacity}"] = sim.account.unreserved_capacity
    if fn.config.provisioned_concurrency:
        limits[f"provisioned {fn.config.provisioned_concurrency}"] = fn.config.provisioned_concurrency
    # Keep a far-away account limit from flattening a small function's chart.
    peak = max(concurrency, default=0)
    shown = {k: v for k, v in limits.items() if v <= max(peak * 2, 10) or k.startswith("reserved")}
    lines = [
        f"Concurrent executions of {name} (peak {report['functions'][name]['metrics']['ConcurrentExecutions']}"
        + "".join(f", {k}" for k in limits if k not in shown)
        + ")"
    ]
    gutter = len(THROTTLE_LABEL)  # every row starts with a label this wide, then the axis
    lines += ["  " + row for row in column_chart(concurrency, CHART_HEIGHT, shown, label_width=gutter)]
    total = sum(all_throttles)
    if total:
        lines.append(f"  {THROTTLE_LABEL} ┆{strip(throttles)}  throttles ({total:,} in all)")
    lines.append("  " + " " * (gutter + 2) + _axis(0.0, sim.now, len(concurrency)))
    ages = [a or 0 for a in series.get("IteratorAge", ())]
    if any(ages):
        ages = resample(ages, CHART_COLUMNS)
        lines += [
            f"IteratorAge of {name}, ms (the age of each batch's last record when it ends; rising: falling behind)"
        ]
        lines += ["  " + row for row in column_chart(ages, CHART_HEIGHT, label_width=gutter)]
        lines.append("  " + " " * (gutter + 2) + _axis(0.0, sim.now, len(ages)))
    return lines


def _axis(start: float, end: float, width: int) -> str:
    left, right = format_duration(start), format_duration(end)
    return left + " " * max(1, width - len(left) - len(right)) + right
