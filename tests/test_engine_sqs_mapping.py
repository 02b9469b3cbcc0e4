"""SQS event source mappings: batches, visibility timeout, redrive to the DLQ, partial batch responses, scaling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from engine_helpers import simulate
from hypothesis import given, settings
from hypothesis import strategies as st

HANDLERS = Path(__file__).parent / "handlers"

BASE = """\
name: sqs
duration: 10m
queues:
  orders: {visibility_timeout: 60s, max_receive_count: 3, dead_letter: dlq}
  dlq: {}
functions:
  worker:
    timeout: 10s
    FUNCTION
event_source_mappings:
  - {source: queue:orders, function: worker, MAPPING}
traffic:
  - {target: queue:orders, TRAFFIC}
"""
MODEL = "behaviour: {init: 100ms, duration: 50ms, errors: {when: {path: $.poison, equals: true}}}"
TEN_WITH_ONE_POISON = (
    "burst: 10, at: 0s, events: [{n: 1}, {n: 2}, {n: 3}, {n: 4}, {n: 5}, {n: 6}, {n: 7}, {n: 8}, {n: 9}, "
    "{poison: true}]"
)


def report(tmp_path, function=MODEL, mapping="batch_size: 10", traffic=TEN_WITH_ONE_POISON) -> dict:
    path = tmp_path / "sqs.yaml"
    path.write_text(BASE.replace("FUNCTION", function).replace("MAPPING", mapping).replace("TRAFFIC", traffic))
    result = run_cli("sim", str(path), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_clean_batch_is_deleted(tmp_path):
    out = report(tmp_path, traffic="burst: 10, at: 0s, event: {n: 1}")
    queue = out["queues"]["orders"]
    assert queue["NumberOfMessagesSent"] == queue["NumberOfMessagesReceived"] == queue["NumberOfMessagesDeleted"] == 10
    assert out["functions"]["worker"]["metrics"]["Invocations"] == 1  # one batch of 10


def test_a_failing_batch_comes_back_after_the_visibility_timeout_and_is_redriven(tmp_path):
    out = report(tmp_path)
    queue, dlq = out["queues"]["orders"], out["queues"]["dlq"]
    fn = out["functions"]["worker"]
    # all-or-nothing: the batch fails 3 times (receive count 3 = maxReceiveCount), then all 10 go to the DLQ
    assert fn["metrics"]["Invocations"] == 3 and fn["metrics"]["Errors"] == 3
    assert queue["NumberOfMessagesReceived"] == 30 and queue["NumberOfMessagesDeleted"] == 0
    assert dlq["ApproximateNumberOfMessagesVisible"] == 10
    times = [m["sent_at_s"] for m in dlq["messages"]]
    assert min(times) == pytest.approx(180.0, abs=1.0)  # three receives, 60 s of visibility each


def test_partial_batch_responses_delete_the_good_messages_at_once(tmp_path):
    out = report(tmp_path, mapping="batch_size: 10, report_batch_item_failures: true")
    queue, dlq = out["queues"]["orders"], out["queues"]["dlq"]
    assert queue["NumberOfMessagesDeleted"] == 9 and dlq["NumberOfMessagesSent"] == 1
    assert out["functions"]["worker"]["metrics"]["Errors"] == 0  # the code succeeded and named the bad message


def test_real_code_names_its_failures(tmp_path):
    out = report(
        tmp_path,
        function=f"code: {HANDLERS}\n    handler: app.sqs_partial",
        mapping="batch_size: 10, report_batch_item_failures: true",
    )
    assert out["queues"]["orders"]["NumberOfMessagesDeleted"] == 9
    assert out["queues"]["dlq"]["NumberOfMessagesSent"] == 1
    dead = out["queues"]["dlq"]["messages"][0]["body"]
    assert dead == {"poison": True}


def test_pollers_start_at_five_batches_and_grow_with_a_backlog(tmp_path):
    slow = "behaviour: {init: 0ms, duration: 5s}"
    early = report(tmp_path, function=slow, mapping="batch_size: 1", traffic="burst: 2000, at: 0s, event: {n: 1}")
    assert early["functions"]["worker"]["metrics"]["ConcurrentExecutions"] > 5  # grew while the backlog lasted
    capped = report(
        tmp_path,
        function=slow,
        mapping="batch_size: 1, maximum_concurrency: 5",
        traffic="burst: 2000, at: 0s, event: {n: 1}",
    )
    assert capped["functions"]["worker"]["metrics"]["ConcurrentExecutions"] == 5


CAPPED = "reserved_concurrency: 5\n    behaviour: {init: 100ms, duration: 1s}"
BACKLOG = "burst: 3000, at: 0s, event: {n: 1}"


def outcomes(out: dict) -> tuple[dict, dict, dict]:
    fn = out["functions"]["worker"]
    return fn["metrics"], fn["outcomes"], out["queues"]


def test_a_throttled_batch_stays_with_its_poller_and_is_tried_again(tmp_path):
    """Pollers outgrow reserved concurrency 5 and keep reading; with the 6x visibility timeout every held
    batch gets in before its messages would reappear: many throttles, nothing lost, nothing received twice."""
    metrics, ends, queues = outcomes(report(tmp_path, function=CAPPED, traffic=BACKLOG))
    assert metrics["Throttles"] > 100 and metrics["ConcurrentExecutions"] == 5
    assert metrics["Invocations"] == ends["requests"] == ends["succeeded"] == 300 and ends["throttled"] == 0
    assert queues["orders"]["NumberOfMessagesReceived"] == queues["orders"]["NumberOfMessagesDeleted"] == 3000
    assert queues["dlq"]["NumberOfMessagesSent"] == 0


def test_throttling_alone_sends_messages_to_the_dlq_when_the_visibility_timeout_is_short(tmp_path):
    """A batch still throttled when its visibility timeout ends goes back with a receive spent; after
    maxReceiveCount such receives, healthy messages land in the DLQ. Every batch ends once."""
    path = tmp_path / "short.yaml"
    path.write_text(
        BASE.replace("visibility_timeout: 60s", "visibility_timeout: 10s")
        .replace("FUNCTION", CAPPED)
        .replace("MAPPING", "batch_size: 10")
        .replace("TRAFFIC", BACKLOG)
    )
    result = run_cli("sim", str(path), "--json")
    assert result.returncode == 0, result.stderr
    metrics, ends, queues = outcomes(json.loads(result.stdout))
    assert ends["throttled"] > 0 and queues["dlq"]["NumberOfMessagesSent"] > 0
    assert ends["requests"] == ends["succeeded"] + ends["throttled"] and ends["in_flight"] == 0
    assert queues["orders"]["NumberOfMessagesDeleted"] + queues["dlq"]["NumberOfMessagesSent"] == 3000
    assert queues["orders"]["NumberOfMessagesReceived"] > 3000


def test_reserved_concurrency_zero_runs_nothing_and_redrives_everything(tmp_path):
    zero = CAPPED.replace("reserved_concurrency: 5", "reserved_concurrency: 0")
    metrics, ends, queues = outcomes(report(tmp_path, function=zero, traffic=BACKLOG))
    assert metrics["Invocations"] == 0 and metrics["Throttles"] >= ends["requests"] == ends["throttled"]
    assert queues["orders"]["NumberOfMessagesReceived"] == 3 * 3000  # maxReceiveCount 3
    assert queues["dlq"]["NumberOfMessagesSent"] == 3000


@pytest.mark.parametrize(
    "mapping, queue, message",
    [
        ("batch_size: 100", "{}", "a batch size above 10 needs a batching_window of at least 1s"),
        (
            "batch_size: 10",
            "{visibility_timeout: 5s}",
            "Queue visibility timeout: 5 seconds is less than Function timeout: 10 seconds",
        ),
    ],
)
def test_mappings_are_checked_as_aws_checks_them(tmp_path, mapping, queue, message):
    path = tmp_path / "bad.yaml"
    path.write_text(
        BASE.replace("FUNCTION", MODEL)
        .replace("MAPPING", mapping)
        .replace("TRAFFIC", TEN_WITH_ONE_POISON)
        .replace("orders: {visibility_timeout: 60s, max_receive_count: 3, dead_letter: dlq}", f"orders: {queue}")
    )
    result = run_cli("sim", str(path))
    assert result.returncode == 2 and message in result.stderr


BIG_BODY = "{n: 1, blob: " + "x" * 700_000 + "}"  # nine fit in a 6 MB batch


@settings(max_examples=20, deadline=None)
@given(
    batch=st.integers(1, 30),
    window=st.sampled_from(["", ", batching_window: 2s"]),
    partial=st.booleans(),
    rate=st.sampled_from([0.0, 0.3]),
    reserved=st.sampled_from([None, 0, 2]),
    big=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_every_message_is_deleted_or_redriven(batch, window, partial, rate, reserved, big, seed):
    """Whatever the settings (throttled batches held by their pollers included): nothing is lost or left behind."""
    window = window or (", batching_window: 1s" if batch > 10 else "")  # AWS needs a window above 10
    errors = f", errors: {{rate: {rate}}}" if rate else ""
    run = simulate(
        f"""
        duration: 2h
        functions:
          worker:
            timeout: 5s
            {"" if reserved is None else f"reserved_concurrency: {reserved}"}
            behaviour: {{init: 0ms, duration: 300ms{errors}}}
        queues:
          orders: {{visibility_timeout: 30s, max_receive_count: 3, dead_letter: dlq}}
          dlq: {{}}
        event_source_mappings:
          - {{source: queue:orders, function: worker, batch_size: {batch}, \
report_batch_item_failures: {str(partial).lower()}{window}}}
        traffic:
          - {{target: queue:orders, rate: 10/s, for: 20s, event: {BIG_BODY if big else "{n: 1}"}}}
        """,
        seed=seed,
        listen=False,
    )
    queue, dlq = run.queue("orders"), run.queue("dlq")
    assert queue["NumberOfMessagesDeleted"] + dlq["NumberOfMessagesSent"] == queue["NumberOfMessagesSent"] == 200
    assert queue["ApproximateNumberOfMessagesVisible"] == queue["ApproximateNumberOfMessagesNotVisible"] == 0
    if reserved == 0:
        assert dlq["NumberOfMessagesSent"] == 200  # nothing ever runs


def test_a_held_batch_that_runs_past_its_visibility_timeout_comes_back_now_not_in_the_past():
    """A batch throttled for most of its visibility timeout, then run and failed after it ended: its messages are
    visible again at once. (They were scheduled at the timeout's end, already past: virtual time went back, and
    one environment served two invocations at once, busy longer than it was alive.)"""
    run = simulate(
        """
        duration: 34s
        functions:
          worker: {timeout: 1, reserved_concurrency: 1, behaviour: {init: 11s, duration: 1ms}}
        queues:
          jobs: {visibility_timeout: 30s, max_receive_count: 2, dead_letter: jobs-dlq}
          jobs-dlq: {}
        event_source_mappings: [{source: queue:jobs, function: worker, batch_size: 1}]
        traffic: [{target: queue:jobs, rate: 17/s, for: 10s}]
        """
    )
    times = [t for t, _, _ in run.events]
    assert times == sorted(times)  # virtual time never goes back
    envs = run.envs("worker")
    assert envs["busy_time_average"] <= envs["time_average"]
