"""Event shapes, checked by a library that knows them: a real handler behind every source the engine delivers
from prints each event it receives, and Powertools for AWS Lambda's parser models (pydantic models of AWS's
documented events, https://docs.powertools.aws.dev/lambda/python/latest/utilities/parser/) must accept each
one; so must every sample event shipped for `event: NAME` and `lambdalab invoke --event NAME`.

A model only knows a shape's fields and types; what no model checks (a DynamoDB record's Keys agreeing with
its NewImage, INSERT before MODIFY) is asserted here beside it.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, KinesisStreamEvent
from aws_lambda_powertools.utilities.parser.models import (
    AlbModel,
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
    DynamoDBStreamLambdaOnFailureDestinationModel,
    DynamoDBStreamModel,
    EventBridgeModel,
    KinesisDataStreamModel,
    LambdaFunctionUrlModel,
    S3Model,
    SnsModel,
    SnsNotificationModel,
    SqsModel,
)
from pydantic import BaseModel

from lambdalab import content
from lambdalab.engine import Simulation, parse_scenario

MARK = "EVENT "
HANDLER = f"""\
import json


def dump(event, context):
    print({MARK!r} + json.dumps(event))


def fails(event, context):
    print({MARK!r} + json.dumps(event))
    raise ValueError("this batch cannot be processed")


def keeps_state(event, context):
    print({MARK!r} + json.dumps(event))
    return {{"state": {{"seen": event["state"].get("seen", 0) + len(event["Records"])}}}}
"""

# Who may invoke `f`, for the sources that call it through its resource-based policy.
POLICY = """\
    resource_policy:
      - {Effect: Allow, Principal: {Service: [sns.amazonaws.com, events.amazonaws.com, s3.amazonaws.com]},
         Action: "lambda:InvokeFunction", Resource: "*"}
"""


def run_scenario(tmp_path: Path, parts: str, handler: str = "dump") -> tuple[list[dict], Simulation]:
    """Run a scenario whose function `f` is the real handler; returns every event it received, in order."""
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "shapes.py").write_text(HANDLER)
    text = f"""\
name: event shapes
duration: 30s
functions:
  f:
    code: {code}
    handler: shapes.{handler}
    behaviour: {{init: 0ms, duration: 10ms}}
{POLICY}{textwrap.dedent(parts)}"""
    received: list[dict] = []

    def listen(_time: float, kind: str, data: dict) -> None:
        if kind == "invoke_end" and data["function"] == "f":
            received.extend(
                json.loads(line[len(MARK) :]) for line in (data["output"] or "").splitlines() if line.startswith(MARK)
            )

    with Simulation(parse_scenario(text, name="shapes.yaml")) as sim:
        sim.subscribe(listen)
        sim.run()
    return received, sim


def records_in(events: list[dict]) -> list[dict]:
    return [record for event in events for record in event["Records"]]


# --- the checks no model makes --------------------------------------------------------------------


def sns_in_sqs(event: dict) -> None:
    """SNS delivers to a queue a JSON notification, not the event it sends a function
    (https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html): Powertools' SnsSqsEnvelope reads it so."""
    for record in event["Records"]:
        note = json.loads(record["body"])
        assert {"UnsubscribeURL", "SigningCertURL"} <= set(note), note  # the SQS spelling
        SnsNotificationModel.model_validate_json(record["body"])


def eventbridge_in_sqs(event: dict) -> None:
    """EventBridge sends a queue target the event itself, as JSON."""
    for record in event["Records"]:
        EventBridgeModel.model_validate_json(record["body"])


def keys_from_the_item(key: tuple[str, ...]) -> Callable[[dict], None]:
    """A table's stream record carries the item's primary key: Keys are exactly the key attributes of NewImage
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html)."""

    def check(event: dict) -> None:
        for record in event["Records"]:
            change = record["dynamodb"]
            assert change["Keys"] == {name: change["NewImage"][name] for name in key}, change

    return check


