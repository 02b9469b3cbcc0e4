"""Watch another function's REPORT lines. A CloudWatch Logs subscription filter on its log group
(/aws/lambda/NAME, filter pattern "REPORT") invokes this function with batches of log events."""

import base64
import gzip
import json


def fields(message):
    """A REPORT line's tab-separated fields: {"RequestId": "...", "Billed Duration": "147 ms", ...}."""
    out = {}
    for part in message.removeprefix("REPORT ").split("\t"):
        name, sep, value = part.partition(": ")
        if sep:
            out[name.strip()] = value.strip()
    return out


def handler(event, context):
    # The subscription sends the batch as base64 of gzip of JSON.
    batch = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    summary = {
        "function": batch["logGroup"].removeprefix("/aws/lambda/"),
        "requests": 0,
        "cold_starts": 0,
        "billed_ms": 0,
        "failed": {},
    }
    for log_event in batch["logEvents"]:
        message = log_event["message"]
        # The filter pattern "REPORT" also matches the function's own lines that mention the word.
        if not message.startswith("REPORT RequestId: "):
            continue
        report = fields(message)
        summary["requests"] += 1
        if "Init Duration" in report:  # only on a request that ran Init: a cold start
            summary["cold_starts"] += 1
        summary["billed_ms"] += int(report["Billed Duration"].split()[0])
        status = report.get("Status")
        if status == "timeout":
            summary["failed"][report["RequestId"]] = "timeout"
        elif status:
            summary["failed"][report["RequestId"]] = report.get("Error Type", status)
    return summary
