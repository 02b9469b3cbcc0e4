"""Properties of any run: nothing is lost (every request ends in exactly one outcome), the counts are
consistent with CloudWatch's meanings and the limits, and a run repeats byte for byte
(shared/spec/scenarios.md, "Guarantees")."""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdalab.engine import Simulation, parse_scenario
from lambdalab.engine.report import build_report

ACCOUNT_CONCURRENCY = 1000

ms = st.integers(min_value=0, max_value=3000).map(lambda v: f"{v}ms")
positive_ms = st.integers(min_value=1, max_value=6000).map(lambda v: f"{v}ms")

duration_model = st.one_of(
    positive_ms,
    st.tuples(st.integers(100, 3000), st.integers(0, 100)).map(
        lambda t: {"mean": f"{t[0]}ms", "jitter": f"{t[0] * t[1] // 100}ms"}
    ),
    st.integers(10, 2000).map(lambda v: {"dist": "exponential", "mean": f"{v}ms"}),
    st.tuples(st.integers(10, 1000), st.integers(1, 5000)).map(
        lambda t: {"dist": "uniform", "min": f"{t[0]}ms", "max": f"{t[0] + t[1]}ms"}
    ),
    st.tuples(st.integers(10, 500), st.integers(1, 3000)).map(
        lambda t: {"dist": "lognormal", "median": f"{t[0]}ms", "p99": f"{t[0] + t[1]}ms"}
    ),
)
init_model = st.one_of(ms, st.sampled_from(["11s", "12500ms"]))  # sometimes over the 10 s Init limit

error_rule = st.fixed_dictionaries(
    {},
    optional={
        "rate": st.floats(0, 1),
        "every": st.integers(1, 5),
        "on_cold_start": st.booleans(),
        "type": st.sampled_from(["Exception", "ValueError", "Runtime.ExitError"]),
        "when": st.sampled_from(
            [
                {"path": "$.kind", "equals": "a"},
                {"path": "$.kind", "in": ["a", "b"]},
                {"path": "$.missing", "exists": False},
            ]
        ),
    },
).filter(bool)


durable_step = st.builds(
    lambda i, d, how, attempts, on_error: {
        "step": f"s{i}",
        "duration": d,
        **how,
        "retry": {"attempts": attempts, "max": "5s"},
        "on_error": on_error,
    },
    st.integers(0, 99),
    ms,
    st.one_of(
        st.just({}),
        st.floats(0, 1).map(lambda r: {"errors": {"rate": r}}),
        st.integers(0, 4).map(lambda n: {"fails": n}),
    ),
    st.integers(1, 6),
    st.sampled_from(["fail", "continue"]),
)
durable_leaf = st.one_of(
    durable_step,
    st.integers(1, 30).map(lambda s: {"wait": "w", "for": f"{s}s"}),
    st.tuples(st.integers(1, 20), ms).map(lambda t: {"callback": "c", "timeout": f"{t[0]}s", "submitter": t[1]}),
)
durable_op = st.one_of(
    durable_leaf,
    st.lists(st.lists(durable_leaf, min_size=1, max_size=2), min_size=1, max_size=3).map(
        lambda branches: {"parallel": "p", "branches": branches}
    ),
    st.tuples(st.integers(1, 5), st.integers(1, 3), st.lists(durable_leaf, min_size=1, max_size=2)).map(
        lambda t: {"map": "m", "items": t[0], "max_concurrency": t[1], "do": t[2]}
    ),
)


