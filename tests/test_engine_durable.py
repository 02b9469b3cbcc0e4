"""Durable functions: executions replayed over invocations, waits and callbacks in virtual time, the SDK's step
retries, execution names, timeouts, quotas and the operations billed (shared/reference/lambda-2026.md §2, §9.2)."""

from __future__ import annotations

import json
import time

import pytest

from lambdalab.engine.explain import sentence
from tests.engine_helpers import report_json, simulate

DAY = 86_400.0


def durable(steps: str, *, traffic: str = "", extra: str = "", duration: str = "10d") -> str:
    """A scenario with one durable function `f` running `steps`, started once at t=0 unless `traffic` is given."""
    traffic = traffic or '  - {target: f:$LATEST, invocation: async, burst: 1, at: 0s, execution_name: "e-{n}"}'
    return (
        f"duration: {duration}\n"
        "functions:\n"
        "  f:\n"
        "    timeout: 30s\n"
        "    behaviour: {init: 200ms, duration: 40ms}\n"
        "    durable:\n"
        "      execution_timeout: 30d\n"
        f"{extra}"
        "      steps:\n"
        f"{steps}\n"
        "traffic:\n"
        f"{traffic}\n"
    )


def steps(*lines: str) -> str:
    return "\n".join(f"        - {line}" for line in lines)


def run_of(text: str, **kw):
    return simulate(text, **kw)


def test_each_invocation_replays_and_a_three_day_wait_costs_no_compute():
    started = time.perf_counter()
    run = run_of(durable(steps("{step: a, duration: 100ms}", "{wait: w, for: 3d}", "{step: b, duration: 100ms}")))
    d = run.fn()["durable"]
    assert time.perf_counter() - started < 2  # three virtual days in (much) less than two wall seconds
    assert d["executions"] == {
        "started": 1,
        "running": 0,
        "suspended": 0,
        "succeeded": 1,
        "failed": 0,
        "timed_out": 0,
    }
    assert (d["invocations"], d["replays"]) == (2, 1)
    (execution,) = d["history"]
    assert execution["status"] == "SUCCEEDED" and execution["invocations"] == 2
    # The second invocation starts when the wait's timer fires, 3 days after the first one reached it (at 0.3 s:
    # Init 200 ms, then step a); its environment expired meanwhile, so it is cold again.
    first, second = run.times("invoke_start")
    assert first == pytest.approx(0.2) and second == pytest.approx(0.3 + 3 * DAY + 0.2)
    # Billed: Init + code + the steps each invocation ran; step a returns its stored result on replay.
    assert run.metrics()["BilledDurationMs"] == (200 + 100 + 40) + (200 + 100 + 40)
    assert execution["end_s"] == pytest.approx(0.3 + 3 * DAY + 0.2 + 0.14)
    # Operations: start 1 + step 1 + wait 1 + step 1 (PRICE's metering); by type as AWS names them.
    assert d["operations"]["billed"] == 4
    assert d["operations"]["by_type"] == {"EXECUTION": 1, "STEP": 2, "WAIT": 1, "CALLBACK": 0, "CONTEXT": 0}
    assert d["cost"]["operations_usd"] == pytest.approx(4 * 8.0 / 1e6)


def test_default_retries_are_the_sdks_six_attempts_with_jittered_backoff_and_then_step_error():
    """RetryPresets.default(): 6 attempts, the delay before retry n is ceil(U(0, min(5 * 2^(n-1), 60))), at least 1 s.
    Out of attempts, StepError fails the execution; the invocation itself returns normally (not in Errors)."""
    traffic = '  - {target: f:$LATEST, invocation: async, burst: 200, at: 0s, execution_name: "e-{n}"}'
    run = run_of(durable(steps("{step: charge, duration: 0, fails: 99}"), traffic=traffic))
    d = run.fn()["durable"]
    assert d["executions"]["failed"] == 200 and d["executions"]["succeeded"] == 0
    assert d["operations"]["step_attempts"] == 200 * 6 and d["operations"]["retries"] == 200 * 5
    assert d["invocations"] == 200 * 6 and d["operations"]["billed"] == 200 * (1 + 6)
    assert {h["error"] for h in d["history"]} == {"StepError"}
    assert run.metrics()["Errors"] == 0 and run.outcomes()["failed"] == 200
    suspends: dict[str, list[float]] = {}
    for t, data in run.of("durable_suspend"):
        # from the failed attempt's end: the invocation goes on for the code's 40 ms after it
        suspends.setdefault(data["execution"], []).append(data["until_s"] - (t - 0.04))
    delays = [gaps for gaps in suspends.values()]
    assert all(len(gaps) == 5 for gaps in delays)
    for n in range(1, 6):
        nth = [round(gaps[n - 1], 6) for gaps in delays]
        cap = min(5 * 2 ** (n - 1), 60)
        assert all(d == int(d) and 1 <= d <= cap for d in nth), (n, sorted(set(nth)))
        assert len(set(nth)) > cap // 2  # jittered over the range, not one fixed delay
    assert max(gaps[4] for gaps in delays) == 60  # the fifth retry is capped at 60 s, not 80


