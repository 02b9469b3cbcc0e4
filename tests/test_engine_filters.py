"""Event filtering on event source mappings: which records reach the function, and what happens to the rest.

Facts: https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html (up to 5 filters by default,
ORed; a record matching none is discarded: SQS deletes the message, a stream moves past the record; keys
ANDed; prefix, numeric, exists; JSON bodies and Kinesis data matched as JSON), and /work/shared/spec/scenarios.md
("Event source mappings: provisioned pollers, tumbling windows, filters"): PolledEventCount,
FilteredOutEventCount, InvokedEventCount.
"""

from __future__ import annotations

import pytest
from engine_helpers import simulate
from test_scenario_validation import problems

from lambdalab.engine.filters import pattern_matches
from lambdalab.engine.model import FilterPattern, FilterValue


def pattern(**fields) -> FilterPattern:
    """A pattern from keyword fields: a dict nests, a list is a leaf's values (dicts in it are operators)."""

    def value(v):
        if isinstance(v, dict):
            ((kind, arg),) = v.items()
            return FilterValue(kind, tuple(zip(arg[::2], arg[1::2])) if kind == "numeric" else arg)
        return FilterValue("equals", v)

    return FilterPattern(
        tuple((k, pattern(**v) if isinstance(v, dict) else tuple(value(x) for x in v)) for k, v in fields.items())
    )


@pytest.mark.parametrize(
    "fields, record, matched",
    [
        ({"type": ["order"]}, {"type": "order"}, True),
        ({"type": ["order", "refund"]}, {"type": "refund"}, True),  # a leaf's values are alternatives
        ({"type": ["order"]}, {"type": "Order"}, False),  # exact, case included
        ({"amount": [100]}, {"amount": "100"}, False),  # JSON types stay apart
        ({"amount": [100]}, {"amount": 100.0}, True),
        ({"flag": [True]}, {"flag": 1}, False),
        ({"amount": [{"numeric": [">=", 100]}]}, {"amount": 100}, True),
        ({"amount": [{"numeric": [">", 0, "<=", 5]}]}, {"amount": 6}, False),
        ({"amount": [{"numeric": [">", 0, "<=", 5]}]}, {"amount": 5}, True),
        ({"amount": [{"numeric": [">", 0]}]}, {"amount": "7"}, False),  # numeric needs a number
        ({"region": [{"prefix": "eu-"}]}, {"region": "eu-west-1"}, True),
        ({"region": [{"prefix": "eu-"}]}, {"region": "us-east-1"}, False),
        ({"coupon": [{"exists": False}]}, {"type": "order"}, True),
        ({"coupon": [{"exists": False}]}, {"coupon": None}, False),  # present, even as null
        ({"coupon": [{"exists": True}]}, {"coupon": "X"}, True),
        ({"coupon": [None]}, {"coupon": None}, True),
        ({"tags": ["vip"]}, {"tags": ["new", "vip"]}, True),  # a list matches when one of its items does
        ({"type": ["order"], "amount": [{"numeric": [">", 10]}]}, {"type": "order", "amount": 5}, False),  # ANDed
        ({"order": {"type": ["order"]}}, {"order": {"type": "order"}}, True),  # nested keys look inside
        ({"order": {"type": ["order"]}}, {"order": "order"}, False),
        ({"type": ["order"]}, "order", False),  # a plain value has no fields
    ],
)
def test_a_pattern_matches_as_aws_documents(fields, record, matched):
    assert pattern_matches(pattern(**fields), record) is matched


QUEUE = """\
name: filtered
duration: 2m
functions:
  worker: {behaviour: {init: 200ms, duration: 100ms}}
queues:
  orders: {visibility_timeout: 30s QUEUE}
event_source_mappings:
  - source: queue:orders
    function: worker
    batch_size: 5
    batching_window: 1s
    filter_criteria:
      - {body: {type: [order], amount: [{numeric: [">=", 100]}]}}
      - {body: {region: [{prefix: "eu-"}], coupon: [{exists: false}]}}
traffic:
  - target: queue:orders
    rate: 10/s
    for: 60s
    EXTRA
    events:
      - {type: order, amount: 150}
      - {type: order, amount: 50}
      - {type: refund, amount: 500, region: eu-west-1}
      - {type: refund, amount: 500, region: eu-west-1, coupon: X}
      - {type: refund, amount: 5, region: us-east-1}
"""


def queue_run(queue: str = "", extra: str = ""):
    return simulate(QUEUE.replace("QUEUE", queue).replace("EXTRA", extra))


def test_sqs_messages_that_match_no_filter_are_deleted_without_an_invocation():
    run = queue_run()
    mapping = run.report["event_source_mappings"][0]
    assert mapping["events"] == {"polled": 600, "filtered": 360, "invoked": 240}  # 2 of each 5 events pass
    queue = run.queue("orders")
    assert queue["NumberOfMessagesDeleted"] == 600 and queue["ApproximateNumberOfMessagesVisible"] == 0
    bodies = [m for _, d in run.of("batch") for m in d["messages"]]
    assert len(bodies) == 240 and run.outcomes("worker")["succeeded"] == len(run.of("batch"))
    assert run.metrics("worker")["Invocations"] == len(run.of("batch"))


