"""Confirm an order as a durable function: total it, email the receipt, hold it for the cooling-off period,
then hand it to the warehouse (AWS's durable execution SDK for Python)."""

import mail
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event, context: DurableContext):
    order_id = event["order_id"]
    total = context.step(lambda step: sum(line["price"] * line["qty"] for line in event["lines"]), name="total")
    receipt = mail.send_receipt(order_id, event["email"], total)
    context.wait(Duration.from_minutes(event["hold_minutes"]), name="cooling-off")
    parcel = context.step(lambda step: f"parcel-{order_id}", name="ship")
    return {"order_id": order_id, "total": total, "receipt": receipt, "parcel": parcel}