def test_a_step_that_fails_twice_succeeds_on_its_third_attempt():
    run = run_of(durable(steps("{step: charge, duration: 100ms, fails: 2, retry: {jitter: none}}")))
    d = run.fn()["durable"]
    assert d["executions"]["succeeded"] == 1
    assert (d["operations"]["step_attempts"], d["operations"]["retries"], d["operations"]["billed"]) == (3, 2, 4)
    # jitter none: 5 s, then 10 s after each failed attempt's end
    starts = run.times("invoke_start")
    assert [round(t - 0.1 - s, 6) for s, t in zip(starts, starts[1:])] == [5.0, 10.0]


def test_on_error_continue_lets_the_workflow_go_on():
    run = run_of(durable(steps("{step: a, fails: 9, retry: {attempts: 1}, on_error: continue}", "{step: b}")))
    d = run.fn()["durable"]
    assert d["executions"]["succeeded"] == 1 and d["operations"]["by_type"]["STEP"] == 2


def test_code_outside_operations_failing_fails_the_execution_without_an_invocation_error():
    text = durable(steps("{step: a}")).replace("duration: 40ms}", "duration: 40ms, errors: {rate: 1}}")
    run = run_of(text)
    d = run.fn()["durable"]
    assert d["executions"]["failed"] == 1 and d["history"][0]["error"] == "Exception"
    assert run.metrics()["Errors"] == 0 and d["invocations"] == 1


def test_callback_completed_by_traffic_or_timed_out():
    traffic = (
        '  - {target: f:$LATEST, invocation: async, burst: 3, at: 0s, execution_name: "e-{n}"}\n'
        "  - {target: callback:f, execution: e-1, callback: approve, at: 1h, burst: 1}\n"
        "  - {target: callback:f, execution: e-2, callback: approve, outcome: failure, at: 1h, burst: 1}\n"
        "  - {target: callback:f, execution: e-1, callback: approve, at: 3h, burst: 1}\n"
    )
    run = run_of(durable(steps("{callback: approve, timeout: 2h, submitter: 100ms}", "{step: ship}"), traffic=traffic))
    d = run.fn()["durable"]
    assert d["callbacks"] == {"completed": 1, "failed": 1, "timed_out": 1, "rejected": 1, "heartbeats": 0}
    by_name = {h["name"]: h for h in d["history"]}
    assert by_name["e-1"]["status"] == "SUCCEEDED" and by_name["e-1"]["end_s"] == pytest.approx(3600 + 0.2 + 0.04)
    assert (by_name["e-2"]["status"], by_name["e-2"]["error"]) == ("FAILED", "CallbackExternalError")
    assert (by_name["e-3"]["status"], by_name["e-3"]["error"]) == ("FAILED", "CallbackTimeoutError")
    # timed out 2 h after its creation (at 0.2 s, after Init), then a cold invocation (200 ms Init, 40 ms) fails it
    assert by_name["e-3"]["end_s"] == pytest.approx(2 * 3600 + 0.2 + 0.2 + 0.04)
    # wait_for_callback is billed 3 operations: a child context, the callback and the submitter's step
    assert by_name["e-1"]["operations"] == 1 + 3 + 1
    assert d["operations"]["by_type"] == {"EXECUTION": 3, "STEP": 3 + 1, "WAIT": 0, "CALLBACK": 3, "CONTEXT": 3}
    (rejected,) = [data for _, data in run.of("durable_callback") if not data["accepted"]]
    assert rejected["execution"] == "e-1"


