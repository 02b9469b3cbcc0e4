"""Charge an order. The order service invokes this function asynchronously (InvocationType=Event)
with {"order_id": "...", "amount_cents": ...} once an order is placed."""

from lambdalab.services import Table

# The simulated charges table: each put stands for one real charge to the customer's card.
charges = Table("charges", key="order_id")


def handler(event, context):
    order_id = event["order_id"]
    charges.put({"order_id": order_id, "amount_cents": event["amount_cents"]})
    print(f"charged order {order_id}: {event['amount_cents']} cents")
    return {"order_id": order_id, "status": "charged"}
