"""Recursive loop detection: request chains through what functions send, and the invocation Lambda stops.

The facts (https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html): a function invoked more than 16
times in one chain of requests has its next invocation stopped, counted in RecursiveInvocationsDropped; an
SQS message so stopped comes back and is stopped again until the queue's redrive policy moves it to the
dead-letter queue; an asynchronous event goes to the DLQ or on-failure destination; SQS, SNS and Lambda carry
the chain, other services (EventBridge here) do not; RecursiveLoop: Allow lets a loop run.
"""

from __future__ import annotations

import json

import pytest
from engine_helpers import conservation_holds, report_json, simulate

SELF_LOOP = """\
name: loop
duration: DURATION
queues:
  jobs: {visibility_timeout: 30s, REDRIVE}
  dlq: {}
functions:
  relay:
    LOOP
    behaviour: {init: 100ms, duration: 100ms, sends: [queue:jobs]}
event_source_mappings:
  - {source: jobs, function: relay, batch_size: 1}
traffic:
  - {target: queue:jobs, burst: REQUESTS, at: 0s, message: {order: 1}}
"""


def self_loop(requests=1, redrive="max_receive_count: 3, dead_letter: dlq", loop="", duration="10m"):
    text = (
        SELF_LOOP.replace("REQUESTS", str(requests))
        .replace("REDRIVE", redrive)
        .replace("LOOP", loop or "recursive_loop: Terminate")
        .replace("DURATION", duration)
    )
    return simulate(text)


def test_a_function_looping_through_its_queue_runs_16_times_per_chain_and_the_17th_is_stopped():
    run = self_loop(requests=3)
    metrics, outcomes = run.metrics("relay"), run.outcomes("relay")
    assert metrics["Invocations"] == 3 * 16  # one chain per traffic request, 16 invocations each
    assert run.report["recursion"] == {"loops_stopped": 3, "invocations_dropped": 3 * 3}
    stops = run.of("recursion_stop", function="relay")
    assert {d["invocations"] for _, d in stops} == {16} and {d["invocation"] for _, d in stops} == {"sqs"}
    assert metrics["RecursiveInvocationsDropped"] == 9 and outcomes["rejected"] == 9
    assert conservation_holds(outcomes)


def test_the_stopped_message_comes_back_after_its_visibility_timeout_until_the_redrive_policy_moves_it():
    run = self_loop()
    first, second, third = run.times("recursion_stop", function="relay")
    # 16 laps of 100 ms (the first also 100 ms of Init), then received again each time the visibility timeout ends
    assert (first, second, third) == pytest.approx((1.7, 31.7, 61.7))
    ((t, redrive),) = run.of("redrive", queue="jobs")
    assert t == pytest.approx(91.7) and redrive["receive_count"] == 3  # maxReceiveCount reached: to the DLQ
    jobs, dlq = run.queue("jobs"), run.queue("dlq")
    assert jobs["NumberOfMessagesDeleted"] == 16 and jobs["NumberOfMessagesReceived"] == 16 + 3
    assert dlq["NumberOfMessagesSent"] == 1 and json.loads(json.dumps(dlq["messages"][0]["body"])) == {"order": 1}
    assert run.metrics("relay")["Invocations"] == 16