def test_heartbeats_keep_a_callback_alive_past_its_heartbeat_timeout():
    traffic = (
        '  - {target: f:$LATEST, invocation: async, burst: 2, at: 0s, execution_name: "e-{n}"}\n'
        "  - {target: callback:f, execution: e-1, callback: ok, outcome: heartbeat, rate: 1/m, for: 1h}\n"
        "  - {target: callback:f, execution: e-1, callback: ok, at: 1h, burst: 1}\n"
    )
    run = run_of(durable(steps("{callback: ok, heartbeat_timeout: 5m}"), traffic=traffic))
    by_name = {h["name"]: h for h in run.fn()["durable"]["history"]}
    assert by_name["e-1"]["status"] == "SUCCEEDED"
    assert by_name["e-2"]["error"] == "CallbackTimeoutError" and by_name["e-2"]["end_s"] < 400


def test_parallel_branches_and_map_items_run_concurrently_within_the_invocation():
    run = run_of(
        durable(
            steps(
                "{parallel: ship, branches: [[{step: pack, duration: 1s}], [{step: label, duration: 200ms}]]}",
                "{map: lines, items: 10, max_concurrency: 5, do: [{step: reserve, duration: 50ms}]}",
            )
        )
    )
    d = run.fn()["durable"]
    assert d["invocations"] == 1 and d["executions"]["succeeded"] == 1
    # the longest branch (1 s), then two waves of five 50 ms items, then the code's 40 ms
    assert run.metrics()["Duration"]["max"] == pytest.approx(1000 + 100 + 40)
    # parallel 1 + 2 branches + 2 steps; map 1 + 10 items + 10 steps; start 1
    assert d["operations"]["billed"] == 1 + (1 + 2 + 2) + (1 + 10 + 10)
    assert d["operations"]["by_type"]["CONTEXT"] == 1 + 2 + 1 + 10


def test_the_specs_order_workflow_bills_its_known_operations():
    """start 1, charge 1 (no failures), wait 1, callback 3, parallel 1 + 2 + 2 steps, map 1 + 10 + 10 steps."""
    traffic = (
        '  - {target: f:$LATEST, invocation: async, burst: 1, at: 0s, execution_name: "order-{n}"}\n'
        '  - {target: callback:f, execution: "order-{n}", callback: approve, burst: 1, at: 4d}\n'
    )
    run = run_of(
        durable(
            steps(
                "{step: charge, duration: 300ms, size: 1KB}",
                "{wait: cool-off, for: 3d}",
                "{callback: approve, timeout: 7d, heartbeat_timeout: 2d, submitter: 100ms}",
                "{parallel: ship, branches: [[{step: pack, duration: 1s}], [{step: label, duration: 200ms}]]}",
                "{map: lines, items: 10, max_concurrency: 5, do: [{step: reserve, duration: 50ms}]}",
            ),
            traffic=traffic,
        )
    )
    d = run.fn()["durable"]
    assert d["executions"]["succeeded"] == 1 and d["operations"]["billed"] == 32
    assert (d["invocations"], d["replays"]) == (3, 2)  # before the wait, at the callback, after it
    assert d["data_written_bytes"] == 2 + 1024  # the event "{}" and the charge's result


def test_execution_names_deduplicate_the_same_event_and_reject_another():
    traffic = (
        "  - {target: f:$LATEST, invocation: async, burst: 2, at: 0s, execution_name: same, event: {a: 1}}\n"
        "  - {target: f:$LATEST, invocation: async, burst: 1, at: 1m, execution_name: same, event: {a: 2}}\n"
        # closed by then, and still within its retention: the name stays taken
        "  - {target: f:$LATEST, invocation: async, burst: 1, at: 2h, execution_name: same, event: {a: 2}}\n"
    )
    run = run_of(durable(steps("{wait: w, for: 1h}"), traffic=traffic))
    d = run.fn()["durable"]
    assert d["starts"]["new"] == 1 and d["starts"]["deduplicated"] == 1 and d["starts"]["rejected"] == 2
    o = run.outcomes()
    assert (o["requests"], o["succeeded"], o["deduplicated"], o["rejected"]) == (4, 1, 1, 2)
    (refused, *_) = [data for _, data in run.of("durable_start", start="rejected")]
    assert refused["error"] == "DurableExecutionAlreadyStartedException"
    reused = run_of(durable(steps("{wait: w, for: 1h}"), traffic=traffic, extra="      reuse_closed_names: true\n"))
    assert reused.fn()["durable"]["starts"]["new"] == 2


def test_an_execution_past_its_timeout_is_timed_out():
    text = durable(steps("{wait: w, for: 2d}", "{step: a}"))
    run = run_of(text.replace("execution_timeout: 30d", "execution_timeout: 1d"))
    d = run.fn()["durable"]
    assert d["executions"]["timed_out"] == 1 and d["history"][0]["end_s"] == pytest.approx(DAY)
    assert run.outcomes()["failed"] == 1 and d["invocations"] == 1


