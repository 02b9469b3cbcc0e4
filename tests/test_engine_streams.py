"""Kinesis and DynamoDB Streams mappings: order per shard, retries that hold a shard, bisecting, partial batch
responses, on-failure records, record age and retention, starting positions, IteratorAge; and their checks."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import run_cli
from engine_helpers import Run, simulate
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdalab.engine.keys import shard_for

HANDLERS = Path(__file__).parent / "handlers"
EIGHT_WITH_POISON_FOURTH = "[{n: 0}, {n: 1}, {n: 2}, {poison: true}, {n: 4}, {n: 5}, {n: 6}, {n: 7}]"


def stream_run(
    mapping: str = "",
    *,
    behaviour: str = "{init: 0ms, duration: 100ms, errors: {when: {path: $.poison, equals: true}}}",
    traffic: str = f"burst: 8, at: 0s, partition_key: one, events: {EIGHT_WITH_POISON_FOURTH}",
    stream: str = "{type: kinesis}",
    duration: str = "2m",
    function_extra: str = "",
    **kwargs,
) -> Run:
    return simulate(
        f"""
        duration: {duration}
        functions:
          f:
            timeout: 30s
            behaviour: {behaviour}
            {function_extra}
        queues: {{failures: {{}}}}
        streams: {{clicks: {stream}}}
        event_source_mappings:
          - {{source: stream:clicks, function: f, starting_position: TRIM_HORIZON, {mapping}}}
        traffic:
          - {{target: stream:clicks, {traffic}}}
        """,
        **kwargs,
    )


def records(run: Run) -> dict:
    return run.report["streams"]["clicks"]["records"]


def successful_batches(run: Run) -> list[dict]:
    """The batches whose invocation succeeded, in the order they ended (none here report partial failures)."""
    ok = {d["request_id"] for _, d in run.of("invoke_end") if d["error"] is None}
    ended = {d["request_id"]: t for t, d in run.of("invoke_end")}
    return sorted((d for _, d in run.of("batch") if d["request_id"] in ok), key=lambda d: ended[d["request_id"]])


def test_every_record_is_processed_once_in_order_per_shard():
    run = stream_run(
        "batch_size: 7",
        behaviour="{init: 0ms, duration: 50ms}",
        stream="{type: kinesis, shards: 3}",
        traffic="rate: 50/s, for: 20s, event: {n: 1}",
    )
    figures = records(run)
    assert run.report["streams"]["clicks"]["IncomingRecords"] == 1000
    assert figures["processed"] == 1000 and figures["unread"] == figures["in_flight"] == 0
    by_shard = defaultdict(list)
    for batch in successful_batches(run):
        assert len(batch["records"]) <= 7
        by_shard[batch["shard"]].extend(batch["records"])
    assert len(by_shard) == 3  # distinct keys spread over every shard
    for numbers in by_shard.values():
        assert numbers == list(range(1, len(numbers) + 1))  # each record once, in its shard's order


def test_a_poison_record_holds_its_shard_with_the_default_settings():
    poison_key, good_key = (
        "user-1",
        next(k for k in (f"user-{i}" for i in range(2, 50)) if shard_for(k, 2) != shard_for("user-1", 2)),
    )
    run = stream_run(
        stream="{type: kinesis, shards: 2}",
        duration="5m",
        traffic=f"rate: 10/s, for: 60s, partition_key: $.user, events: [{{user: {poison_key}, poison: true}}, "
        f"{{user: {good_key}}}]",
    )
    figures = records(run)
    # The good key's 300 records all pass; the poison's shard retries its first batch until the end.
    assert figures["processed"] == 300
    assert figures["in_flight"] + figures["unread"] == 300 and figures["to_on_failure"] == figures["discarded"] == 0
    assert run.metrics()["IteratorAge"] == pytest.approx(300_000, abs=1_000)  # the stuck record is as old as the run
    assert run.outcomes()["retried"] > 1000  # retried again and again, the shard making no progress


def test_retries_run_out_and_the_whole_batch_goes_to_the_on_failure_destination():
    run = stream_run("maximum_retry_attempts: 2, on_failure: queue:failures")
    assert run.metrics()["Invocations"] == 3 and run.metrics()["Errors"] == 3
    assert records(run) == {
        "processed": 0,
        "to_on_failure": 8,
        "discarded": 0,
        "expired": 0,
        "skipped": 0,
        "in_flight": 0,
        "unread": 0,
    }
    failure = run.queue("failures")["messages"][0]["body"]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    info = failure["KinesisBatchInfo"]
    assert info["batchSize"] == 8 and info["shardId"] == "shardId-000000000000"
    assert info["startSequenceNumber"] < info["endSequenceNumber"] and len(info["startSequenceNumber"]) == 56
    assert info["streamArn"] == "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
    assert "Records" not in json.dumps(failure)  # the record describes the batch, not its data


def test_without_a_destination_the_batch_is_discarded_and_the_shard_moves_on():
    run = stream_run(
        "maximum_retry_attempts: 0", traffic=f"burst: 8, at: 0s, partition_key: one, events: {EIGHT_WITH_POISON_FOURTH}"
    )
    assert records(run)["discarded"] == 8 and run.metrics()["Invocations"] == 1


def test_bisecting_isolates_the_poison_record_without_using_retries():
    run = stream_run("maximum_retry_attempts: 0, bisect_on_error: true, on_failure: queue:failures")
    # 8 fails -> 0-3 fails -> 0-1 ok -> 2-3 fails -> 2 ok -> 3 fails and is given up -> 4-7 ok
    sizes = [len(d["records"]) for _, d in run.of("batch")]
    assert sizes == [8, 4, 2, 2, 1, 1, 4]
    assert records(run)["processed"] == 7 and records(run)["to_on_failure"] == 1
    failure = run.queue("failures")["messages"][0]["body"]["KinesisBatchInfo"]
    assert failure["batchSize"] == 1 and failure["startSequenceNumber"] == failure["endSequenceNumber"]


def test_a_partial_batch_response_checkpoints_at_the_failed_record():
    run = stream_run("report_batch_item_failures: true, maximum_retry_attempts: 1")
    first, second = [d["records"] for _, d in run.of("batch")]
    assert first == list(range(1, 9)) and second == list(range(4, 9))  # retried from the poison record on
    assert run.metrics()["Errors"] == 0  # the modelled code returned its failures
    assert records(run)["processed"] == 3 and records(run)["discarded"] == 5


def test_real_code_reports_the_sequence_number_it_failed_on():
    run = stream_run(
        "report_batch_item_failures: true, maximum_retry_attempts: 1, bisect_on_error: true",
        behaviour="{init: 0ms, duration: 100ms}",
        function_extra=f"code: {HANDLERS}\n            handler: app.stream_partial",
        listen=True,
    )
    batches = [d["records"] for _, d in run.of("batch")]
    assert batches[:2] == [list(range(1, 9)), [4, 5]]  # checkpoint at 4, then the rest bisected
    assert records(run)["processed"] == 7 and records(run)["discarded"] == 1


@pytest.mark.parametrize("stream", ["{type: kinesis}", "{type: dynamodb, key: user}"])
def test_real_code_gets_the_event_aws_sends(stream):
    run = stream_run(
        behaviour="{init: 0ms, duration: 10ms}",
        stream=stream,
        traffic="burst: 1, at: 0s, event: {user: ana}",
        function_extra=f"code: {HANDLERS}\n            handler: app.stream_event_shape",
    )
    assert run.metrics()["Errors"] == 0 and records(run)["processed"] == 1


def test_records_past_the_maximum_age_are_given_up_and_the_shard_resumes():
    run = stream_run(
        "maximum_record_age: 60s, on_failure: queue:failures",
        duration="3m",
        traffic=f"burst: 8, at: 0s, partition_key: one, events: {EIGHT_WITH_POISON_FOURTH}",
    )
    failure = run.queue("failures")["messages"][0]
    assert failure["body"]["requestContext"]["condition"] == "MaximumRecordAgeExceeded"
    assert failure["sent_at_s"] == pytest.approx(60.0, abs=0.2)
    assert records(run)["to_on_failure"] == 8


def test_a_stalled_record_expires_with_the_stream_retention():
    run = stream_run(
        behaviour="{init: 0ms, duration: 20s, errors: {when: {path: $.poison, equals: true}}}",
        duration="25h",
        traffic="burst: 1, at: 0s, partition_key: one, event: {poison: true}",
        listen=False,
    )
    assert records(run)["expired"] == 1 and records(run)["processed"] == 0
    assert run.outcomes()["retried"] == pytest.approx(86_400 / 20, abs=2)  # a day of retries, then the record is gone


@pytest.mark.parametrize("position, skipped", [("TRIM_HORIZON", 0), ("LATEST", 600), ("AT_TIMESTAMP", 300)])
def test_the_starting_position_decides_whether_the_backlog_is_read(position, skipped):
    extra = ", starting_position_timestamp: '2025-12-31T23:55:00Z'" if position == "AT_TIMESTAMP" else ""
    run = simulate(f"""
        duration: 2m
        functions:
          f: {{behaviour: {{init: 0ms, duration: 10ms}}}}
        streams: {{clicks: {{type: kinesis, backlog: {{records: 600, over: 10m}}}}}}
        event_source_mappings:
          - {{source: stream:clicks, function: f, starting_position: {position}{extra}}}
        traffic:
          - {{target: stream:clicks, rate: 1/s, for: 60s, event: {{n: 1}}}}
        """)
    figures = run.report["streams"]["clicks"]["records"]
    assert figures["skipped"] == skipped and figures["processed"] == 660 - skipped
    age = run.metrics()["IteratorAge"]
    if position == "LATEST":
        assert age < 1_000  # only new records, read as they come
    else:  # the first batch of 100 old records ends with one written 100 s after the starting point
        assert age == pytest.approx((600 - skipped - 100 + 1) * 1000, rel=0.01)


def test_parallelization_runs_several_batches_per_shard_and_keeps_order_per_key():
    run = stream_run(
        "batch_size: 10, parallelization_factor: 5",
        behaviour="{init: 0ms, duration: 2s}",
        stream="{type: kinesis, shards: 2, backlog: {records: 2000, over: 1m}}",
        traffic="rate: 1/s, for: 1s, event: {}",
    )
    assert run.metrics()["ConcurrentExecutions"] == 10  # 2 shards x 5
    last_seen: dict[str, int] = {}
    for batch in successful_batches(run):
        for number, key in zip(batch["records"], batch["keys"]):
            assert number > last_seen.get((batch["shard"], key), 0)
            last_seen[(batch["shard"], key)] = number


def test_throttled_batches_are_retried_without_counting_as_attempts():
    run = stream_run(
        "maximum_retry_attempts: 0",
        behaviour="{init: 0ms, duration: 3s}",
        function_extra="reserved_concurrency: 1",
        stream="{type: kinesis, shards: 4}",
        traffic="burst: 40, at: 0s, event: {n: 1}",
    )
    assert run.metrics()["Throttles"] > 0
    assert records(run)["processed"] == 40 and records(run)["discarded"] == 0


def test_dynamodb_shards_are_polled_four_times_a_second():
    kinesis = stream_run(behaviour="{init: 0ms, duration: 10ms}", traffic="burst: 1, at: 0.1s, event: {n: 1}")
    dynamodb = stream_run(
        behaviour="{init: 0ms, duration: 10ms}", stream="{type: dynamodb}", traffic="burst: 1, at: 0.1s, event: {n: 1}"
    )
    assert kinesis.times("invoke_start") == [pytest.approx(1.0)]
    assert dynamodb.times("invoke_start") == [pytest.approx(0.25)]


def test_iterator_age_is_a_series_and_an_expectation():
    run = simulate(
        """
        duration: 1m
        functions:
          f: {behaviour: {init: 0ms, duration: 500ms}}
        streams: {clicks: {type: kinesis}}
        event_source_mappings:
          - {source: stream:clicks, function: f, starting_position: LATEST, batch_size: 1}
        traffic:
          - {target: stream:clicks, rate: 4/s, for: 1m, event: {n: 1}}
        expect:
          - {stream: clicks, metric: IteratorAge, op: ">", value: 20000}
          - {stream: clicks, metric: unread, op: ">", value: 0}
        """,
        series_step=10,
    )
    ages = run.report["series"]["functions"]["f"]["IteratorAge"]
    assert (
        ages == sorted(ages) and ages[-1] > ages[0]
    )  # one record at a time, twice as slow as they come: it falls behind
    assert all(e["passed"] for e in run.report["expectations"])


BIG_DATA = "{n: 1, blob: " + "x" * 700_000 + "}"  # base64 makes it 0.93 MB: six fit in a 6 MB batch


@settings(max_examples=25, deadline=None)
@given(
    shards=st.integers(1, 3),
    factor=st.integers(1, 3),
    batch=st.integers(1, 20),
    keys=st.integers(1, 12),
    error_rate=st.sampled_from([0.0, 0.2, 0.5]),
    bisect=st.booleans(),
    retries=st.sampled_from([-1, 0, 2]),
    window=st.sampled_from(["", ", batching_window: 3s"]),
    big=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_no_record_is_lost_or_processed_out_of_order(
    shards, factor, batch, keys, error_rate, bisect, retries, window, big, seed
):
    """Whatever the settings: every record ends in one place, and each key's records succeed in the order written."""
    errors = f", errors: {{rate: {error_rate}}}" if error_rate else ""
    run = stream_run(
        f"batch_size: {batch}, parallelization_factor: {factor}, bisect_on_error: {str(bisect).lower()}, "
        f"maximum_retry_attempts: {retries}, on_failure: queue:failures{window}",
        behaviour=f"{{init: 0ms, duration: 50ms{errors}}}",
        stream=f"{{type: kinesis, shards: {shards}}}",
        traffic=f"rate: 20/s, for: 10s, partition_keys: {keys}, event: {BIG_DATA if big else '{n: 1}'}",
        duration="10m",
        seed=seed,
    )
    figures = records(run)
    assert sum(figures.values()) == run.report["streams"]["clicks"]["IncomingRecords"] == 200
    assert figures["in_flight"] == figures["unread"] == 0  # ten minutes is long enough to finish
    succeeded = [(b["shard"], n, k) for b in successful_batches(run) for n, k in zip(b["records"], b["keys"])]
    assert len(succeeded) == figures["processed"]
    last: dict[str, int] = {}
    for _shard, number, key in succeeded:
        assert number > last.get(key, 0)
        last[key] = number
    if retries == -1:
        assert figures["processed"] == 200  # retried until they pass: nothing skipped