def sns_unsubscribe_url(event: dict) -> None:
    """https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html: the subscription ARN is the topic's and an id;
    the unsubscribe URL names it."""
    for record in event["Records"]:
        sns, subscription = record["Sns"], record["EventSubscriptionArn"]
        assert subscription.startswith(sns["TopicArn"] + ":")
        assert sns["UnsubscribeUrl"] == (
            "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + subscription
        )
        assert sns["SigningCertUrl"].startswith("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-")


# --- every source the engine delivers from --------------------------------------------------------


def sample(name: str) -> dict:
    return json.loads(content.sample_events()[name].read_text("utf-8"))


SOURCES: dict[str, tuple[str, type[BaseModel], int, Callable[[dict], None] | None]] = {
    # name: (scenario parts, model, events expected, a further check)
    "sqs": (
        """\
        queues: {orders: {}}
        event_source_mappings: [{source: "queue:orders", function: f, batch_size: 2}]
        traffic: [{target: "queue:orders", burst: 3, at: 0s, events: [{order: 1}, 42, {order: 3}]}]
        """,
        SqsModel,
        2,
        None,
    ),
    "sqs-fifo": (
        """\
        queues: {orders.fifo: {fifo: true}}
        event_source_mappings: [{source: "queue:orders.fifo", function: f}]
        traffic:
          - {target: "queue:orders.fifo", burst: 4, at: 0s, message_group: $.customer,
             events: [{customer: a, n: 1}, {customer: b, n: 2}]}
        """,
        SqsModel,
        1,
        None,
    ),
    "sns": (
        """\
        topics: {orders: {subscribers: ["function:f"]}}
        traffic: [{target: "topic:orders", burst: 2, at: 0s, events: [{order: 7}, 42]}]
        """,
        SnsModel,
        2,
        sns_unsubscribe_url,
    ),
    "sns-to-sqs": (
        """\
        topics: {orders: {subscribers: ["queue:inbox"]}}
        queues: {inbox: {}}
        event_source_mappings: [{source: "queue:inbox", function: f}]
        traffic: [{target: "topic:orders", burst: 2, at: 0s, event: {order: 7}}]
        """,
        SqsModel,
        1,
        sns_in_sqs,
    ),
    "eventbridge": (
        """\
        buses: {default: {targets: ["function:f"]}}
        traffic: [{target: "bus:default", burst: 2, at: 0s, events: [{order: 8}, scheduled]}]
        """,
        EventBridgeModel,
        2,
        None,
    ),
    "eventbridge-to-sqs": (
        """\
        buses: {default: {targets: ["queue:inbox"]}}
        queues: {inbox: {}}
        event_source_mappings: [{source: "queue:inbox", function: f}]
        traffic: [{target: "bus:default", burst: 2, at: 0s, event: {order: 8}}]
        """,
        SqsModel,
        1,
        eventbridge_in_sqs,
    ),
    "kinesis": (
        """\
        streams: {clicks: {type: kinesis, shards: 2}}
        event_source_mappings: [{source: "stream:clicks", function: f, starting_position: TRIM_HORIZON}]
        traffic: [{target: "stream:clicks", burst: 4, at: 0s, partition_key: $.user, events: [{user: ana}, {user: bo}]}]
        """,
        KinesisDataStreamModel,
        2,
        None,
    ),
    "dynamodb": (
        """\
        streams: {orders: {type: dynamodb, key: order_id}}
        event_source_mappings: [{source: "stream:orders", function: f, starting_position: TRIM_HORIZON}]
        traffic:
          - {target: "stream:orders", burst: 3, at: 0s,
             events: [{order_id: o-1, total: 5}, {order_id: o-2, total: 6}, {order_id: o-1, total: 7, paid: true}]}
        """,
        DynamoDBStreamModel,
        1,
        keys_from_the_item(("order_id",)),
    ),
    "dynamodb-default-key": (
        """\
        streams: {table: {type: dynamodb}}
        event_source_mappings: [{source: "stream:table", function: f, starting_position: TRIM_HORIZON}]
        traffic: [{target: "stream:table", burst: 2, at: 0s, events: [{pk: a, n: 1}, {pk: a, n: 2}]}]
        """,
        DynamoDBStreamModel,
        1,
        keys_from_the_item(("pk",)),
    ),
    "dynamodb-sort-key": (
        """\
        streams: {table: {type: dynamodb, key: [customer, order]}}
        event_source_mappings: [{source: "stream:table", function: f, starting_position: TRIM_HORIZON}]
        traffic:
          - {target: "stream:table", burst: 3, at: 0s,
             events: [{customer: c-1, order: 1}, {customer: c-1, order: 2}, {customer: c-1, order: 1, paid: true}]}
        """,
        DynamoDBStreamModel,
        1,
        keys_from_the_item(("customer", "order")),
    ),
    # Traffic stands in for the services below: it sends the sample event as that service would.
    "s3": (
        """\
        traffic: [{target: f, invocation: async, principal: s3.amazonaws.com, \
source_arn: "arn:aws:s3:::lambdalab-photos",
                   burst: 2, at: 0s, events: [s3-put, s3-delete]}]
        """,
        S3Model,
        2,
        None,
    ),
    "api-gateway-rest": (
        "traffic: [{target: f, burst: 1, at: 0s, event: api-gateway-rest}]\n",
        APIGatewayProxyEventModel,
        1,
        None,
    ),
    "api-gateway-http": (
        "traffic: [{target: f, burst: 1, at: 0s, event: api-gateway-http}]\n",
        APIGatewayProxyEventV2Model,
        1,
        None,
    ),
    "alb": ("traffic: [{target: f, burst: 1, at: 0s, event: alb}]\n", AlbModel, 1, None),
    "function-url": (
        "traffic: [{target: f, burst: 1, at: 0s, event: function-url}]\n",
        LambdaFunctionUrlModel,
        1,
        None,
    ),
    "scheduled": (
        "traffic: [{target: f, invocation: async, burst: 1, at: 0s, event: scheduled}]\n",
        EventBridgeModel,
        1,
        None,
    ),
}


