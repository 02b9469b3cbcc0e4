"""Asynchronous invocation: retries, throttle backoff, event age, DLQ, destinations and the async metrics
(lambda-facts.md sections 1.4, 1.5 and 10)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from lambdalab.inputs import InputErrors

try:
    from engine_helpers import conservation_holds, simulate
except ImportError:  # tests/ imported as a package
    from tests.engine_helpers import conservation_holds, simulate

RETRY_GAPS = (60.0, 120.0)  # "about 1 minute before the first retry, about 2 minutes before the second"


def failing(retries: int | None = None, extra: str = "", fn_extra: str = "", duration: str = "400s") -> str:
    """f always fails (ValueError: boom) after 1 s; one async event {order: 7} at 0 s."""
    retry_line = f"maximum_retry_attempts: {retries}, " if retries is not None else ""
    return f"""
        duration: {duration}
        functions:
          f:
            behaviour:
              init: 0s
              duration: 1s
              errors: {{type: ValueError, message: boom}}
            async: {{{retry_line}on_failure: failures}}
            dead_letter_queue: dlq
{fn_extra}
        queues:
          failures: {{}}
          dlq: {{}}
{extra}
        traffic:
          - {{target: f, invocation: async, burst: 1, at: 0s, event: {{order: 7}}}}
    """


@pytest.mark.parametrize("retries", [0, 1, 2])
def test_function_errors_are_retried_up_to_maximum_retry_attempts_one_then_two_minutes_apart(retries):
    run = simulate(failing(retries))
    starts = run.of("invoke_start")
    ends = run.of("invoke_end")
    assert {d["request_id"] for _, d in starts} == {1}  # the same request every time
    assert len(starts) == len(ends) == retries + 1
    assert starts[0][0] == 0.0
    for i in range(retries):
        gap = starts[i + 1][0] - ends[i][0]
        assert gap == pytest.approx(RETRY_GAPS[i], rel=0.1), f"gap before retry {i + 1}"
    ((t_drop, drop),) = run.of("async_drop")
    assert t_drop == ends[-1][0]
    assert drop["condition"] == "RetriesExhausted"

    m, o = run.metrics(), run.outcomes()
    assert (m["Invocations"], m["Errors"]) == (retries + 1, retries + 1)
    assert (m["AsyncEventsReceived"], m["AsyncEventsDropped"]) == (1, 1)
    # AsyncEventAge: time from queueing to the (last) invoke, in ms: 0 with no retry, ~61 s, ~182 s.
    assert m["AsyncEventAge"] == pytest.approx(starts[-1][0] * 1000.0, abs=0.001)
    assert (o["retried"], o["dropped"], o["to_dlq"], o["to_on_failure"]) == (retries, 1, 1, 1)
    assert (o["succeeded"], o["failed"], o["throttled"], o["in_flight"]) == (0, 0, 0, 0)
    assert conservation_holds(o)
    (record,) = [msg["body"] for msg in run.queue("failures")["messages"]]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == retries + 1


def test_maximum_retry_attempts_defaults_to_2():
    run = simulate(failing(None))
    assert len(run.of("invoke_start")) == 3
    assert run.outcomes()["retried"] == 2
    (record,) = [msg["body"] for msg in run.queue("failures")["messages"]]
    assert record["requestContext"]["approximateInvokeCount"] == 3


def test_maximum_retry_attempts_outside_0_to_2_is_rejected():
    with pytest.raises(InputErrors) as caught:
        simulate(failing(3))
    assert "maximum_retry_attempts" in str(caught.value)


def test_the_on_failure_destination_receives_the_invocation_record():
    # Two events (0 s and 10 s), no retries: each fails after 1 s and is discarded at 1 s and 11 s.
    run = simulate("""
        duration: 30s
        account: {region: eu-west-1, account_id: "111122223333"}
        functions:
          resize:
            behaviour:
              init: 0s
              duration: 1s
              errors: {type: ValueError, message: boom}
            async: {maximum_retry_attempts: 0, on_failure: failures}
        queues:
          failures: {}
        traffic:
          - {target: resize, invocation: async, burst: 1, at: 0s, event: {order: 1}}
          - {target: resize, invocation: async, burst: 1, at: 10s, event: {order: 2}}
    """)
    messages = run.queue("failures")["messages"]
    assert run.queue("failures")["NumberOfMessagesSent"] == 2
    records = [m["body"] for m in messages]
    numbers = [d["request_id"] for _, d in run.of("async_drop")]
    for record, number, order in zip(records, numbers, (1, 2)):
        assert list(record) == [
            "version",
            "timestamp",
            "requestContext",
            "requestPayload",
            "responseContext",
            "responsePayload",
        ]
        assert record["version"] == "1.0"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", record["timestamp"])
        assert record["requestContext"] == {
            "requestId": run.sim.request_id(number),
            "functionArn": "arn:aws:lambda:eu-west-1:111122223333:function:resize:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 1,
        }
        assert record["requestPayload"] == {"order": order}
        assert record["responseContext"] == {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        }
        assert record["responsePayload"]["errorType"] == "ValueError"
        assert record["responsePayload"]["errorMessage"] == "boom"
    # the record's timestamp is the time of the discard: 1 s and 11 s, so 10 s apart
    t1, t2 = (datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")) for r in records)
    assert (t2 - t1).total_seconds() == 10.0
    assert records[0]["requestContext"]["requestId"] != records[1]["requestContext"]["requestId"]


def test_the_dead_letter_queue_receives_the_original_event_with_request_id_error_code_and_message():
    run = simulate(failing(1))
    (message,) = run.queue("dlq")["messages"]
    assert message["body"] == {"order": 7}  # the event itself, not an invocation record
    attributes = message["attributes"]
    assert attributes["RequestID"] == run.sim.request_id(1)
    assert attributes["ErrorCode"] == 200 and isinstance(
        attributes["ErrorCode"], int
    )  # HTTP status: function errors are 200s
    assert attributes["ErrorMessage"] == "boom"
    # the same request ID as the on-failure record
    (record,) = [m["body"] for m in run.queue("failures")["messages"]]
    assert record["requestContext"]["requestId"] == attributes["RequestID"]


def test_the_dead_letter_error_message_is_cut_to_the_first_kilobyte():
    long_message = "x" * 1500
    run = simulate(f"""
        duration: 30s
        functions:
          f:
            behaviour:
              init: 0s
              duration: 1s
              errors: {{message: {long_message}}}
            async: {{maximum_retry_attempts: 0}}
            dead_letter_queue: dlq
        queues:
          dlq: {{}}
        traffic:
          - {{target: f, invocation: async, burst: 1, at: 0s}}
    """)
    (message,) = run.queue("dlq")["messages"]
    assert message["attributes"]["ErrorMessage"] == "x" * 1024


def test_the_on_success_destination_receives_a_success_record():
    run = simulate("""
        duration: 30s
        functions:
          f:
            behaviour: {init: 0s, duration: 1s}
            async: {on_success: done, on_failure: failures}
        queues:
          done: {}
          failures: {}
        buses:
          audit: {}
        traffic:
          - {target: f, invocation: async, burst: 1, at: 2s, event: {order: 9}}
    """)
    o = run.outcomes()
    assert (o["succeeded"], o["to_on_success"], o["to_on_failure"], o["dropped"]) == (1, 1, 0, 0)
    assert run.queue("failures")["NumberOfMessagesSent"] == 0
    (message,) = run.queue("done")["messages"]
    record = message["body"]
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["requestId"] == run.sim.request_id(1)
    assert record["requestContext"]["functionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"
    assert record["requestPayload"] == {"order": 9}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert run.metrics()["AsyncEventsDropped"] == 0


def test_an_eventbridge_bus_destination_receives_the_record():
    run = simulate("""
        duration: 30s
        functions:
          f:
            behaviour: {init: 0s, duration: 1s}
            async: {on_success: audit}
        buses:
          audit: {}
        traffic:
          - {target: f, invocation: async, burst: 3, at: 0s}
    """)
    assert run.report["buses"]["audit"]["events_received"] == 3
    assert run.outcomes()["to_on_success"] == 3


def test_a_fifo_queue_destination_fails_delivery():
    # FIFO queues are not supported as destinations: delivery fails, DestinationDeliveryFailures counts it.
    run = simulate("""
        duration: 30s
        functions:
          ok:
            behaviour: {init: 0s, duration: 1s}
            async: {on_success: orders.fifo}
          bad:
            behaviour:
              init: 0s
              duration: 1s
              errors: {rate: 1}
            async: {maximum_retry_attempts: 0, on_failure: orders.fifo}
        queues:
          orders.fifo: {fifo: true}
        traffic:
          - {target: ok, invocation: async, burst: 2, at: 0s}
          - {target: bad, invocation: async, burst: 3, at: 0s}
    """)
    assert run.metrics("ok")["DestinationDeliveryFailures"] == 2
    assert run.metrics("bad")["DestinationDeliveryFailures"] == 3
    assert run.outcomes("ok")["to_on_success"] == 0
    assert run.outcomes("bad")["to_on_failure"] == 0
    assert run.outcomes("bad")["dropped"] == 3
    assert run.queue("orders.fifo")["NumberOfMessagesSent"] == 0
    assert [d["delivered"] for _, d in run.of("delivery")] == [False] * 5


def test_a_function_destination_is_invoked_asynchronously_with_the_record_as_its_event():
    # f fails once (no retries); its record goes to g as an async event. g fails on records whose
    # condition is RetriesExhausted, which proves the payload is the invocation record.
    run = simulate("""
        duration: 30s
        functions:
          f:
            behaviour:
              init: 0s
              duration: 1s
              errors: {rate: 1}
            async: {maximum_retry_attempts: 0, on_failure: "function:g"}
          g:
            behaviour:
              init: 0s
              duration: 1s
              errors: {when: {path: $.requestContext.condition, equals: RetriesExhausted}}
            async: {maximum_retry_attempts: 0}
        traffic:
          - {target: f, invocation: async, burst: 1, at: 0s}
    """)
    g = run.metrics("g")
    assert (g["AsyncEventsReceived"], g["Invocations"], g["Errors"]) == (1, 1, 1)
    assert run.outcomes("f")["to_on_failure"] == 1
    assert run.times("invoke_start", function="g") == [1.0]


def test_reserved_concurrency_zero_sends_async_events_straight_to_the_dlq_without_retries():
    run = simulate("""
        duration: 600s
        functions:
          f:
            reserved_concurrency: 0
            behaviour: {init: 0s, duration: 1s}
            async: {maximum_retry_attempts: 2, on_failure: failures}
            dead_letter_queue: dlq
        queues:
          dlq: {}
          failures: {}
        traffic:
          - {target: f, invocation: async, burst: 5, at: 3s, event: {n: 1}}
    """)
    m, o = run.metrics(), run.outcomes()
    assert m["Invocations"] == 0
    assert (m["AsyncEventsReceived"], m["AsyncEventsDropped"]) == (5, 5)
    assert (o["to_dlq"], o["to_on_failure"], o["retried"], o["dropped"], o["throttled"]) == (5, 5, 0, 5, 0)
    assert run.of("async_wait") == []  # no retries, no backoff
    assert run.times("async_drop") == [3.0] * 5  # straight away
    assert [msg["body"] for msg in run.queue("dlq")["messages"]] == [{"n": 1}] * 5
    assert all(r["body"]["requestContext"]["approximateInvokeCount"] == 0 for r in run.queue("failures")["messages"])
    assert conservation_holds(o)


def test_throttled_async_events_back_off_from_1_s_to_5_minutes_and_are_not_sync_throttles():
    # Reserved 1; the first event runs 0-800 s, the second is throttled until then and retried with a
    # backoff that grows from about 1 s to at most 5 min; once the first finishes it runs and succeeds.
    run = simulate("""
        duration: 2000s
        functions:
          f:
            timeout: 900s
            reserved_concurrency: 1
            behaviour: {init: 0s, duration: 800s}
        traffic:
          - {target: f, invocation: async, burst: 2, at: 0s}
    """)
    waits = run.of("async_wait", request_id=2)
    assert waits and all(d["reason"] == "throttle" for _, d in waits)
    delays = [round(d["next_try_s"] - t, 3) for t, d in waits]  # next_try_s is rounded to 1 µs
    assert 1.0 <= delays[0] <= 2.0  # starts at about 1 s
    assert all(1.0 <= x <= 300.0 + 1e-6 for x in delays)
    assert delays == sorted(delays)  # grows
    assert max(delays) == pytest.approx(300.0)  # ... up to 5 minutes
    ((t_start, _),) = run.of("invoke_start", request_id=2)
    assert 800.0 < t_start <= 1100.0
    m, o = run.metrics(), run.outcomes()
    assert m["Throttles"] == len(waits) == len(run.of("throttle"))
    assert m["Invocations"] == 2
    assert (o["succeeded"], o["throttled"], o["dropped"], o["in_flight"]) == (2, 0, 0, 0)
    assert m["AsyncEventAge"] == pytest.approx(t_start * 1000.0, abs=0.001)


def test_an_event_throttled_past_its_maximum_age_is_dropped_with_event_age_exceeded():
    run = simulate("""
        duration: 1000s
        functions:
          f:
            timeout: 900s
            reserved_concurrency: 1
            behaviour: {init: 0s, duration: 800s}
            async: {maximum_event_age: 60s, on_failure: failures}
            dead_letter_queue: dlq
        queues:
          failures: {}
          dlq: {}
        traffic:
          - {target: f, invocation: async, burst: 2, at: 0s, event: {k: v}}
    """)
    ((t_drop, drop),) = run.of("async_drop")
    assert drop["request_id"] == 2 and drop["condition"] == "EventAgeExceeded"
    assert 60.0 <= t_drop <= 60.0 + 300.0  # not before the age limit, at the latest at its next try
    assert run.times("invoke_start") == [0.0]  # the second event never ran
    (record,) = [m["body"] for m in run.queue("failures")["messages"]]
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestPayload"] == {"k": "v"}
    (dead_letter,) = run.queue("dlq")["messages"]
    assert dead_letter["body"] == {"k": "v"}
    # ErrorCode is the HTTP status of what stopped the event: its attempts were all 429s, it never ran.
    assert dead_letter["attributes"]["ErrorCode"] == 429
    assert dead_letter["attributes"]["RequestID"] == run.sim.request_id(2)
    m, o = run.metrics(), run.outcomes()
    assert (m["AsyncEventsReceived"], m["AsyncEventsDropped"]) == (2, 1)
    assert (o["succeeded"], o["dropped"], o["throttled"], o["to_dlq"], o["to_on_failure"]) == (1, 1, 0, 1, 1)


def test_an_event_whose_retry_would_come_after_its_maximum_age_is_dropped_with_event_age_exceeded():
    # Fails at 1 s; the retry would be ~60 s later (61 s) but the event may live only 60 s.
    run = simulate(
        failing(2, fn_extra="").replace("on_failure: failures}", "maximum_event_age: 60s, on_failure: failures}")
    )
    assert run.times("invoke_start") == [0.0]
    ((t_drop, drop),) = run.of("async_drop")
    assert drop["condition"] == "EventAgeExceeded"
    assert 60.0 <= t_drop <= 61.0 + 6.0
    (record,) = [m["body"] for m in run.queue("failures")["messages"]]
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert run.outcomes()["retried"] == 0  # the retry never happened: the event's age came first


def test_an_sns_topic_can_be_the_dead_letter_queue():
    run = simulate("""
        duration: 30s
        functions:
          f:
            behaviour:
              init: 0s
              duration: 1s
              errors: {rate: 1}
            async: {maximum_retry_attempts: 0}
            dead_letter_queue: alerts
        topics:
          alerts: {}
        traffic:
          - {target: f, invocation: async, burst: 2, at: 0s}
    """)
    assert run.report["topics"]["alerts"]["NumberOfMessagesPublished"] == 2
    assert run.outcomes()["to_dlq"] == 2
    assert run.metrics()["DeadLetterErrors"] == 0


def test_a_dead_letter_or_record_that_cannot_be_delivered_is_counted_as_a_failure():
    # Both queues only take 20-byte messages: the event (~40 bytes) and the record cannot be sent.
    run = simulate("""
        duration: 30s
        functions:
          f:
            behaviour:
              init: 0s
              duration: 1s
              errors: {rate: 1}
            async: {maximum_retry_attempts: 0, on_failure: failures}
            dead_letter_queue: dlq
        queues:
          dlq: {max_message_size: 20}
          failures: {max_message_size: 20}
        traffic:
          - {target: f, invocation: async, burst: 1, at: 0s, event: {padding: "0123456789012345678901234567890"}}
    """)
    m, o = run.metrics(), run.outcomes()
    assert (m["DeadLetterErrors"], m["DestinationDeliveryFailures"]) == (1, 1)
    assert (o["to_dlq"], o["to_on_failure"], o["dropped"]) == (0, 0, 1)
    assert run.queue("dlq")["NumberOfMessagesSent"] == 0
    assert conservation_holds(o)


def test_queues_keep_the_last_200_messages_but_count_every_one():
    run = simulate("""
        duration: 10s
        functions:
          f:
            reserved_concurrency: 0
            behaviour: {init: 0s, duration: 1s}
            dead_letter_queue: dlq
        queues:
          dlq: {}
        traffic:
          - {target: f, invocation: async, burst: 250, at: 1s}
    """)
    q = run.queue("dlq")
    assert q["NumberOfMessagesSent"] == 250
    assert q["ApproximateNumberOfMessagesVisible"] == 250
    assert len(q["messages"]) == 200
    numbers = [d["request_id"] for _, d in run.of("async_drop")]
    assert [m["attributes"]["RequestID"] for m in q["messages"]] == [run.sim.request_id(n) for n in numbers[50:]]
    assert run.outcomes()["to_dlq"] == 250


def test_async_events_received_counts_every_accepted_event_and_async_throttles_are_not_sync_throttles():
    # Reserved 2, 5 s per invocation. Two async events take both slots for 0-5 s; 20 more async events
    # (4/s from 0.1 s) are throttled and wait in the queue; 5 sync requests at 0.5 .. 4.5 s get 429s.
    run = simulate("""
        duration: 60s
        functions:
          f:
            timeout: 10s
            reserved_concurrency: 2
            behaviour: {init: 0s, duration: 5s}
        traffic:
          - {target: f, invocation: async, burst: 2, at: 0s}
          - {target: f, invocation: async, rate: 4/s, for: 5s, start: 100ms}
          - {target: f, invocation: sync, rate: 1/s, for: 5s, start: 500ms}
    """)
    m, o = run.metrics(), run.outcomes()
    assert m["AsyncEventsReceived"] == 22
    assert o["requests"] == 27
    # outcomes.throttled counts sync 429s only; throttled async events go back to the queue
    assert o["throttled"] == len(run.of("throttle", invocation="sync")) == 5
    assert len(run.of("throttle", invocation="async")) >= 20
    assert m["Throttles"] == len(run.of("throttle")) >= 25
    assert conservation_holds(o)