def test_same_scenario_same_report(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("""
duration: 1m
functions:
  f: {behaviour: {init: 10ms, duration: {mean: 80ms, jitter: 40ms}, errors: {rate: 0.3}}}
streams: {clicks: {type: kinesis, shards: 3}}
event_source_mappings:
  - {source: stream:clicks, function: f, starting_position: TRIM_HORIZON, bisect_on_error: true, \
maximum_retry_attempts: 1, parallelization_factor: 2}
traffic:
  - {target: stream:clicks, rate: 30/s, for: 50s, arrivals: poisson, event: {n: 1}}
""")
    first, second = (run_cli("sim", str(path), "--json", "--series", "5s") for _ in range(2))
    assert first.returncode == 0 and first.stdout == second.stdout


BAD = """\
duration: 1m
functions:
  f:
    timeout: 30s
    behaviour: {init: 0ms, duration: 10ms}
    ROLE
queues: {q: {visibility_timeout: 60s}, q2.fifo: {fifo: true, visibility_timeout: 60s}}
streams: {clicks: {type: kinesis}, table: {type: dynamodb}}
event_source_mappings:
  - MAPPING
traffic:
  - TRAFFIC
"""


@pytest.mark.parametrize(
    "mapping, traffic, role, message",
    [
        (
            "{source: stream:clicks, function: f}",
            "{target: stream:clicks, burst: 1, at: 0s}",
            "",
            "missing required key 'starting_position'",
        ),
        (
            "{source: stream:clicks, function: f, starting_position: LATEST, maximum_concurrency: 5}",
            "{target: f, burst: 1, at: 0s}",
            "",
            "maximum_concurrency applies only to SQS mappings",
        ),
        (
            "{source: queue:q, function: f, bisect_on_error: true}",
            "{target: f, burst: 1, at: 0s}",
            "",
            "bisect_on_error applies only to Kinesis and DynamoDB Streams mappings",
        ),
        (
            "{source: stream:table, function: f, starting_position: AT_TIMESTAMP, "
            "starting_position_timestamp: '2025-12-31T00:00:00Z'}",
            "{target: f, burst: 1, at: 0s}",
            "",
            "AT_TIMESTAMP is for Kinesis streams only",
        ),
        (
            "{source: stream:clicks, function: f, starting_position: LATEST, on_failure: queue:nowhere}",
            "{target: f, burst: 1, at: 0s}",
            "",
            "no queue or topic named 'nowhere'",
        ),
        (
            "{source: stream:clicks, function: f, starting_position: LATEST, maximum_record_age: 200h}",
            "{target: f, burst: 1, at: 0s}",
            "",
            "above the maximum of 7 days",
        ),
        (
            "{source: stream:clicks, function: f, starting_position: LATEST, maximum_record_age: 8d}",
            "{target: f, burst: 1, at: 0s}",
            "",
            "maximum_record_age: 691200 s is above the maximum of 7 days",  # durations take d since the 2026 keys
        ),
        (
            "{source: stream:clicks, function: f, starting_position: LATEST}",
            "{target: f, burst: 1, at: 0s}",
            "role: {policies: [{Version: '2012-10-17', Statement: [{Effect: Allow, Action: 'kinesis:Describe*', "
            "Resource: '*'}]}]}",
            "The provided execution role does not have permissions to call GetRecords on Kinesis",
        ),
        (
            "{source: queue:q, function: f}",
            "{target: f, burst: 1, at: 0s}",
            "role: {policies: [{Version: '2012-10-17', Statement: [{Effect: Allow, Action: 'logs:*', "
            "Resource: '*'}]}]}",
            "The provided execution role does not have permissions to call ReceiveMessage on SQS",
        ),
        (
            "{source: queue:q2.fifo, function: f, batch_size: 11, batching_window: 1s}",
            "{target: f, burst: 1, at: 0s}",
            "",
            "11 is above the maximum of 10 for a FIFO queue",
        ),
        (
            "{source: queue:q2.fifo, function: f}",
            "{target: queue:q2.fifo, burst: 1, at: 0s}",
            "",
            "every message sent to a FIFO queue needs a message group id",
        ),
        (
            "{source: stream:clicks, function: f, starting_position: LATEST}",
            "{target: f, burst: 1, at: 0s, partition_key: a}",
            "",
            "partition_key is for traffic to a stream",
        ),
        (
            "{source: stream:clicks, function: f, starting_position: LATEST}",
            "{target: stream:clicks, burst: 1, at: 0s, partition_key: $.user, event: {n: 1}}",
            "",
            "the event has no text or number at $.user to use as the partition key",
        ),
        # A DynamoDB table's key schema (the stream's `key`) and the items written to it
        (
            "{source: stream:table, function: f, starting_position: LATEST}",
            "{target: stream:table, burst: 1, at: 0s, partition_key: $.pk, event: {pk: a}}",
            "",
            "the item has 'pk', the partition key of table 'table': the item's own key decides its shard and order",
        ),
        (
            "{source: stream:table, function: f, starting_position: LATEST}",
            "{target: stream:table, burst: 2, at: 0s, events: [{pk: a}, {pk: 1}]}",
            "",
            "traffic[0].events[1]: 'pk' is a text in one item and a number in another",
        ),
        (
            "{source: stream:table, function: f, starting_position: LATEST}",
            "{target: stream:table, burst: 1, at: 0s, event: {pk: {nested: 1}}}",
            "",
            "'pk' is part of the primary key of table 'table': a non-empty text or a number",
        ),
        (
            "{source: stream:table, function: f, starting_position: LATEST}",
            "{target: stream:table, burst: 1, at: 0s, event: {pk: true}}",
            "",
            "'pk' is part of the primary key of table 'table': a non-empty text or a number, not true",
        ),
    ],
)
def test_mappings_and_traffic_are_checked_as_aws_checks_them(tmp_path, mapping, traffic, role, message):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD.replace("MAPPING", mapping).replace("TRAFFIC", traffic).replace("ROLE", role))
    result = run_cli("sim", str(path))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "streams, traffic, message",
    [
        (
            "{clicks: {type: kinesis, key: pk}}",
            "{target: stream:clicks, burst: 1, at: 0s}",
            "streams.clicks.key: key is a DynamoDB table's key schema",
        ),
        (
            "{table: {type: dynamodb, key: [customer, order]}}",
            "{target: stream:table, burst: 1, at: 0s, event: {customer: c}}",
            "the item has no 'order', the sort key of table 'table'",
        ),
        (
            "{table: {type: dynamodb, key: [customer, order]}}",
            "{target: stream:table, burst: 1, at: 0s, event: {customer: c, order: ''}}",
            "'order' is part of the primary key of table 'table'",
        ),
        (
            "{table: {type: dynamodb, key: [a, b, c]}}",
            "{target: stream:table, burst: 1, at: 0s}",
            'streams.table.key: ["a", "b", "c"] is not an attribute name such as order_id, '
            "or [partition key, sort key]",
        ),
        (
            "{table: {type: dynamodb, key: [customer, order], "
            "backlog: {records: 5, over: 1m, message: {customer: c}}}}",
            "{target: f, burst: 1, at: 0s}",
            "streams.table.backlog.message: the item has no 'order'",
        ),
    ],
)
def test_a_tables_key_schema_is_checked_against_its_items(tmp_path, streams, traffic, message):
    path = tmp_path / "bad.yaml"
    path.write_text(f"""\
duration: 1m
functions: {{f: {{behaviour: {{init: 0ms, duration: 10ms}}}}}}
streams: {streams}
traffic: [{traffic}]
""")
    result = run_cli("sim", str(path))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_dynamodb_items_own_key_decides_its_shard():
    """Writes of one item (one `pk`) land on one shard, picked by its key; an item without `pk` takes the
    traffic's partition key, a new one each write by default. (INSERT then MODIFY: tests/test_event_shapes.py.)"""
    run = simulate("""
        duration: 1m
        functions: {f: {timeout: 30s, behaviour: {init: 0ms, duration: 10ms}}}
        streams: {table: {type: dynamodb, shards: 4}}
        event_source_mappings: [{source: stream:table, function: f, starting_position: TRIM_HORIZON, batch_size: 100}]
        traffic: [{target: stream:table, burst: 6, at: 0s, events: [{pk: a, n: 1}, {pk: b, n: 2}, {n: 3}]}]
        """)
    seen = [(d["shard"], key) for _, d in run.of("batch") for key in d["keys"]]
    assert sorted(key for _, key in seen) == ["a", "a", "b", "b", "key-2", "key-5"]
    assert all(shard == shard_for(key, 4) for shard, key in seen)