@pytest.mark.parametrize("source", SOURCES)
def test_what_a_real_handler_receives_parses_with_the_matching_model(tmp_path, source):
    parts, model, count, check = SOURCES[source]
    events, _ = run_scenario(tmp_path, parts)
    assert len(events) == count
    for event in events:
        model.model_validate(event)
        if check is not None:
            check(event)


def test_a_dynamodb_stream_names_a_second_write_of_an_item_modify(tmp_path):
    """INSERT for an item's first write, MODIFY for the next write of the same primary key (another sort key is
    another item)."""
    events, _ = run_scenario(tmp_path, SOURCES["dynamodb-sort-key"][0])
    changes = [(r["eventName"], r["dynamodb"]["Keys"]) for r in records_in(events)]
    assert changes == [
        ("INSERT", {"customer": {"S": "c-1"}, "order": {"N": "1"}}),
        ("INSERT", {"customer": {"S": "c-1"}, "order": {"N": "2"}}),
        ("MODIFY", {"customer": {"S": "c-1"}, "order": {"N": "1"}}),
    ]


def test_an_item_without_its_key_attribute_gets_the_records_partition_key(tmp_path):
    """An item written without the table's partition key attribute is keyed by the traffic's partition key
    (here a new one each write), in Keys and in NewImage alike."""
    events, _ = run_scenario(
        tmp_path,
        """\
        streams: {table: {type: dynamodb}}
        event_source_mappings: [{source: "stream:table", function: f, starting_position: TRIM_HORIZON}]
        traffic: [{target: "stream:table", burst: 2, at: 0s, event: {user: ana}}]
        """,
    )
    DynamoDBStreamModel.model_validate(events[0])
    images = [r["dynamodb"]["NewImage"] for r in records_in(events)]
    assert images == [{"pk": {"S": "key-0"}, "user": {"S": "ana"}}, {"pk": {"S": "key-1"}, "user": {"S": "ana"}}]
    keys_from_the_item(("pk",))(events[0])