def test_an_invocation_past_the_function_timeout_is_invoked_again_then_the_execution_fails():
    run = run_of(durable(steps("{step: slow, duration: 5s}")).replace("timeout: 30s", "timeout: 3s"))
    d = run.fn()["durable"]
    # the first invocation and maximum_retry_attempts (2) more, each replaying the cut step
    assert d["invocations"] == 3 and run.metrics()["Errors"] == 3
    assert d["history"][0]["error"] == "Sandbox.Timedout" and d["operations"]["step_attempts"] == 3


def test_past_the_operations_quota_the_execution_fails():
    run = run_of(
        durable(steps("{map: m, items: 10, do: [{step: s}]}")).replace(
            "duration: 10d", "duration: 10d\naccount: {durable_max_operations: 10}"
        )
    )
    assert run.fn()["durable"]["history"][0]["error"] == "DurableExecutionLimitExceeded"


def test_a_synchronous_caller_stops_waiting_after_fifteen_minutes_and_the_execution_goes_on():
    traffic = '  - {target: f:$LATEST, invocation: sync, burst: 1, at: 0s, execution_name: "e-{n}"}'
    run = run_of(durable(steps("{wait: w, for: 1h}"), traffic=traffic))
    d = run.fn()["durable"]
    assert d["starts"]["sync_callers_timed_out"] == 1 and d["executions"]["succeeded"] == 1


def test_series_count_running_and_suspended_executions():
    run = run_of(durable(steps("{wait: w, for: 1d}")), series_step=DAY / 2)
    series = run.report["series"]["functions"]["f"]
    assert series["durable_executions_running"][:3] == [1, 1, 0]
    assert series["durable_executions_suspended"][:3] == [1, 1, 0]


def test_trace_events_have_sentences():
    run = run_of(durable(steps("{wait: w, for: 1h}")))
    kinds = [k for _, k, _ in run.events if k.startswith("durable_")]
    assert kinds == ["durable_start", "durable_suspend", "durable_resume", "durable_end"]
    for t, kind, data in run.events:
        if kind.startswith("durable_"):
            assert "durable execution e-1 of f" in sentence(kind, t, data, run.sim.scenario)


def test_same_seed_same_report_and_another_seed_other_retries():
    traffic = '  - {target: f:$LATEST, invocation: async, rate: 5/s, for: 10s, execution_name: "e-{n}"}'
    text = durable(steps("{step: a, errors: {rate: 0.5}}", "{wait: w, for: 1d}"), traffic=traffic)
    assert report_json(text) == report_json(text)
    assert json.loads(report_json(text, seed=1)) != json.loads(report_json(text))


@pytest.mark.parametrize(
    "completion, status, billed",
    [
        # a failing branch fails an all_successful parallel at once (its StepError)
        ("all_successful", "FAILED", 1 + (1 + 2) + 1 + 1),
        # one success is enough; the failing branch is tolerated
        ("first_successful", "SUCCEEDED", 1 + (1 + 2) + 1 + 1 + 1),
        # every branch ran to its end, whatever it returned
        ("all_completed", "SUCCEEDED", 1 + (1 + 2) + 1 + 1 + 1),
    ],
)
def test_parallel_completion_policies(completion, status, billed):
    branches = "[[{step: ok, duration: 1s}], [{step: bad, fails: 9, retry: {attempts: 1}}]]"
    run = run_of(durable(steps(f"{{parallel: p, completion: {completion}, branches: {branches}}}", "{step: after}")))
    (execution,) = run.fn()["durable"]["history"]
    assert execution["status"] == status and execution["operations"] == billed


def test_a_branch_that_waits_suspends_the_parallel_and_the_others_are_not_run_again():
    branches = "[[{step: a, duration: 1s}], [{wait: w, for: 1h}, {step: b, duration: 2s}]]"
    run = run_of(durable(steps(f"{{parallel: p, branches: {branches}}}")))
    d = run.fn()["durable"]
    assert d["executions"]["succeeded"] == 1 and d["invocations"] == 2
    assert d["operations"]["step_attempts"] == 2  # step a ran once; on replay it returns its result
    first, second = (data["duration_ms"] for _, data in run.of("invoke_end"))
    assert (first, second) == (pytest.approx(1000 + 40), pytest.approx(2000 + 40))