@st.composite
def durable_function(draw) -> tuple[dict, list[dict]]:
    """A durable function `flow` with a drawn workflow, started by name (some names repeat), and callback answers."""
    fn = {
        "timeout": draw(st.integers(1, 15)),
        "behaviour": {"init": draw(ms), "duration": draw(positive_ms)},
        "durable": {
            "execution_timeout": f"{draw(st.integers(1, 300))}s",
            "steps": draw(st.lists(durable_op, min_size=1, max_size=4)),
        },
    }
    traffic = []
    for _ in range(draw(st.integers(1, 2))):
        item: dict = {
            "target": "flow:$LATEST",
            "invocation": draw(st.sampled_from(["sync", "async"])),
            "execution_name": draw(st.sampled_from(["x-{n}", "same"])),
            "events": [{"kind": "a"}, {"kind": "b"}][: draw(st.integers(1, 2))],
        }
        if draw(st.booleans()):
            item.update(rate=f"{draw(st.integers(1, 20))}/s", **{"for": f"{draw(st.integers(1, 10))}s"})
        else:
            item.update(burst=draw(st.integers(1, 50)), at=f"{draw(st.integers(0, 20))}s")
        traffic.append(item)
    if "'callback': 'c'" in str(fn["durable"]["steps"]):  # callback traffic names a callback of the workflow
        traffic.append(
            {
                "target": "callback:flow",
                "execution": "x-{n}",
                "callback": "c",
                "outcome": draw(st.sampled_from(["success", "failure", "heartbeat"])),
                "burst": draw(st.integers(1, 50)),
                "at": f"{draw(st.integers(0, 30))}s",
            }
        )
    return fn, traffic