def test_a_dynamodb_on_failure_record_parses(tmp_path):
    """What a stream mapping sends its on-failure destination about a batch it gave up on."""
    _, sim = run_scenario(
        tmp_path,
        """\
        streams: {table: {type: dynamodb}}
        queues: {failures: {}}
        event_source_mappings: [{source: "stream:table", function: f, starting_position: TRIM_HORIZON, \
maximum_retry_attempts: 0, on_failure: "queue:failures"}]
        traffic: [{target: "stream:table", burst: 1, at: 0s, event: {pk: a}}]
        """,
        handler="fails",
    )
    messages = list(sim.queues["failures"].messages)
    assert len(messages) == 1
    DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(messages[0]["body"])


# Powertools has no parser model for a tumbling window's event (3.37: its Kinesis and DynamoDB models read the
# records only); its event source data classes read the window's fields, as a handler using them would.
WINDOWED = {
    "kinesis": (SOURCES["kinesis"][0], KinesisDataStreamModel, KinesisStreamEvent),
    "dynamodb": (SOURCES["dynamodb"][0], DynamoDBStreamModel, DynamoDBStreamEvent),
}


@pytest.mark.parametrize("source", WINDOWED)
def test_a_tumbling_windows_event_parses_and_carries_the_window(tmp_path, source):
    """https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html: the records, and `window`
    (start, end), `state`, `shardId`, `eventSourceARN`, `isFinalInvokeForWindow`, `isWindowTerminatedEarly`."""
    parts, model, data_class = WINDOWED[source]
    parts = parts.replace("starting_position: TRIM_HORIZON", "starting_position: TRIM_HORIZON, tumbling_window: 10s")
    events, sim = run_scenario(tmp_path, parts, handler="keeps_state")
    (stream,) = sim.streams.values()
    assert events and not events[-1]["Records"]  # the last window's final invocation
    for raw in events:
        model.model_validate(raw)
        event = data_class(raw)
        window = event.window
        assert window is not None
        start, end = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (window.start, window.end))
        assert (end - start).total_seconds() == 10 and start.timestamp() % 10 == 0
        assert isinstance(event.state, dict) and event.event_source_arn == stream.arn
        assert event.shard_id is not None and event.shard_id.startswith("shardId-")
        assert event.is_final_invoke_for_window is (not raw["Records"]) and event.is_window_terminated_early is False
        for record in raw["Records"]:
            assert record["eventSourceARN"] == stream.arn
            if source == "kinesis":
                assert record["eventID"].startswith(event.shard_id + ":")
    # Each shard's final invocation gets the state its batches built: here, how many records they held.
    finals = {e["shardId"]: e["state"]["seen"] for e in events if e["isFinalInvokeForWindow"]}
    read = {shard: sum(len(e["Records"]) for e in events if e["shardId"] == shard) for shard in finals}
    assert finals == read and sum(read.values()) == stream.written


# --- the shipped sample events --------------------------------------------------------------------

SAMPLE_MODELS: dict[str, type[BaseModel]] = {
    "alb": AlbModel,
    "api-gateway-http": APIGatewayProxyEventV2Model,
    "api-gateway-rest": APIGatewayProxyEventModel,
    "dynamodb-stream": DynamoDBStreamModel,
    "eventbridge": EventBridgeModel,
    "function-url": LambdaFunctionUrlModel,
    "kinesis": KinesisDataStreamModel,
    "s3-delete": S3Model,
    "s3-put": S3Model,
    "scheduled": EventBridgeModel,
    "sns": SnsModel,
    "sqs": SqsModel,
}
# Powertools has no model for Lambda@Edge's CloudFront events; lambdalab.engine.edge checks what those return.
NO_MODEL = {
    "cloudfront-origin-request",
    "cloudfront-origin-response",
    "cloudfront-viewer-request",
    "cloudfront-viewer-response",
}


def test_every_sample_event_has_a_model_or_is_known_to_have_none():
    assert set(content.sample_events()) == set(SAMPLE_MODELS) | NO_MODEL


@pytest.mark.parametrize("name", SAMPLE_MODELS)
def test_a_shipped_sample_event_parses_with_its_model(name):
    event: Any = sample(name)
    SAMPLE_MODELS[name].model_validate(event)
    if name == "dynamodb-stream":
        for record in event["Records"]:
            change = record["dynamodb"]
            for image in ("NewImage", "OldImage"):
                if image in change:
                    assert all(change[image][k] == v for k, v in change["Keys"].items())
