"""An order workflow as a durable function (AWS's durable execution SDK for Python)."""

import shop
from aws_durable_execution_sdk_python import CallbackTimeoutError, DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig


@durable_execution
def handler(event, context: DurableContext):
    order_id = event["order_id"]
    # In a step: its result is checkpointed, and every replay returns it without charging again.
    context.step(lambda step: shop.charge(order_id, event["amount"]), name="charge")

    def ask_for_approval(callback_id, step):
        print(f"approve order {order_id}: SendDurableExecutionCallbackSuccess --callback-id {callback_id}")

    try:
        context.wait_for_callback(
            ask_for_approval,
            name="approval",
            config=WaitForCallbackConfig(timeout=Duration.from_hours(event["approval_hours"])),
        )
    except CallbackTimeoutError:
        context.step(lambda step: shop.refund(order_id), name="refund")
        return {"order_id": order_id, "status": "cancelled"}

    context.step(lambda step: shop.ship(order_id), name="ship")
    return {"order_id": order_id, "status": "shipped"}
