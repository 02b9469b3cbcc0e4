"""Charge an order. The order service invokes this function asynchronously (InvocationType=Event)
with {"order_id": "...", "amount_cents": ...} once an order is placed."""

from lambdalab.services import ConditionalCheckFailedException, Table

# The simulated charges table: each put stands for one real charge to the customer's card.
charges = Table("charges", key="order_id")


def handler(event, context):
    order_id = event["order_id"]  # the idempotency key: the same in every copy of the event
    try:
        # Charge only if this order has no charge yet: one atomic, conditional write
        # (DynamoDB: PutItem with ConditionExpression attribute_not_exists(order_id)).
        charges.put({"order_id": order_id, "amount_cents": event["amount_cents"]}, if_new=True)
    except ConditionalCheckFailedException:
        # A duplicate delivery: the work is already done, so this copy succeeds without doing it again.
        print(f"order {order_id} was already charged; nothing to do")
        return {"order_id": order_id, "status": "already-charged"}
    print(f"charged order {order_id}: {event['amount_cents']} cents")
    return {"order_id": order_id, "status": "charged"}
