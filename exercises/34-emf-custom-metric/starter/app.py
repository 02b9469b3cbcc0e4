"""Accept an order: {"order_id": "42", "amount": 25}. The amount must be a positive number.

The team wants two numbers on a CloudWatch dashboard: how much each order is worth, and how many orders
are rejected. Today they are only in free text, which no alarm can watch.
"""

import os

NAMESPACE = os.environ.get("METRICS_NAMESPACE", "")  # the CloudWatch namespace for this service's metrics
SERVICE = os.environ.get("SERVICE_NAME", "")  # the value of the Service dimension


def handler(event, context):
    order_id = event.get("order_id")
    amount = event.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
        print(f"order {order_id} rejected: amount {amount!r}")
        raise ValueError(f"order {order_id}: amount must be a positive number, got {amount!r}")
    print(f"order {order_id} accepted: {amount}")
    return {"order_id": order_id, "status": "accepted"}