def test_an_invocation_cut_by_the_timeout_keeps_the_checkpoints_it_reached():
    run = run_of(
        durable(steps("{step: a, duration: 2s}", "{step: b, duration: 2s}", "{step: c, duration: 2s}")).replace(
            "timeout: 30s", "timeout: 5s"
        )
    )
    d = run.fn()["durable"]
    # 1st invocation: a and b checkpointed, c cut at 5 s; the 2nd replays a and b at once and runs c
    assert d["executions"]["succeeded"] == 1 and d["invocations"] == 2
    assert d["operations"]["step_attempts"] == 4 and run.metrics()["Errors"] == 1


def test_data_written_and_retained_are_priced_per_gb():
    run = run_of(
        durable(steps("{map: m, items: 1024, do: [{step: big, size: 1MB}]}"), extra="      retention: 1d\n").replace(
            "duration: 10d", "duration: 10d\naccount: {durable_max_data: 2GB}"
        )
    )
    d = run.fn()["durable"]
    gb = (2**30 + 2) / 2**30  # the 1,024 steps' results and the event "{}"
    assert d["cost"]["data_written_usd"] == pytest.approx(0.25 * gb, rel=1e-6)
    # kept from the start until a day after the close (0.24 s later), at $0.15 per GB-month of 730 hours
    assert d["cost"]["data_retained_usd"] == pytest.approx(0.15 * gb * (86_400 + 0.24) / (730 * 3600), abs=1e-8)


def test_a_name_is_free_again_once_the_closed_executions_retention_ends():
    traffic = (
        "  - {target: f:$LATEST, invocation: async, burst: 1, at: 0s, execution_name: same, event: {a: 1}}\n"
        "  - {target: f:$LATEST, invocation: async, burst: 1, at: 12h, execution_name: same, event: {a: 1}}\n"
        "  - {target: f:$LATEST, invocation: async, burst: 1, at: 2d, execution_name: same, event: {a: 2}}\n"
    )
    run = run_of(durable(steps("{step: a}"), traffic=traffic, extra="      retention: 1d\n"))
    starts = run.fn()["durable"]["starts"]
    assert (starts["new"], starts["deduplicated"], starts["rejected"]) == (2, 1, 0)


def test_a_queue_mapping_starts_an_unnamed_execution_per_batch_and_waits_for_it():
    text = durable(steps("{step: a}", "{wait: w, for: 1m}", "{step: b}"), traffic="  - {target: queue:jobs, burst: 3}")
    text = text.replace("functions:", "queues: {jobs: {visibility_timeout: 30m}}\nfunctions:") + (
        "event_source_mappings:\n  - {source: queue:jobs, function: f, batch_size: 1}\n"
    )
    run = run_of(text)
    d = run.fn()["durable"]
    assert d["executions"]["succeeded"] == 3 and d["invocations"] == 6  # each batch: before and after the wait
    assert run.queue("jobs")["NumberOfMessagesDeleted"] == 3  # deleted once its execution succeeded
    assert run.outcomes()["requests"] == 3 and run.outcomes()["succeeded"] == 3
    # the batch's answer comes when the execution ends, after its one-minute wait
    assert all(h["end_s"] > 60 for h in d["history"]) and {len(h["name"]) for h in d["history"]} == {36}


def test_a_mapping_stops_waiting_after_fifteen_minutes_and_retries_with_a_new_execution():
    text = durable(steps("{wait: w, for: 20m}"), traffic="  - {target: queue:jobs, burst: 1}")
    text = text.replace("functions:", "queues: {jobs: {visibility_timeout: 16m}}\nfunctions:").replace(
        "duration: 10d", "duration: 40m"
    ) + ("event_source_mappings:\n  - {source: queue:jobs, function: f}\n")
    run = run_of(text)
    d = run.fn()["durable"]
    # at 15 min the mapping gets a timeout; the message is visible again at 16 min, and a new execution
    # starts (no name, no idempotency), and again at 32 min; the first one goes on and succeeds at 20 min
    assert d["executions"]["started"] == 3 and d["starts"]["sync_callers_timed_out"] == 2
    assert [round(h["start_s"] / 60) for h in d["history"]] == [0, 16, 32]
    assert d["history"][0]["status"] == "SUCCEEDED" and d["history"][0]["end_s"] == pytest.approx(20 * 60, abs=1)
    assert run.queue("jobs")["NumberOfMessagesDeleted"] == 0