def test_a_batch_every_filter_turns_away_invokes_nothing():
    text = QUEUE.replace("QUEUE", "").replace("EXTRA", "")
    run = simulate(text[: text.index("    events:")] + "    event: {type: refund, region: us-east-1}\n")
    assert run.report["event_source_mappings"][0]["events"] == {"polled": 600, "filtered": 600, "invoked": 0}
    assert run.metrics("worker")["Invocations"] == 0 and run.queue("orders")["NumberOfMessagesDeleted"] == 600


def test_a_fifo_queue_keeps_order_for_the_messages_that_pass():
    text = (
        QUEUE.replace("orders: {visibility_timeout: 30s QUEUE}", "orders.fifo: {visibility_timeout: 30s, fifo: true}")
        .replace("queue:orders", "queue:orders.fifo")
        .replace("EXTRA", "message_groups: 2")
    )
    run = simulate(text)
    assert run.report["event_source_mappings"][0]["events"] == {"polled": 600, "filtered": 360, "invoked": 240}
    assert run.queue("orders.fifo")["ApproximateNumberOfMessagesVisible"] == 0
    by_group: dict[str, list[int]] = {}
    for _, batch in run.of("batch"):
        for number, group in zip(batch["messages"], batch["groups"]):
            by_group.setdefault(group, []).append(number)
    assert len(by_group) == 2 and sum(map(len, by_group.values())) == 240
    assert all(numbers == sorted(numbers) for numbers in by_group.values())


STREAM = """\
name: filtered-stream
duration: 1m
functions:
  counter: {behaviour: {init: 0s, duration: 50ms}}
streams:
  clicks: {type: KIND, shards: 2}
event_source_mappings:
  - source: stream:clicks
    function: counter
    starting_position: TRIM_HORIZON
    batch_size: 10
    filter_criteria: [FILTER]
traffic:
  - target: stream:clicks
    rate: 20/s
    for: 30s
    events:
      - {page: /buy, ms: 120}
      - {page: /home, ms: 30}
      - {page: /buy, ms: 10}
      - {page: /help, ms: 900}
"""


def test_a_kinesis_mapping_reads_past_records_that_match_no_filter():
    run = simulate(
        STREAM.replace("KIND", "kinesis").replace("FILTER", "{data: {page: [/buy], ms: [{numeric: ['>', 50]}]}}")
    )
    mapping = run.report["event_source_mappings"][0]
    assert mapping["events"] == {"polled": 600, "filtered": 450, "invoked": 150}
    records = run.report["streams"]["clicks"]["records"]
    assert records["filtered"] == 450 and records["processed"] == 150
    assert (
        sum(
            records[k]
            for k in (
                "processed",
                "to_on_failure",
                "discarded",
                "expired",
                "skipped",
                "filtered",
                "in_flight",
                "unread",
            )
        )
        == 600
    )  # every record accounted for once


def test_a_dynamodb_mapping_filters_on_the_change_and_its_image():
    run = simulate(
        STREAM.replace("KIND", "dynamodb").replace(
            "FILTER", "{eventName: [INSERT], dynamodb: {NewImage: {page: {S: [/help]}}}}"
        )
    )
    assert run.report["event_source_mappings"][0]["events"] == {"polled": 600, "filtered": 450, "invoked": 150}


@pytest.mark.parametrize(
    "criteria, message",
    [
        ("[{bdy: {type: [order]}}]", "an SQS message has no field 'bdy' (did you mean 'body'?)"),
        ("[{body: {type: order}}]", "a filter's leaf is a list of the values that match"),
        ("[{body: {type: [{anything-but: [x]}]}}]", "the 'anything-but' filter operator is not simulated yet"),
        ("[{body: {type: [{prefx: x}]}}]", "unknown filter operator 'prefx' (did you mean 'prefix'?)"),
        ("[{body: {n: [{numeric: ['>>', 1]}]}}]", "numeric takes one or two comparisons"),
        ("[{body: {n: [{numeric: [[], 100]}]}}]", "numeric takes one or two comparisons"),
        ("[{body: {n: [{exists: yes please}]}}]", "exists takes true or false"),
        ("[" + ", ".join(["{body: {n: [1]}}"] * 6) + "]", "6 filters: a mapping has at most 5 (the default quota"),
        ("[{}]", "an empty pattern matches nothing useful"),
    ],
)
def test_bad_filters_are_refused_with_the_place_and_the_rule(criteria, message):
    text = QUEUE.replace("QUEUE", "").replace("EXTRA", "")
    start = text.index("    filter_criteria:")
    end = text.index("traffic:")
    found = problems(text[:start] + f"    filter_criteria: {criteria}\n" + text[end:])
    assert any(message in p and "filter_criteria" in p for p in found), found
