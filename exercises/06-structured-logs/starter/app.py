"""Accept an order: {"order_id": "42", "amount": 25}. The amount must be a positive number."""


def handler(event, context):
    order_id = event.get("order_id")
    print(f"Processing order {order_id}...")
    try:
        amount = event["amount"]
        if amount <= 0:
            raise ValueError(f"amount must be positive, got {amount}")
    except (KeyError, ValueError) as exc:
        print(f"Oops, order {order_id} went wrong: {exc}")
        return {"order_id": order_id, "status": "rejected"}
    print("Done!")
    return {"order_id": order_id, "status": "accepted"}
