"""SQS provisioned pollers against standard polling, and several mappings on one queue or stream.

Facts: shared/reference/lambda-2026.md §4 and §9.4 (minimum 2-200, default 2; maximum default 200; 10 concurrent
invokes and 10 ReceiveMessage calls a second per poller; +1,000 concurrency a minute, at most 20,000; standard
mode +300 a minute from 5; $0.00925 per poller-hour, 1-minute minimum per start, the minimum always billed).
"""

from __future__ import annotations

import pytest
from engine_helpers import report_json, simulate

from lambdalab import limits

TWO_QUEUES = """\
name: backlog
duration: DURATION
queues:
  std: {visibility_timeout: 60s}
  prov: {visibility_timeout: 60s}
functions:
  a: {timeout: 10s, behaviour: {init: 0s, duration: 1s}}
  b: {timeout: 10s, behaviour: {init: 0s, duration: 1s}}
account: {concurrency: 5000}
event_source_mappings:
  - {source: queue:std, function: a}
  - {source: queue:prov, function: b, provisioned_pollers: POLLERS}
traffic:
  - {target: queue:std, burst: BURST, at: 0s}
  - {target: queue:prov, burst: BURST, at: 0s}
"""


def backlog(pollers: str = "{minimum: 2, maximum: 200}", burst: int = 60_000, duration: str = "4m", **kw):
    text = TWO_QUEUES.replace("POLLERS", pollers).replace("BURST", str(burst)).replace("DURATION", duration)
    return simulate(text, **kw)


def drained_at(run, function: str) -> float:
    return max(run.times("batch_done", function=function))


def test_the_minimum_pollers_poll_from_the_start():
    run = backlog("{minimum: 7, maximum: 200}")
    first = lambda fn: len([t for t in run.times("batch", function=fn) if t == 0.0])  # noqa: E731
    assert first("b") == 7 * limits.SQS_POLLER_INVOKES  # 10 concurrent invokes per poller, at once
    assert first("a") == limits.SQS_POLLERS_START  # standard mode starts with 5


def test_concurrency_grows_by_1000_a_minute_against_300_and_the_backlog_drains_faster():
    run = backlog(series_step=10.0)
    series = run.report["series"]["functions"]
    std, prov = series["a"]["ConcurrentExecutions"], series["b"]["ConcurrentExecutions"]
    # At 20 s: standard 5 + 300/3 = 105; provisioned 20 + 1,000/3 = 353 (a poller of 10 every 0.6 s). Steps are
    # [start, end): what is due at the step's end counts in the next.
    assert 100 <= std[1] <= 105
    assert 340 <= prov[1] <= 353
    for before, after in zip(prov, prov[1:2]):  # never faster than 1,000 a minute: 167 in a step of 10 s
        assert after - before <= 1000 / 6 + limits.SQS_POLLER_INVOKES
    # 6,000 batches of 1 s each: provisioned mode is done in ~26 s, standard in ~60 s.
    assert drained_at(run, "b") < 0.6 * drained_at(run, "a")
    assert run.queue("prov")["NumberOfMessagesDeleted"] == run.queue("std")["NumberOfMessagesDeleted"] == 60_000


def test_pollers_stop_at_their_maximum():
    run = backlog("{minimum: 2, maximum: 12}")
    entry = run.report["event_source_mappings"][1]
    assert entry["pollers"]["max_active"] == 12
    assert run.metrics("b")["ConcurrentExecutions"] == 12 * limits.SQS_POLLER_INVOKES


def test_at_most_20000_concurrent_invokes_whatever_the_maximum():
    # From 200 pollers (2,000 concurrent) to 2,000 (20,000) takes 18 minutes at 100 pollers a minute; batches of one
    # message that run 10 minutes keep a backlog waiting all along.
    text = (
        TWO_QUEUES.replace("POLLERS", "{minimum: 200, maximum: 10000}")
        .replace("BURST", "50000")
        .replace("DURATION", "25m")
        .replace("concurrency: 5000", "concurrency: 30000")
        .replace("duration: 1s", "duration: 10m")
        .replace("timeout: 10s", "timeout: 15m")
        .replace("visibility_timeout: 60s", "visibility_timeout: 1h")
        .replace("provisioned_pollers:", "batch_size: 1, provisioned_pollers:")
    )
    run = simulate(text, listen=False)
    assert run.report["event_source_mappings"][1]["pollers"]["max_active"] == 2_000
    assert run.metrics("b")["ConcurrentExecutions"] == limits.SQS_PROVISIONED_CONCURRENCY_MAX