@st.composite
def scenarios(draw) -> dict:
    names = draw(st.lists(st.sampled_from(["api", "worker", "img"]), min_size=1, max_size=3, unique=True))
    queues = {"dlq": {}, "failures": {}, "done": {}, "ordered.fifo": {"fifo": True}}
    functions: dict = {}
    traffic: list = []
    deployments: list = []
    # Some functions in tenant isolation mode: only traffic with tenant ids reaches them (no destinations,
    # mappings or provisioned concurrency).
    isolated = {name for name in names if draw(st.integers(0, 3)) == 0}
    for name in names:
        fn: dict = {
            "memory": draw(st.sampled_from([128, 256, 1024, 2048])),
            "timeout": draw(st.integers(1, 15)),
            "idle_expiry": f"{draw(st.integers(1, 120))}s",
            "behaviour": {"init": draw(init_model), "duration": draw(duration_model)},
        }
        if draw(st.booleans()):
            fn["behaviour"]["errors"] = draw(st.lists(error_rule, min_size=1, max_size=2))
        if draw(st.integers(0, 9)) == 0:
            fn["behaviour"]["memory_used"] = fn["memory"] + 1
        if draw(st.booleans()):
            fn["behaviour"]["cold_start_extra"] = draw(ms)
        reserved = draw(st.one_of(st.none(), st.integers(0, 250)))  # at most 3 * 250 = 750: leaves >= 100
        if reserved is not None:
            fn["reserved_concurrency"] = reserved
        pc = draw(st.integers(0, min(reserved, 5) if reserved is not None else 5))
        if name in isolated:
            fn["tenant_isolation"] = True
            pc = 0
        if pc:
            fn["provisioned_concurrency"] = pc
        async_config = {}
        if draw(st.booleans()):
            async_config["maximum_retry_attempts"] = draw(st.integers(0, 2))
        if draw(st.booleans()):
            async_config["maximum_event_age"] = f"{draw(st.integers(60, 400))}s"
        # Destinations may also be functions further down the list (a chain, never a loop).
        later = [f"function:{other}" for other in names[names.index(name) + 1 :] if other not in isolated]
        on_failure = draw(st.sampled_from([None, "failures", "ordered.fifo", *later]))
        if on_failure:
            async_config["on_failure"] = on_failure
        on_success = draw(st.sampled_from([None, "done", "ordered.fifo", *later]))
        if on_success:
            async_config["on_success"] = on_success
        if async_config:
            fn["async"] = async_config
        if draw(st.booleans()):
            fn["dead_letter_queue"] = "dlq"
        if draw(st.integers(0, 3)) == 0:  # its code sends each record on: to a queue, or on down the chain
            sync_later = [{"target": target, "invocation": "sync"} for target in later]
            fn["behaviour"]["sends"] = draw(st.lists(st.sampled_from(["done", *later, *sync_later]), max_size=2))
            fn["behaviour"]["sends"] = fn["behaviour"]["sends"] or ["done"]
            fn["recursive_loop"] = draw(st.sampled_from(["Terminate", "Allow"]))
        targets = [name]
        if draw(st.integers(0, 3)) == 0:  # published versions, and an alias that splits traffic between them
            fn["versions"] = {"1": {"behaviour": {"init": draw(init_model), "duration": draw(duration_model)}}, "2": {}}
            # Provisioned concurrency lives on versions, all of it within the reservation.
            fn["versions"]["1"]["provisioned_concurrency"] = fn.pop("provisioned_concurrency", 0)
            room = 3 if reserved is None else reserved - fn["versions"]["1"]["provisioned_concurrency"]
            fn["versions"]["2"]["provisioned_concurrency"] = (
                0 if name in isolated else draw(st.integers(0, min(room, 3)))
            )
            fn["aliases"] = {"live": {"version": "1", "routing": {"2": draw(st.sampled_from([0.1, 0.5]))}}}
            targets += [f"{name}:live", f"{name}:2"]
            if draw(st.booleans()):  # CodeDeploy shifts the alias, and its alarm may roll it back
                fn["aliases"]["live"] = {"version": "1"}
                deployments.append(
                    {
                        "function": name,
                        "alias": "live",
                        "to": "2",
                        "start": f"{draw(st.integers(0, 30))}s",
                        "config": draw(
                            st.sampled_from(["Canary10Percent5Minutes", "Linear10PercentEvery1Minute", "AllAtOnce"])
                        ),
                        **({"alarm": {"errors_over": draw(st.integers(0, 5))}} if draw(st.booleans()) else {}),
                    }
                )
        functions[name] = fn
        first = names.index(name) == 0
        for _ in range(draw(st.integers(1 if first else 0, 2))):  # later ones may be fed by destinations alone
            item: dict = {
                "target": draw(st.sampled_from(targets)),
                "invocation": draw(st.sampled_from(["sync", "async"])),
            }
            if draw(st.booleans()):
                item["rate"] = f"{draw(st.integers(1, 40))}/s"
                item["for"] = f"{draw(st.integers(1, 20))}s"
                item["start"] = f"{draw(st.integers(0, 10))}s"
                if draw(st.booleans()):
                    item["arrivals"] = "poisson"
            else:
                item["burst"] = draw(st.integers(1, 400))
                item["at"] = f"{draw(st.integers(0, 20))}s"
            item["events"] = [{"kind": "a"}, {"kind": "b"}, {"kind": "c"}][: draw(st.integers(1, 3))]
            if name in isolated:  # a tenant id from the event (none at $.missing: refused), fixed, or in turn
                tenant = draw(st.sampled_from(["$.kind", "$.missing", "acme", 3, 200]))
                item["tenants" if isinstance(tenant, int) else "tenant"] = tenant
            traffic.append(item)
    if draw(st.integers(0, 2)) == 0:  # a durable function, its starts and its callbacks' answers
        functions["flow"], flow_traffic = draw(durable_function())
        traffic += flow_traffic
    mappings = []
    readers = [name for name in names if name not in isolated]
    if readers and draw(st.integers(0, 3)) == 0:  # a queue read by a function, with a dead-letter queue behind it
        queues["jobs"] = {"visibility_timeout": "30s", "max_receive_count": 2, "dead_letter": "jobs-dlq"}
        queues["jobs-dlq"] = {}
        # Provisioned pollers are not simulated beside code that sends (the builder refuses them together).
        code_sends = any(f["behaviour"].get("sends") for f in functions.values())
        for _ in range(draw(st.integers(1, 2))):  # a second mapping competes for the same messages
            minimum = draw(st.integers(2, 4))
            mappings.append(
                {
                    "source": "queue:jobs",
                    "function": draw(st.sampled_from(readers)),
                    "batch_size": draw(st.integers(1, 10)),
                    "report_batch_item_failures": draw(st.booleans()),
                    **({"batching_window": "1s"} if draw(st.booleans()) else {}),
                    **(
                        {"provisioned_pollers": {"minimum": minimum, "maximum": draw(st.integers(minimum, 12))}}
                        if not code_sends and draw(st.booleans())
                        else {}
                    ),
                }
            )
        provisioned = any("provisioned_pollers" in m for m in mappings)
        if not provisioned and draw(st.booleans()):  # the function reading the queue sends back to it: a loop
            looping = functions[mappings[-1]["function"]]
            looping["behaviour"]["sends"] = ["queue:jobs"]
            looping["recursive_loop"] = draw(st.sampled_from(["Terminate", "Allow"]))
        traffic.append(
            {
                "target": "queue:jobs",
                "rate": f"{draw(st.integers(1, 40))}/s",
                "for": "10s",
                "events": [{"kind": "a"}, {"kind": "b"}],
            }
        )
    return {
        "seed": draw(st.integers(0, 2**31)),
        "duration": f"{draw(st.integers(5, 240))}s",
        "account": {"concurrency": ACCOUNT_CONCURRENCY},
        "functions": functions,
        "queues": queues,
        "traffic": traffic,
        **({"deployments": deployments} if deployments else {}),
        **({"event_source_mappings": mappings} if mappings else {}),
    }


