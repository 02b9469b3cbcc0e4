"""Accept an order: {"order_id": "42", "amount": 25}. The amount must be a positive number.

Each request writes one line in CloudWatch's embedded metric format (EMF): CloudWatch Logs extracts the
metrics from it, with no PutMetricData call and no agent.
"""

import json
import os
import time

NAMESPACE = os.environ.get("METRICS_NAMESPACE", "")  # the CloudWatch namespace for this service's metrics
SERVICE = os.environ.get("SERVICE_NAME", "")  # the value of the Service dimension


def emit(metrics, units, **properties):
    """One EMF document on one line: the directive under _aws, then each metric and dimension by name."""
    document = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),  # milliseconds since the epoch
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Service"]],
                    "Metrics": [{"Name": name, "Unit": units[name]} for name in metrics],
                }
            ],
        },
        "Service": SERVICE,  # the dimension's value, a member of the root
        **metrics,  # each metric's value, a member of the root under the metric's name
        **properties,  # more fields: searchable in Logs Insights, not metrics
    }
    print(json.dumps(document))


def handler(event, context):
    order_id = event.get("order_id")
    amount = event.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
        emit({"OrdersRejected": 1}, {"OrdersRejected": "Count"}, order_id=order_id)
        raise ValueError(f"order {order_id}: amount must be a positive number, got {amount!r}")
    emit({"OrderAmount": amount}, {"OrderAmount": "None"}, order_id=order_id)
    return {"order_id": order_id, "status": "accepted"}
