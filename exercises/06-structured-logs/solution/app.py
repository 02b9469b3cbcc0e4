"""Accept an order: {"order_id": "42", "amount": 25}. The amount must be a positive number."""

import json


def log(context, level, message, **fields):
    """One log line: a JSON object with the level and this request's id, and nothing else on the line."""
    print(json.dumps({"level": level, "request_id": context.aws_request_id, "message": message, **fields}))


def handler(event, context):
    order_id = event.get("order_id")
    try:
        amount = event.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
            raise ValueError(f"order {order_id}: amount must be a positive number, got {amount!r}")
    except ValueError as exc:
        log(context, "ERROR", "order rejected", order_id=order_id, error=str(exc))
        raise  # Lambda records a function error: the Errors metric counts it, async retries see it
    log(context, "INFO", "order accepted", order_id=order_id, amount=amount)
    return {"order_id": order_id, "status": "accepted"}
