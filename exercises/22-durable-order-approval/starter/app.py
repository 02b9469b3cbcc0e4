"""An order workflow as a durable function (AWS's durable execution SDK for Python)."""

import shop
from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event, context: DurableContext):
    order_id = event["order_id"]
    shop.charge(order_id, event["amount"])

    # A person must approve the order before it ships: see the instructions.

    context.step(lambda step: shop.ship(order_id), name="ship")
    return {"order_id": order_id, "status": "shipped"}
