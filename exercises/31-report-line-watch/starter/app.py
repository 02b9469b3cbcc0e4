"""Watch another function's REPORT lines. A CloudWatch Logs subscription filter on its log group
(/aws/lambda/NAME, filter pattern "REPORT") invokes this function with batches of log events."""

import base64
import json


def handler(event, context):
    batch = json.loads(base64.b64decode(event["awslogs"]["data"]))
    summary = {"function": batch["logGroup"], "requests": 0, "cold_starts": 0, "billed_ms": 0, "failed": {}}
    for log_event in batch["logEvents"]:
        message = log_event["message"]
        summary["requests"] += 1
        if "INIT_START" in message:
            summary["cold_starts"] += 1
        if "Duration: " in message:
            summary["billed_ms"] += int(float(message.split("Duration: ")[1].split(" ms")[0]))
        if "Task timed out" in message:
            summary["failed"][message.split()[1]] = "timeout"
    return summary