def test_idle_pollers_go_but_never_below_the_minimum():
    run = backlog("{minimum: 3, maximum: 200}", duration="6m", series_step=30.0)
    pollers = run.report["series"]["event_source_mappings"]["1"]["pollers"]
    assert max(pollers) == run.report["event_source_mappings"][1]["pollers"]["max_active"] > 3
    assert pollers[-1] == 3 and min(pollers) == 3  # back to the minimum once idle, never below
    idle = [d["pollers"] for _, d in run.of("pollers", reason="idle")]
    assert idle and idle[-1] == 3


def test_receive_calls_limit_a_poller_to_ten_batches_a_second():
    # Two pollers that may not grow: 20 ReceiveMessage calls a second, so 200 messages a second at most, however
    # short the function; standard mode has no such limit here.
    text = TWO_QUEUES.replace("POLLERS", "{minimum: 2, maximum: 2}").replace("BURST", "2000")
    run = simulate(text.replace("duration: 1s", "duration: 10ms").replace("DURATION", "1m"))
    # A second's calls in hand at the start (20 batches), then 20 a second: (200 - 20) / 20 = 9 s.
    assert 8.9 <= drained_at(run, "b") <= 9.2
    assert drained_at(run, "a") < 2.0


def test_pollers_do_not_grow_while_the_function_throttles():
    text = TWO_QUEUES.replace("b: {timeout: 10s,", "b: {timeout: 10s, reserved_concurrency: 5,")
    run = simulate(text.replace("POLLERS", "{minimum: 2}").replace("BURST", "2000").replace("DURATION", "2m"))
    assert run.metrics("b")["Throttles"] > 0
    assert run.report["event_source_mappings"][1]["pollers"]["max_active"] == 2


def test_billing_per_poller_second_the_minimum_always_and_a_minute_per_start():
    quiet = TWO_QUEUES.replace("BURST", "1").replace("POLLERS", "{minimum: 4, maximum: 4}")
    hour = simulate(quiet.replace("DURATION", "1h"), listen=False).report
    entry = hour["event_source_mappings"][1]
    assert entry["pollers"]["poller_hours"] == 4.0
    assert entry["cost_usd"] == pytest.approx(4 * 0.00925)
    assert hour["event_source_mappings"][0]["cost_usd"] == 0.0  # standard mode: no poller charge
    functions = sum(f["metrics"]["CostUSD"] for f in hour["functions"].values())
    assert hour["account"]["CostUSD"] == pytest.approx(functions + 4 * 0.00925)
    short = simulate(quiet.replace("DURATION", "20s"), listen=False).report
    assert short["event_source_mappings"][1]["pollers"]["poller_hours"] == round(4 * 60 / 3600, 6)  # a minute each

    run = backlog("{minimum: 2, maximum: 200}", duration="10m")
    pollers = run.report["event_source_mappings"][1]["pollers"]
    assert len(run.of("pollers", reason="waiting")) == pollers["max_active"] - 2
    # The minimum for the 10 minutes, plus each added poller from its start until an idle check removed it (newest
    # first), at least a minute each.
    expected, started = 2 * 600.0, []
    for t, change in run.of("pollers"):
        if change["reason"] == "waiting":
            started.append(t)
        while len(started) + 2 > change["pollers"]:
            expected += max(60.0, t - started.pop())
    assert not started  # all gone before the end
    assert pollers["poller_hours"] == round(expected / 3600, 6)
    assert run.report["event_source_mappings"][1]["cost_usd"] == round(expected / 3600 * 0.00925, 8)


def test_two_mappings_on_one_queue_share_its_messages_each_processed_once():
    text = """\
    name: shared
    duration: 3m
    queues: {orders: {visibility_timeout: 30s}}
    functions:
      fast: {timeout: 5s, behaviour: {init: 0s, duration: 200ms}}
      slow: {timeout: 5s, behaviour: {init: 0s, duration: 2s}}
    event_source_mappings:
      - {source: queue:orders, function: fast}
      - {source: queue:orders, function: slow, provisioned_pollers: {minimum: 2}}
    traffic:
      - {target: queue:orders, rate: 200/s, for: 1m, message: {n: 1}}
    """
    run = simulate(text)
    handled: list[int] = []
    for _, done in run.of("batch_done"):
        handled += done["messages"]
    assert sorted(handled) == list(range(1, 12_001))  # every message once, by one mapping or the other
    fast, slow = run.report["event_source_mappings"]
    assert fast["events"]["invoked"] > 0 and slow["events"]["invoked"] > 0
    assert fast["events"]["polled"] + slow["events"]["polled"] == 12_000
    assert run.queue("orders")["NumberOfMessagesDeleted"] == 12_000