def test_without_a_redrive_policy_lambda_keeps_stopping_the_message():
    run = self_loop(redrive="max_receive_count: 1000", duration="5m")
    stops = run.times("recursion_stop", function="relay")
    assert len(stops) == int((300 - stops[0]) // 30) + 1  # once every visibility timeout, to the end
    assert run.report["recursion"]["loops_stopped"] == 1
    jobs = run.queue("jobs")
    assert jobs["ApproximateNumberOfMessagesNotVisible"] + jobs["ApproximateNumberOfMessagesVisible"] == 1


def test_allow_lets_the_loop_run_and_the_metric_is_not_emitted():
    run = self_loop(loop="recursive_loop: Allow", duration="1m")
    assert run.metrics("relay")["Invocations"] > 100  # 200 ms a lap (100 ms of code, the first lap cold)
    assert run.metrics("relay")["RecursiveInvocationsDropped"] is None
    assert run.report["recursion"] == {"loops_stopped": 0, "invocations_dropped": 0}
    assert not run.of("recursion_stop")


def test_an_async_chain_is_stopped_to_the_dead_letter_queue_without_retries():
    run = simulate("""\
        duration: 10m
        queues: {dlq: {}}
        functions:
          f:
            dead_letter_queue: dlq
            behaviour: {init: 100ms, duration: 100ms, sends: [function:f]}
        traffic:
          - {target: f, invocation: async, burst: 2, at: 0s, event: {step: 1}}
        """)
    metrics, outcomes = run.metrics(), run.outcomes()
    assert metrics["Invocations"] == 2 * 16 and metrics["RecursiveInvocationsDropped"] == 2
    assert metrics["AsyncEventsDropped"] == 2 and outcomes["to_dlq"] == 2 and outcomes["retried"] == 0
    assert metrics["AsyncEventsReceived"] == 2 * 17
    message = run.queue("dlq")["messages"][0]
    assert message["body"] == {"step": 1}
    assert message["attributes"]["ErrorCode"] == 400
    assert {d["invocation"] for _, d in run.of("recursion_stop")} == {"async"}
    assert run.report["recursion"] == {"loops_stopped": 2, "invocations_dropped": 2}
    assert conservation_holds(outcomes)


def test_an_async_chain_stopped_goes_to_the_on_failure_destination():
    run = simulate("""\
        duration: 10m
        queues: {failures: {}}
        functions:
          f:
            async: {on_failure: failures}
            behaviour: {init: 100ms, duration: 100ms, sends: [function:f]}
        traffic:
          - {target: f, invocation: async, burst: 1, at: 0s, event: {step: 1}}
        """)
    (record,) = [m["body"] for m in run.queue("failures")["messages"]]
    assert record["responseContext"]["statusCode"] == 400 and record["requestPayload"] == {"step": 1}
    assert record["requestContext"]["approximateInvokeCount"] == 0  # stopped before it ran
    assert run.outcomes()["to_on_failure"] == 1 and run.metrics()["Invocations"] == 16


def test_a_synchronous_loop_of_functions_is_refused_with_recursive_invocation_exception():
    run = simulate("""\
        duration: 1m
        functions:
          a: {behaviour: {init: 100ms, duration: 100ms, sends: [{target: function:b, invocation: sync}]}}
          b: {behaviour: {init: 100ms, duration: 100ms, sends: [{target: function:a, invocation: sync}]}}
        traffic:
          - {target: a, invocation: sync, burst: 2, at: 0s, event: {n: 1}}
        """)
    # a (traffic) -> b -> a ... -> b: each runs 16 times per chain; a's 17th is refused before it runs
    assert run.metrics("a")["Invocations"] == run.metrics("b")["Invocations"] == 2 * 16
    assert run.outcomes("a")["rejected"] == run.metrics("a")["RecursiveInvocationsDropped"] == 2
    assert run.outcomes("a")["requests"] == 2 * 17 and run.outcomes("b")["rejected"] == 0
    stops = run.of("recursion_stop", function="a")
    assert [(d["invocation"], d["error"], d["invocations"]) for _, d in stops] == [
        ("sync", "RecursiveInvocationException", 16)
    ] * 2
    assert all(conservation_holds(run.outcomes(name)) for name in ("a", "b"))


TWO_FUNCTIONS = """\
duration: 10m
queues:
  q: {visibility_timeout: 30s, max_receive_count: 2, dead_letter: dlq}
  dlq: {}
topics:
  t: {subscribers: [function:b]}
functions:
  a: {behaviour: {init: 100ms, duration: 100ms, sends: [topic:t]}}
  b:
    behaviour: {init: 100ms, duration: 100ms, sends: [queue:q]}
    resource_policy:
      - {Effect: Allow, Principal: {Service: sns.amazonaws.com}, Action: "lambda:InvokeFunction", Resource: "*"}
event_source_mappings:
  - {source: q, function: a}
traffic:
  - {target: a, invocation: sync, burst: 1, at: 0s, event: {order: 7}}
"""


def test_a_loop_of_two_functions_through_a_topic_and_a_queue_is_stopped():
    run = simulate(TWO_FUNCTIONS)
    # a (traffic) -> t -> b -> q -> a ... : a's 17th invocation, from the queue, is stopped
    assert run.metrics("a")["Invocations"] == 16 and run.metrics("b")["Invocations"] == 16
    assert run.metrics("a")["RecursiveInvocationsDropped"] == 2 and run.metrics("b")["RecursiveInvocationsDropped"] == 0
    assert run.report["recursion"] == {"loops_stopped": 1, "invocations_dropped": 2}
    assert run.queue("dlq")["messages"][0]["body"] == {"order": 7}  # what b forwards: the message inside SNS's
    for name in ("a", "b"):
        assert conservation_holds(run.outcomes(name))


def test_a_chain_that_is_not_a_loop_is_never_stopped():
    run = simulate("""\
        duration: 2m
        functions:
          a: {behaviour: {init: 100ms, duration: 100ms, sends: [function:b]}}
          b: {behaviour: {init: 100ms, duration: 100ms}}
        traffic:
          - {target: a, invocation: sync, rate: 20/s, for: 60s, event: {n: 1}}
        """)
    assert run.metrics("a")["Invocations"] == run.metrics("b")["Invocations"] == 1200
    assert run.report["recursion"] == {"loops_stopped": 0, "invocations_dropped": 0}


def test_an_eventbridge_bus_carries_no_chain_so_a_loop_through_it_runs_on():
    run = simulate("""\
        duration: 1m
        buses: {b: {targets: [function:f]}}
        functions:
          f:
            behaviour: {init: 100ms, duration: 100ms, sends: [bus:b]}
            resource_policy:
              - Effect: Allow
                Principal: {Service: events.amazonaws.com}
                Action: "lambda:InvokeFunction"
                Resource: "*"
        traffic:
          - {target: f, invocation: async, burst: 1, at: 0s, event: {n: 1}}
        """)
    assert run.metrics("f")["Invocations"] > 100 and run.metrics("f")["RecursiveInvocationsDropped"] == 0


def test_destinations_carry_the_chain_only_when_the_account_says_so():
    text = """\
        duration: 10m
        account: {recursion_via_destinations: VIA}
        functions:
          f:
            async: {on_success: function:f}
            behaviour: {init: 100ms, duration: 100ms}
        traffic:
          - {target: f, invocation: async, burst: 1, at: 0s, event: {n: 1}}
        """
    carried = simulate(text.replace("VIA", "true"))
    assert carried.metrics("f")["Invocations"] == 16 and carried.metrics("f")["RecursiveInvocationsDropped"] == 1
    fresh = simulate(text.replace("VIA", "false"))
    assert fresh.metrics("f")["Invocations"] > 1000 and "recursion" not in fresh.report  # nothing sends


def test_the_same_scenario_gives_the_same_report():
    assert report_json(TWO_FUNCTIONS) == report_json(TWO_FUNCTIONS)
    first, again = self_loop(requests=5), self_loop(requests=5)
    assert first.events == again.events


def test_scenarios_without_sends_have_no_recursion_figures():
    run = simulate("""\
        duration: 10s
        functions:
          f: {behaviour: {init: 100ms, duration: 100ms}}
        traffic:
          - {target: f, invocation: sync, burst: 3, at: 0s}
        """)
    assert "recursion" not in run.report
    assert "RecursiveInvocationsDropped" not in run.metrics() and "rejected" not in run.outcomes()
