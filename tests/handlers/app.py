"""Handlers the runtime tests call: well-behaved ones, and the hostile or careless kinds learners write."""

import base64
import json
import logging
import os
import subprocess
import sys
import time

INVOCATIONS = 0  # module level: lives as long as the environment
CLIENT_CREATED_AT = time.time()
logger = logging.getLogger()


def counter(event, context):
    """Warm reuse: the global counts invocations of this environment; /tmp keeps a file between them."""
    global INVOCATIONS
    INVOCATIONS += 1
    path = os.path.join(os.environ["TMPDIR"], "seen.txt")
    with open(path, "a") as seen:
        seen.write(context.aws_request_id + "\n")
    with open(path) as seen:
        lines = seen.read().splitlines()
    print(f"invocation {INVOCATIONS}")
    logger.warning("logged through logging")
    return {"invocations": INVOCATIONS, "tmp_lines": len(lines)}


def context_and_env(event, context):
    time.sleep(0.2)
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": context.identity,
        "client_context": context.client_context,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "env": {
            k: os.environ.get(k)
            for k in (
                "AWS_LAMBDA_FUNCTION_NAME",
                "_HANDLER",
                "AWS_REGION",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                "AWS_LAMBDA_FUNCTION_VERSION",
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "LAMBDA_TASK_ROOT",
                "TZ",
                "TABLE",
            )
        },
        "event": event,
    }


def fails(event, context):
    raise ValueError("the order has no id")


def loops_forever(event, context):
    print("about to loop")
    while True:
        pass


def spins_silently(event, context):
    """Never returns and never prints: only the parent, at the timeout, stops it."""
    while True:
        pass


def eats_memory(event, context):
    hog = []
    while True:
        hog.append(bytearray(16 * 1024 * 1024))


def exits(event, context):
    sys.exit(3)


def exits_hard(event, context):
    os._exit(4)


def returns_a_set(event, context):
    return {1, 2, 3}


def returns_decimals(event, context):
    """What a handler returning a DynamoDB item (numbers as Decimal) sends back."""
    import decimal

    return {"price": decimal.Decimal("19.99"), "stock": decimal.Decimal("3"), "big": decimal.Decimal("1E+2")}


def returns_too_much(event, context):
    return "x" * 7_000_000


def prints_a_flood(event, context):
    while True:
        print("x" * 10_000)


def fork_bomb(event, context):
    while True:
        try:
            os.fork()
        except OSError:
            pass


def spawns_and_returns(event, context):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    return {"child": child.pid}


def deletes_its_folder(event, context):
    for name in os.listdir("."):
        if os.path.isfile(name):
            os.remove(name)
    return sorted(os.listdir("."))


def echo(event, context):
    return event


def has_module(event, context):
    """Whether a module was imported before the handler asked (a fork server's preload)."""
    return {"loaded": event["module"] in sys.modules, "parent": os.getppid()}


def uses_literal_tmp(event, context):
    """Code as learners write it: the literal path /tmp."""
    path = "/tmp/" + event["file"]
    with open(path, "a") as cache:
        cache.write("x")
    with open(path) as cache:
        return {"size": len(cache.read()), "tmpdir": os.environ.get("TMPDIR")}


def writes_a_big_file(event, context):
    with open(os.path.join(os.environ["TMPDIR"], "big.bin"), "wb") as big:
        big.write(b"\0" * (3 * 1024 * 1024))
    return "written"


def sqs_partial(event, context):
    """Reports the poison messages of an SQS batch, as a partial batch response."""
    failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if json.loads(r["body"]).get("poison")]
    return {"batchItemFailures": failures}


def stream_partial(event, context):
    """Reports the first poison record of a Kinesis or DynamoDB batch by its sequence number, and those after it."""
    for record in event["Records"]:
        if "kinesis" in record:
            sequence, item = (
                record["kinesis"]["sequenceNumber"],
                json.loads(base64.b64decode(record["kinesis"]["data"])),
            )
        else:
            sequence, item = record["dynamodb"]["SequenceNumber"], record["dynamodb"]["NewImage"]
            item = {key: value.get("BOOL", value.get("S")) for key, value in item.items()}
        if item.get("poison"):
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
    return {"batchItemFailures": []}


def stream_event_shape(event, context):
    """Fails unless the event has the fields AWS documents for its stream (so a scenario can check the shape)."""
    record = event["Records"][0]
    if record["eventSource"] == "aws:kinesis":
        assert set(record["kinesis"]) == {
            "kinesisSchemaVersion",
            "partitionKey",
            "sequenceNumber",
            "data",
            "approximateArrivalTimestamp",
        }
        assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"
        assert json.loads(base64.b64decode(record["kinesis"]["data"])) == {"user": "ana"}
    else:
        assert record["eventName"] == "INSERT" and record["dynamodb"]["NewImage"] == {"user": {"S": "ana"}}
        assert record["dynamodb"]["Keys"] == {"user": {"S": "ana"}}  # the table's key (`key: user`), from the item
        assert record["eventSourceARN"].startswith("arn:aws:dynamodb:us-east-1:123456789012:table/")
    return None