def run_report(data: dict, series_step: float | None = None) -> tuple[dict, str]:
    text = yaml.safe_dump(data, sort_keys=False)
    sim = Simulation(parse_scenario(text, name="generated.yaml"), series_step=series_step).run()
    report = build_report(sim)
    return report, json.dumps(report, sort_keys=False)


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios())
def test_every_request_ends_in_exactly_one_outcome_and_counts_are_consistent(data):
    report, _ = run_report(data)
    for name, fn in report["functions"].items():
        o, m, envs = fn["outcomes"], fn["metrics"], fn["environments"]
        config = data["functions"][name]
        assert o["requests"] == (
            o["succeeded"]
            + o["failed"]
            + o["throttled"]
            + o["denied"]
            + o["dropped"]
            + o["in_flight"]
            + o.get("deduplicated", 0)  # durable functions' starts
            + o.get("rejected", 0)  # stopped by recursive loop detection, or a durable start refused
        ), name
        if "recursion" in report:
            dropped = m["RecursiveInvocationsDropped"]
            refused_starts = fn.get("durable", {}).get("starts", {}).get("rejected", 0)  # a durable name taken
            stopped = o["rejected"] - refused_starts
            assert dropped is None if config.get("recursive_loop") == "Allow" else stopped <= dropped, name
        if "durable" in fn:  # every execution started is running or closed; only durable traffic reaches `flow`
            d = fn["durable"]
            e = d["executions"]
            assert e["started"] == e["running"] + e["succeeded"] + e["failed"] + e["timed_out"], name
            assert e["suspended"] <= e["running"] == o["in_flight"], name
            assert m["Invocations"] == d["invocations"] and d["invocations"] - d["replays"] <= e["started"], name
            assert d["operations"]["retries"] <= d["operations"]["step_attempts"], name
            assert d["operations"]["billed"] >= e["started"], name
        refused = fn.get("tenants", {}).get("rejected", 0)  # failed without running: no tenant id
        assert m["Invocations"] >= o["succeeded"] + o["failed"] - refused, name
        assert m["Errors"] <= m["Invocations"]
        assert o["timed_out"] <= m["Errors"]
        assert m["Throttles"] >= o["throttled"]
        assert m["AsyncEventsDropped"] == o["dropped"]
        assert m["AsyncEventsReceived"] <= o["requests"]
        assert o["retried"] <= 2 * m["AsyncEventsReceived"]
        assert m["ColdStarts"] <= m["Invocations"]
        assert (
            m["ProvisionedConcurrencyInvocations"] + m["ProvisionedConcurrencySpilloverInvocations"] <= m["Invocations"]
        )
        if "reserved_concurrency" in config:
            assert m["ConcurrentExecutions"] <= config["reserved_concurrency"]
        if config.get("dead_letter_queue"):
            assert o["to_dlq"] + m["DeadLetterErrors"] == o["dropped"]
        else:
            assert o["to_dlq"] == 0
        assert envs["max"] <= envs["created"]
        assert 0 <= envs["busy_time_average"] <= envs["time_average"] + 1e-9
        assert sum(v["Invocations"] for v in fn["by_version"].values()) == m["Invocations"], name
        assert sum(v["Errors"] for v in fn["by_version"].values()) == m["Errors"], name
        if config.get("tenant_isolation"):
            tenants = fn["tenants"]
            assert tenants["max_live_environments"] <= tenants["live_environments_limit"], name
            assert tenants["environments_created"] == envs["created"] <= m["ColdStarts"], name
            assert tenants["rejected"] <= o["failed"], name
            if tenants["seen"] <= 100:
                by_tenant = tenants["by_tenant"].values()
                assert sum(t["invocations"] for t in by_tenant) == m["Invocations"], name
                assert sum(t["cold_starts"] for t in by_tenant) == m["ColdStarts"], name
        else:
            assert "tenants" not in fn, name
    account = report["account"]
    assert account["ConcurrentExecutions"] <= ACCOUNT_CONCURRENCY
    assert account["UnreservedConcurrentExecutions"] <= account["unreserved_capacity"]
    assert report["queues"]["ordered.fifo"]["NumberOfMessagesSent"] == 0  # never a destination's or DLQ's target
    fed_otherwise = (
        {t["target"].partition(":")[0] for t in data["traffic"]}
        | {m["function"] for m in data.get("event_source_mappings", [])}
        | {  # what code sends to
            (send if isinstance(send, str) else send["target"]).partition(":")[2]
            for f in data["functions"].values()
            for send in f["behaviour"].get("sends", ())
        }
    )
    for name, fn in report["functions"].items():  # a function fed by destinations alone gets what they delivered
        routes = [
            (source, route)
            for source, f in data["functions"].items()
            for route in ("on_success", "on_failure")
            if (f.get("async") or {}).get(route) == f"function:{name}"
        ]
        if routes and name not in fed_otherwise:
            sent = sum(report["functions"][source]["outcomes"][f"to_{route}"] for source, route in routes)
            assert fn["outcomes"]["requests"] == fn["metrics"]["AsyncEventsReceived"] == sent, name
    if "recursion" in report:
        dropped = [f["metrics"]["RecursiveInvocationsDropped"] or 0 for f in report["functions"].values()]
        assert sum(dropped) == report["recursion"]["invocations_dropped"]
        assert report["recursion"]["loops_stopped"] <= report["recursion"]["invocations_dropped"]
    else:
        assert not any(f["behaviour"].get("sends") for f in data["functions"].values())
    if "jobs" in report["queues"]:  # every message is deleted, redriven, or still in the queue
        jobs, redriven = report["queues"]["jobs"], report["queues"]["jobs-dlq"]["NumberOfMessagesSent"]
        assert jobs["NumberOfMessagesSent"] == (
            jobs["NumberOfMessagesDeleted"]
            + redriven
            + jobs["ApproximateNumberOfMessagesVisible"]
            + jobs["ApproximateNumberOfMessagesNotVisible"]
        )
    for entry in report.get("event_source_mappings", []):  # several mappings, or provisioned ones
        assert entry["events"]["invoked"] <= entry["events"]["polled"]
        pollers = entry.get("pollers")
        if pollers:
            assert pollers["minimum"] <= pollers["max_active"] <= pollers["maximum"]
            assert pollers["poller_hours"] >= pollers["minimum"] * max(60.0, report["virtual_time_s"]) / 3600 - 1e-6
    if "event_source_mappings" in report:
        polled = sum(e["events"]["polled"] for e in report["event_source_mappings"])
        assert polled == report["queues"]["jobs"]["NumberOfMessagesReceived"]


