"""Record an order and greet the customer."""

import os

from lambdalab.services import Table

# Read once, during Init: a missing TABLE_NAME stops the function at once, with a KeyError naming it.
TABLE_NAME = os.environ["TABLE_NAME"]
GREETING = os.environ.get("GREETING", "Hello")

orders = Table(TABLE_NAME, key="order_id")


def handler(event, context):
    orders.put({"order_id": event["order_id"], "customer": event["name"]})
    return {"message": f"{GREETING}, {event['name']}!", "table": TABLE_NAME}