STREAM = """\
name: fanout
duration: 2m
streams: {clicks: {type: kinesis, shards: 2}}
functions:
  counter: {timeout: 5s, behaviour: {init: 0s, duration: 50ms}}
  archiver: {timeout: 5s, behaviour: {init: 0s, duration: 3s}}
event_source_mappings:
  - {source: stream:clicks, function: counter, starting_position: TRIM_HORIZON}
  - {source: stream:clicks, function: archiver, starting_position: TRIM_HORIZON}
traffic:
  - {target: stream:clicks, rate: 50/s, for: 30s, event: {page: home}}
"""


def test_two_mappings_on_one_stream_each_read_every_record_at_their_own_pace():
    run = simulate(STREAM)
    counter, archiver = run.report["event_source_mappings"]
    for entry in (counter, archiver):
        assert entry["events"]["polled"] == entry["records"]["processed"] == 1_500
    assert counter["IteratorAge"] < 1_000 < archiver["IteratorAge"]  # each its own checkpoint and age
    assert run.metrics("counter")["IteratorAge"] == counter["IteratorAge"]
    assert run.metrics("archiver")["IteratorAge"] == archiver["IteratorAge"]
    assert run.report["streams"]["clicks"]["records"]["processed"] == 1_500  # the first mapping's records


def test_the_report_gains_the_section_only_where_it_is_needed():
    one = simulate(
        STREAM.replace("  - {source: stream:clicks, function: archiver, starting_position: TRIM_HORIZON}\n", "")
    )
    assert "event_source_mappings" not in one.report
    assert "event_source_mappings" in backlog(burst=10, duration="1m").report


def test_expectations_read_a_mapping_entry():
    text = TWO_QUEUES.replace("POLLERS", "{minimum: 2}").replace("BURST", "5000").replace("DURATION", "2m")
    text += (
        "expect:\n"
        '  - {mapping: 1, metric: pollers.max_active, op: ">", value: 2}\n'
        '  - {mapping: 0, metric: events.invoked, op: "==", value: 5000}\n'
        '  - {mapping: 1, metric: cost_usd, op: ">", value: 0}\n'
    )
    results = simulate(text, listen=False).report["expectations"]
    assert [e["passed"] for e in results] == [True, True, True]
    assert results[1] == {
        "metric": "events.invoked",
        "mapping": 0,
        "op": "==",
        "value": 5000,
        "actual": 5000,
        "passed": True,
    }


def test_same_input_same_report():
    text = (
        TWO_QUEUES.replace("POLLERS", "{minimum: 3, maximum: 50}").replace("BURST", "20000").replace("DURATION", "5m")
    )
    assert report_json(text, series_step=5.0) == report_json(text, series_step=5.0)


def test_two_mappings_on_one_fifo_queue_keep_each_group_in_order():
    text = """\
    name: fifo-shared
    duration: 2m
    queues: {orders.fifo: {fifo: true, visibility_timeout: 30s}}
    functions:
      left: {timeout: 5s, behaviour: {init: 0s, duration: 300ms}}
      right: {timeout: 5s, behaviour: {init: 0s, duration: 300ms}}
    event_source_mappings:
      - {source: queue:orders.fifo, function: left, batch_size: 3}
      - {source: queue:orders.fifo, function: right, batch_size: 3, provisioned_pollers: {minimum: 2}}
    traffic:
      - {target: queue:orders.fifo, rate: 40/s, for: 30s, message_groups: 4, message: {n: 1}}
    """
    run = simulate(text)
    out: set[str] = set()  # groups with a batch out now, across both mappings
    groups_of: dict[str, set[str]] = {}
    seen: dict[str, list[int]] = {}
    for _, kind, data in run.events:
        if kind == "batch":
            groups_of[data["request_id"]] = groups = set(data["groups"])
            assert not groups & out  # one batch per group at a time, whichever mapping reads it
            out |= groups
            for number, group in zip(data["messages"], data["groups"]):
                seen.setdefault(group, []).append(number)
        elif kind == "batch_done":
            out -= groups_of[data["request_id"]]  # nothing fails here: the groups are free again
    assert all(numbers == sorted(numbers) for numbers in seen.values())  # each group in order across mappings
    left, right = run.report["event_source_mappings"]
    assert left["events"]["invoked"] > 0 and right["events"]["invoked"] > 0
    assert run.queue("orders.fifo")["NumberOfMessagesDeleted"] == 1_200


def test_pollers_changes_are_told_in_words():
    from lambdalab.engine.explain import sentence

    run = backlog(duration="3m")
    grew = run.of("pollers", reason="waiting")[0]
    assert sentence("pollers", *grew, run.sim.scenario) == (
        "the provisioned pollers reading prov for b became 3 at t=0.60 s: messages waited while every poller was busy."
    )
    shrank = run.of("pollers", reason="idle")[-1]
    assert sentence("pollers", *shrank, run.sim.scenario).endswith(
        "became 2 at t=120.60 s: the last minute needed no more."
    )