def fifo_event_shape(event, context):
    """Fails unless each FIFO message carries its group id, deduplication id and sequence number."""
    for record in event["Records"]:
        attributes = record["attributes"]
        assert attributes["MessageGroupId"] == json.loads(record["body"])["customer"]
        assert len(attributes["MessageDeduplicationId"]) == 64 and attributes["SequenceNumber"].isdigit()
    return None


def edge_add_header(event, context):
    """A viewer-response function that adds a security header, as CloudFront expects it."""
    response = event["Records"][0]["cf"]["response"]
    response["headers"]["strict-transport-security"] = [
        {"key": "Strict-Transport-Security", "value": "max-age=63072000"}
    ]
    return response


def edge_bad_header(event, context):
    """Returns a header the wrong way: not lower-case, not a list."""
    response = event["Records"][0]["cf"]["response"]
    response["headers"]["X-Frame-Options"] = "DENY"
    return response


def edge_change_status(event, context):
    response = event["Records"][0]["cf"]["response"]
    response["status"] = "404"
    return response


def edge_redirect(event, context):
    """A viewer-request function that answers by itself."""
    return {
        "status": "302",
        "statusDescription": "Found",
        "headers": {"location": [{"key": "Location", "value": "https://example.com/new"}]},
    }


def edge_change_host(event, context):
    """Points the request at another host: read-only on viewer-request, allowed on origin-request."""
    request = event["Records"][0]["cf"]["request"]
    request["headers"]["host"] = [{"key": "Host", "value": "other.example.com"}]
    return request


def edge_add_x_cache(event, context):
    """Adds a header that CloudFront keeps to itself."""
    response = event["Records"][0]["cf"]["response"]
    response["headers"]["x-cache"] = [{"key": "X-Cache", "value": "Hit from lambdalab"}]
    return response


def edge_change_method(event, context):
    request = event["Records"][0]["cf"]["request"]
    request["method"] = "POST"
    return request


def fits_the_payload_limit(event, context):
    """Fails if Lambda would have refused this batch: its event as JSON passes the 6 MB synchronous limit."""
    size = len(json.dumps(event).encode())
    assert size <= 6 * 1024 * 1024, f"{size} bytes"
    return {"batchItemFailures": []}


WINDOW_FLAKY_SEEN = set()  # sequence numbers that already failed once in this environment
WINDOW_FINAL_FAILED = []  # whether a final invocation has failed once in this environment


def window_sum(event, context):
    """A tumbling window's aggregate: counts the window's Kinesis records and sums their `n` in its state. It
    prints each event without its records' data (WINDOW ...), fails the first try of a record marked flaky and
    the first final invocation it gets, so that a test sees what Lambda passes on after a failure."""
    seen = {key: value for key, value in event.items() if key != "Records"}
    seen["sequence_numbers"] = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    print("WINDOW " + json.dumps(seen))
    state = dict(event["state"])
    if event["isFinalInvokeForWindow"] and not WINDOW_FINAL_FAILED:
        WINDOW_FINAL_FAILED.append(True)
        raise RuntimeError("the first final invocation fails")
    for record in event["Records"]:
        item = json.loads(base64.b64decode(record["kinesis"]["data"]))
        sequence = record["kinesis"]["sequenceNumber"]
        if item.get("flaky") and sequence not in WINDOW_FLAKY_SEEN:
            WINDOW_FLAKY_SEEN.add(sequence)
            raise RuntimeError(f"record {sequence} fails its first try")
        state["count"] = state.get("count", 0) + 1
        state["sum"] = state.get("sum", 0) + item["n"]
    return {"state": state, "batchItemFailures": []}


def window_big_state(event, context):
    """Grows its state by 400,000 characters a record, so that the third record takes it past 1 MB."""
    seen = {key: value for key, value in event.items() if key not in ("Records", "state")}
    seen.update(records=len(event["Records"]), state_chars=len(event["state"].get("pad", "")))
    print("WINDOW " + json.dumps(seen))
    state = dict(event["state"])
    state["pad"] = state.get("pad", "") + "x" * 400_000 * len(event["Records"])
    return {"state": state}


def window_without_state(event, context):
    """Forgets the state: Lambda counts a response without it as a failed invocation."""
    return {"batchItemFailures": []}