@SETTINGS
@given(scenarios(), st.sampled_from([1.0, 2.5, 5.0]))
def test_series_add_up_to_the_totals(data, step):
    report, _ = run_report(data, series_step=step)
    for name, fn in report["functions"].items():
        m = fn["metrics"]
        series = report["series"]["functions"][name]
        assert sum(series["Invocations"]) == m["Invocations"], name
        assert sum(series["Throttles"]) == m["Throttles"], name
        assert sum(series["Errors"]) == m["Errors"], name
        assert sum(series["ColdStarts"]) == m["ColdStarts"], name
        assert max(series["ConcurrentExecutions"], default=0) == m["ConcurrentExecutions"], name
        for version, figures in series.get("by_version", {}).items():  # a function with versions: each of them too
            assert sum(figures["Invocations"]) == fn["by_version"][version]["Invocations"], (name, version)
            assert sum(figures["Errors"]) == fn["by_version"][version]["Errors"], (name, version)
    for index, figures in report["series"].get("event_source_mappings", {}).items():  # provisioned pollers per step
        assert max(figures["pollers"]) == report["event_source_mappings"][int(index)]["pollers"]["max_active"]


@SETTINGS
@given(scenarios())
def test_a_run_repeats_byte_for_byte(data):
    _, first = run_report(data)
    _, second = run_report(data)
    assert first == second
